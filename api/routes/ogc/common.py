"""What the OGC API – Features routes share: links, formats, CRSs and parameter checks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from geo.crs.ogc import CRS84_URI, GEOGRAPHIC, crs_uri
from geo.errors import Problem, QueryParameterError
from geo.store.cities import list_cities

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
#: Values of ``f`` and what they select.
FORMATS = {"json": "json", "geojson": "json", "html": "html"}
#: Conformance classes implemented (OGC API – Features Parts 1, 2 and 3; CQL2).
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sorting",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
]
#: Query parameters of ``/items`` other than queryable properties. ``lang`` picks the
#: language of HTML pages.
ITEMS_PARAMETERS = ("bbox", "bbox-crs", "crs", "limit", "offset", "city", "f", "lang",
                    "datetime", "filter", "filter-lang", "filter-crs", "sortby", "at")
#: Query parameters of the other OGC resources.
RESOURCE_PARAMETERS = ("f", "lang", "city", "crs")


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def output_format(request: Request, f: str | None) -> str:
    """``json`` or ``html``: ``f`` if given (400 if unknown), else ``html`` when the
    ``Accept`` header asks for it before JSON (a web browser), else ``json``."""
    if f is not None:
        if f.lower() not in FORMATS:
            raise QueryParameterError("unknown format", [Problem(
                f"f={f!r} is not offered; use one of {', '.join(FORMATS)}", field="f")])
        return FORMATS[f.lower()]
    accept = request.headers.get("accept", "").lower()
    html_at = accept.find(HTML)
    json_at = min((i for i in (accept.find("json"),) if i >= 0), default=-1)
    if html_at >= 0 and (json_at < 0 or html_at < json_at):
        return "html"
    return "json"


def alternates(href: str, fmt: str, json_type: str) -> list[dict[str, str]]:
    """``self`` and ``alternate`` links of a resource offered as JSON and HTML."""
    sep = "&" if "?" in href else "?"
    j = link(f"{href}{sep}f=json", "self" if fmt == "json" else "alternate", json_type,
             "This document as JSON" if fmt == "json" else "As JSON")
    h = link(f"{href}{sep}f=html", "self" if fmt == "html" else "alternate", HTML,
             "This document as HTML" if fmt == "html" else "As HTML")
    return [j, h] if fmt == "json" else [h, j]


def check_parameters(params: Iterable[str], known: Iterable[str],
                     properties: Iterable[str] = ()) -> None:
    """400 naming every query parameter that is neither ``known`` nor a property, with the
    closest known name suggested."""
    names = [*known, *properties]
    problems = []
    for p in params:
        if p in names:
            continue
        close = difflib.get_close_matches(p, names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(Problem(f"unknown query parameter {p!r}{hint} Parameters: "
                                f"{', '.join(known)}; properties: "
                                f"{', '.join(properties) or 'none'}", field=p))
    if problems:
        raise QueryParameterError("unknown query parameter", problems)


def served_crs(conn: Connection) -> tuple[str, ...]:
    """URIs of the CRSs features are served in: CRS84, EPSG:4326, CGCS2000 (EPSG:4490) and
    the metric (UTM) CRS of every city."""
    zones = sorted({c.metric_epsg for c in list_cities(conn)})
    return (CRS84_URI, *(crs_uri(c) for c in GEOGRAPHIC), *(crs_uri(z) for z in zones))


def query_without(params: Mapping[str, str], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in drop}
