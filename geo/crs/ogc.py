"""Coordinate reference systems as OGC API – Features Part 2 names them.

A CRS is given as an OGC URI (``http://www.opengis.net/def/crs/EPSG/0/4326``), a safe
CURIE (``[EPSG:4326]``) or a short code (``EPSG:4326``, ``CRS84``). Served here:

- ``CRS84``: WGS-84 longitude/latitude (the GeoJSON default, RFC 7946);
- ``EPSG:4326``: WGS-84 with the EPSG axis order **latitude, longitude**;
- ``EPSG:4490``: CGCS2000 (China Geodetic Coordinate System 2000), latitude, longitude;
  it coincides with WGS-84 to within centimetres, so coordinates are the same numbers;
- a WGS-84 UTM zone (``EPSG:326xx``), easting/northing in metres: the metric CRS the
  analyses use (:func:`geo.crs.utm.utm_epsg` of a city's centre).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.errors import Problem, QueryParameterError

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
#: Geographic CRSs served besides CRS84 (EPSG axis order: latitude first).
GEOGRAPHIC = (4326, 4490)

_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/(EPSG/0|OGC/1\.3|OGC/0)/([A-Za-z0-9]+)$")
_SHORT = re.compile(r"^\[?(EPSG|OGC):(?:[0-9.]+:)?([A-Za-z0-9]+)\]?$", re.IGNORECASE)


@dataclass(frozen=True)
class OutputCRS:
    """A CRS features can be served in: PostGIS ``srid`` and whether latitude comes first."""

    srid: int
    lat_first: bool
    uri: str

    @property
    def is_crs84(self) -> bool:
        return self.uri == CRS84_URI


CRS84 = OutputCRS(4326, False, CRS84_URI)


def is_utm(code: int) -> bool:
    """Whether ``code`` is a WGS-84 UTM zone (EPSG:32601–32660, 32701–32760)."""
    return 32601 <= code <= 32660 or 32701 <= code <= 32760


def crs_uri(code: int) -> str:
    """The OGC URI of an EPSG code."""
    return EPSG_URI.format(code=code)


def parse_crs(value: str, allowed: tuple[str, ...], *, field: str = "crs") -> OutputCRS:
    """The CRS named by ``value`` if its URI is one of ``allowed``; else :class:`QueryParameterError` (400).

    ``allowed`` holds URIs (as listed in a collection's ``crs``); unknown or unlisted
    CRSs are refused with the list.
    """
    text = value.strip()
    uri = None
    m = _URI.match(text)
    if m:
        auth, code = m.groups()
        uri = CRS84_URI if code.upper() == "CRS84" else (
            crs_uri(int(code)) if auth == "EPSG/0" and code.isdigit() else None)
    else:
        m = _SHORT.match(text)
        if m:
            auth, code = m.groups()
            if code.upper() == "CRS84":
                uri = CRS84_URI
            elif auth.upper() == "EPSG" and code.isdigit():
                uri = crs_uri(int(code))
        elif text.upper() == "CRS84":
            uri = CRS84_URI
    if uri is None or uri not in allowed:
        raise QueryParameterError(f"unsupported {field}", [Problem(
            f"{value!r} is not a supported CRS; use one of {', '.join(allowed)}", field=field)])
    if uri == CRS84_URI:
        return CRS84
    code = int(uri.rsplit("/", 1)[1])
    return OutputCRS(code, code in GEOGRAPHIC, uri)


def content_crs_header(crs: OutputCRS) -> str:
    """The ``Content-Crs`` header value (``<uri>``)."""
    return f"<{crs.uri}>"
