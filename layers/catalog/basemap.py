"""The offline basemap from each city's OpenStreetMap extract (© OpenStreetMap contributors).

Written by ``servicecircle city add`` and the demo loader (tables ``basemap_line``,
``basemap_area``, ``basemap_point``); the map draws these layers together from one tile
source, ``/tiles/basemap/{z}/{x}/{y}.mvt`` (one MVT layer per catalogue layer), styled by
:mod:`layers.maplibre`.
"""

from __future__ import annotations

from layers.registry import GeometryType, Layer, Source, Style

_COLS = ("kind", "name", "name_zh", "name_en")
#: (layer, table, geometry type, minzoom, zh title, en title, colour)
_LAYERS: tuple[tuple[str, str, GeometryType, int, str, str, str], ...] = (
    ("builtup", "basemap_area", "MultiPolygon", 10, "建成区", "Built-up areas", "#ebe3dc"),
    ("green", "basemap_area", "MultiPolygon", 10, "绿地", "Green areas", "#cde6c0"),
    ("water", "basemap_area", "MultiPolygon", 8, "水域", "Water", "#a7cbe6"),
    ("waterways", "basemap_line", "MultiLineString", 10, "河流水渠", "Waterways", "#a7cbe6"),
    ("buildings", "basemap_area", "MultiPolygon", 14, "建筑", "Buildings", "#d8cfc7"),
    ("roads", "basemap_line", "MultiLineString", 10, "道路", "Roads", "#ffffff"),
    ("labels", "basemap_point", "Point", 10, "地名", "Place names", "#555555"),
)

#: Zoom up to which basemap tiles are made (the map enlarges them beyond).
MAXZOOM = 16

LAYERS: tuple[Layer, ...] = tuple(
    Layer(
        name=f"basemap_{key}", title_zh=f"底图：{zh}", title_en=f"Basemap: {en.lower()}",
        geometry_type=geometry, minzoom=minzoom, maxzoom=MAXZOOM, group="basemap",
        source=Source(table, columns=(*_COLS, "rank") if key == "labels" else _COLS,
                      filters=(("layer", key),), name_column="name" if key == "labels" else None,
                      version_tables=(table,)),
        style=Style("line" if geometry == "MultiLineString" else
                    "circle" if geometry == "Point" else "fill", color, fill_opacity=1.0),
        description_zh=f"OpenStreetMap {zh}（© OpenStreetMap contributors）",
        description_en=f"OpenStreetMap {en.lower()} (© OpenStreetMap contributors)",
    )
    for key, table, geometry, minzoom, zh, en, color in _LAYERS
)
