"""Optional online basemaps (raster tiles) by configuration; the offline one is the default.

``settings.basemap`` chooses (see :class:`geo.settings.Settings`):

- ``tianditu`` — 天地图 vector map and its annotation (Web Mercator ``_w`` layers), with
  the key ``settings.basemap_key``; CGCS2000 differs from WGS-84 by centimetres, so our
  data is drawn unshifted.
- ``amap`` (高德) and ``tencent`` (腾讯) — their tiles are in GCJ-02, which is WGS-84 moved
  by a few hundred metres by a published formula (:mod:`geo.crs.chinese`). The map keeps
  our data in WGS-84 and shifts the *tiles* instead: the style's ``metadata`` gives the
  shift at the city's centre (``sc:gcj02_shift``, degrees east/north) and the provider's
  tile template (``sc:gcj02_tiles``); its raster source asks for ``gcj02://{z}/{x}/{y}``,
  which the web map answers by cutting the WGS-84 tile out of the provider's tiles moved
  by the shift (``map.js``). Across a city of 20 km the formula's shift varies by under
  ~10 m, the error of one constant shift.
- ``xyz`` — any XYZ raster template in ``settings.basemap_url`` (its own attribution).

Every online basemap shows its provider's attribution and the review number (审图号)
``settings.basemap_review_number``, which the operator copies from the provider's terms
(they change; none is invented here).
"""

from __future__ import annotations

from typing import Any

from geo.crs.chinese import wgs84_to_gcj02
from geo.errors import InvalidInputError, Problem
from geo.settings import Settings

#: Providers: tile templates ({k} = the key), attribution, datum.
PROVIDERS: dict[str, dict[str, Any]] = {
    "tianditu": {
        "tiles": [f"https://t{i}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                  f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                  "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={k}"
                  for layer in ("vec", "cva") for i in range(2)],
        "layers": ("vec", "cva"), "attribution": "© 天地图 国家地理信息公共服务平台",
        "datum": "cgcs2000", "needs_key": True},
    "amap": {
        "tiles": [("https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                   "&style=8&x={x}&y={y}&z={z}")],
        "attribution": "© 高德地图 AutoNavi", "datum": "gcj02", "needs_key": False},
    "tencent": {
        "tiles": ["https://rt0.map.gtimg.com/realtimerender?z={z}&x={x}&y={y}&type=vector&style=0"],
        "attribution": "© 腾讯地图 Tencent", "datum": "gcj02", "needs_key": False,
        "scheme": "tms"},
}
ONLINE = (*PROVIDERS, "xyz")
#: The tile address a GCJ-02 provider's raster source asks for (answered by the web map).
GCJ02_TILES = "gcj02://{z}/{x}/{y}"


def check_basemap(settings: Settings) -> None:
    """:class:`InvalidInputError` for an unknown basemap or a missing key/URL."""
    problems: list[Problem] = []
    name = settings.basemap
    if name not in ("osm", *ONLINE):
        problems.append(Problem(f"{name!r} is not one of osm, {', '.join(ONLINE)}",
                                field="basemap"))
    elif name in PROVIDERS and PROVIDERS[name]["needs_key"] and not settings.basemap_key:
        problems.append(Problem(f"{name} needs SERVICECIRCLE_BASEMAP_KEY", field="basemap_key"))
    elif name == "xyz" and not settings.basemap_url:
        problems.append(Problem("xyz needs SERVICECIRCLE_BASEMAP_URL", field="basemap_url"))
    if problems:
        raise InvalidInputError("invalid basemap settings", problems)


def gcj02_shift(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at (lon, lat), degrees (east, north)."""
    glon, glat = wgs84_to_gcj02(lon, lat)
    return float(glon) - lon, float(glat) - lat


def online_basemap(settings: Settings, *, center: tuple[float, float] | None
                   ) -> dict[str, Any] | None:
    """The raster source, style layers and metadata of the configured online basemap,
    or ``None`` for the offline one (``basemap = osm`` with no ``basemap_url``)."""
    name = settings.basemap
    if name == "osm" and settings.basemap_url:
        name = "xyz"  # the older setting alone: a plain XYZ basemap
    if name == "osm":
        return None
    check_basemap(settings)
    review = settings.basemap_review_number
    if name == "xyz":
        provider: dict[str, Any] = {"tiles": [settings.basemap_url], "attribution": "",
                                    "datum": "wgs84"}
    else:
        provider = PROVIDERS[name]
    tiles = [t.replace("{k}", settings.basemap_key or "") for t in provider["tiles"]]
    attribution = " · ".join(a for a in (provider["attribution"], review and f"审图号 {review}",
                                         "© OpenStreetMap contributors") if a)
    groups = [[t for t in tiles if f"LAYER={lyr}&" in t] for lyr in provider.get("layers", ())]
    groups = [g for g in groups if g] or [tiles]
    gcj = provider["datum"] == "gcj02"
    sources = {f"online{i}": {"type": "raster",
                              "tiles": [GCJ02_TILES] if gcj else g, "tileSize": 256, "maxzoom": 18,
                              "attribution": attribution if i == 0 else ""}
               for i, g in enumerate(groups)}
    layers = [{"id": f"basemap:{sid}", "type": "raster", "source": sid,
               "metadata": {"sc:group": "basemap", "sc:part": "basemap"}} for sid in sources]
    shift = (0.0, 0.0)
    if provider["datum"] == "gcj02" and center is not None:
        shift = gcj02_shift(*center)
    return {"name": name, "sources": sources, "layers": layers,
            "metadata": {"sc:basemap": name, "sc:datum": provider["datum"],
                         "sc:gcj02_shift": list(shift), "sc:review_number": review,
                         **({"sc:gcj02_tiles": tiles,
                             "sc:gcj02_tms": provider.get("scheme") == "tms"} if gcj else {})}}
