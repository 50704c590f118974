"""Basemap features of an OpenStreetMap extract (.osm XML or .osm.pbf), EPSG:4326.

What a planner needs to recognise a place, and nothing more (OpenStreetMap Carto's
choices, much reduced):

- ``roads`` (lines): every ``highway`` way that is not an area, ``kind`` = its highway
  class; railways (``kind`` = ``rail``/``subway``/``light_rail``);
- ``waterways`` (lines): rivers, streams, canals, drains and ditches;
- ``water`` (areas): ``natural=water``, ``water=*``, ``waterway=riverbank``,
  ``landuse=reservoir|basin``;
- ``green`` (areas): parks, gardens, grass, forest, woods, meadows, pitches, cemeteries…;
- ``builtup`` (areas): residential, commercial, industrial and retail land use, campuses,
  schools and hospitals (``kind`` = the landuse or amenity value);
- ``buildings`` (areas): ``building=*``;
- ``labels`` (points): named places (``place=*``), amenities, shops, tourism, leisure and
  stations given as nodes, and one point inside each named area of the layers above
  (``rank`` 1 = most prominent: places, then campuses and parks by size, then points of
  interest).

Names: ``name``, ``name_zh`` (``name:zh``, else ``name:zh-Hans``) and ``name_en``
(``name:en``). Geometries are clipped to the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import osmium
import pandas as pd
import shapely
from shapely.geometry import box

from geo.crs.utm import WGS84
from geo.errors import InvalidInputError, Problem
from geo.network.osm import BBox, check_bbox, file_bounds

#: The layers of the basemap, bottom to top.
BASEMAP_LAYERS: tuple[str, ...] = ("builtup", "green", "water", "waterways", "buildings",
                                   "roads", "labels")
COLUMNS = ("layer", "kind", "name", "name_zh", "name_en", "rank", "osm_id", "geometry")

_WATERWAYS = {"river", "stream", "canal", "drain", "ditch"}
_RAIL = {"rail", "subway", "light_rail", "tram"}
_GREEN_LEISURE = {"park", "garden", "pitch", "golf_course", "playground", "nature_reserve",
                  "common", "recreation_ground"}
_GREEN_LANDUSE = {"grass", "forest", "meadow", "recreation_ground", "village_green",
                  "cemetery", "orchard", "allotments", "park", "greenery", "farmland",
                  "plant_nursery"}
_GREEN_NATURAL = {"wood", "grassland", "scrub", "heath"}
_BUILTUP_LANDUSE = {"residential", "commercial", "industrial", "retail", "education",
                    "construction", "railway", "military"}
_CAMPUS = {"university", "college", "school", "hospital", "kindergarten"}
_POI_KEYS = ("amenity", "shop", "tourism", "leisure", "railway", "public_transport", "office",
             "historic")
_NOT_PLACES = {"level_crossing", "crossing", "stop_position", "platform", "stop", "switch",
               "buffer_stop", "bench", "waste_basket", "bicycle_parking", "parking_entrance"}
_FAMILY = {"roads": "line", "waterways": "line", "labels": "point", "water": "area",
           "green": "area", "builtup": "area", "buildings": "area"}
_GEOM_FAMILY = {"LineString": "line", "MultiLineString": "line", "Point": "point",
                "Polygon": "area", "MultiPolygon": "area"}
#: Label rank by kind of named area (1 = shown first, at the lowest zoom).
_AREA_RANK = {"university": 1, "college": 2, "hospital": 2, "park": 2, "water": 2,
              "school": 3}


def _names(tags: Any) -> tuple[str | None, str | None, str | None]:
    name = tags.get("name")
    zh = tags.get("name:zh") or tags.get("name:zh-Hans")
    return name, zh, tags.get("name:en")


def _area_layer(tags: Any) -> tuple[str, str] | None:
    """``(layer, kind)`` of an area with these tags, or ``None``."""
    if "building" in tags and tags.get("building") != "no":
        return "buildings", tags.get("building") or "yes"
    if (tags.get("natural") == "water" or "water" in tags
            or tags.get("waterway") == "riverbank"
            or tags.get("landuse") in ("reservoir", "basin")):
        return "water", tags.get("water") or "water"
    leisure, landuse, natural = tags.get("leisure"), tags.get("landuse"), tags.get("natural")
    if leisure in _GREEN_LEISURE:
        return "green", leisure
    if landuse in _GREEN_LANDUSE:
        return "green", landuse
    if natural in _GREEN_NATURAL:
        return "green", natural
    if tags.get("amenity") in _CAMPUS:
        return "builtup", tags.get("amenity")
    if landuse in _BUILTUP_LANDUSE:
        return "builtup", landuse
    return None


class _Collector(osmium.SimpleHandler):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[Any, ...]] = []
        self.wkb = osmium.geom.WKBFactory()

    def _add(self, layer: str, kind: str, tags: Any, osm_id: int, wkb: str,
             rank: int = 9) -> None:
        name, zh, en = _names(tags)
        self.rows.append((layer, kind, name, zh, en, rank, osm_id, bytes.fromhex(wkb)))

    def node(self, n: Any) -> None:
        tags = n.tags
        if "name" not in tags or not n.location.valid():
            return
        if "place" in tags:
            kind, rank = tags.get("place"), 1
        else:
            key = next((k for k in _POI_KEYS if k in tags), None)
            if key is None:
                return
            kind, rank = tags.get(key), 4
            if kind in _NOT_PLACES:
                return
        self._add("labels", kind, tags, n.id, self.wkb.create_point(n), rank)

    def way(self, w: Any) -> None:
        tags = w.tags
        hw, ww, rail = tags.get("highway"), tags.get("waterway"), tags.get("railway")
        if tags.get("area") == "yes" or not (hw or ww in _WATERWAYS or rail in _RAIL):
            return
        try:
            wkb = self.wkb.create_linestring(w)
        except (RuntimeError, osmium.InvalidLocationError):
            return  # nodes outside the extract or fewer than two locations
        if hw:
            self._add("roads", hw, tags, w.id, wkb)
        elif rail in _RAIL:
            self._add("roads", rail, tags, w.id, wkb)
        else:
            self._add("waterways", ww, tags, w.id, wkb)

    def area(self, a: Any) -> None:
        found = _area_layer(a.tags)
        if found is None:
            return
        try:
            wkb = self.wkb.create_multipolygon(a)
        except (RuntimeError, osmium.InvalidLocationError):
            return
        oid = a.orig_id() if a.from_way() else -a.orig_id()
        self._add(found[0], found[1], a.tags, oid, wkb)


@dataclass(frozen=True)
class BasemapExtract:
    """Basemap features (``features``: columns of :data:`COLUMNS`, EPSG:4326) and bounds."""

    bounds: tuple[float, float, float, float]
    features: gpd.GeoDataFrame

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """The features of one layer of :data:`BASEMAP_LAYERS`."""
        return self.features[self.features["layer"] == name]


def read_basemap(path: str | Path, *, bbox: BBox | None = None) -> BasemapExtract:
    """Basemap features of the extract at ``path`` clipped to ``bbox`` (else its ``<bounds>``).

    :class:`InvalidInputError` when the file is missing or unreadable, or has neither
    ``bbox`` nor bounds.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"OSM file not found: {path}", [Problem("no such file", field="osm")])
    handler = _Collector()
    try:
        file_box = file_bounds(path)
        handler.apply_file(str(path), locations=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise InvalidInputError(f"not a readable OSM file: {path.name}",
                                [Problem(str(exc).splitlines()[0] if str(exc) else "unreadable",
                                         field="osm")]) from None
    bounds = check_bbox(bbox) if bbox is not None else file_box
    if bounds is None:
        raise InvalidInputError(f"{path.name} has no <bounds>; give a bbox",
                                [Problem("no bounds in file and no bbox given", field="bbox")])
    frame = _frame(handler.rows, bounds)
    return BasemapExtract(bounds=tuple(bounds), features=frame)  # type: ignore[arg-type]


def _frame(rows: list[tuple[Any, ...]], bounds: BBox) -> gpd.GeoDataFrame:
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    geoms = shapely.from_wkb(list(cols[-1])) if rows else []
    gdf = gpd.GeoDataFrame({c: list(v) for c, v in zip(COLUMNS[:-1], cols[:-1], strict=True)},
                           geometry=list(geoms), crs=WGS84)
    if gdf.empty:
        return gdf
    clip = box(*bounds)
    gdf = gdf[gdf.intersects(clip)].copy()
    gdf["geometry"] = shapely.make_valid(shapely.clip_by_rect(gdf.geometry.values, *bounds))
    # clipping can leave a polygon's edge as a line (or a line's end as a point): keep
    # each layer's own kind of geometry only
    gdf = gdf.explode(index_parts=False)
    family = gdf["layer"].map(_FAMILY)
    gdf = gdf[~gdf.geometry.is_empty & (gdf.geom_type.map(_GEOM_FAMILY) == family)]
    # one label point inside each named area (campuses, parks, lakes …)
    named = gdf[gdf["name"].notna() & gdf.geom_type.isin(["Polygon", "MultiPolygon"])
                & (gdf["layer"] != "buildings")]
    if not named.empty:  # the parts of one OSM area together again
        named = named.dissolve(by=["layer", "osm_id"], aggfunc="first", as_index=False)
        pts = named.copy()
        area = shapely.area(named.geometry.values)  # square degrees: a size order only
        pts["geometry"] = named.geometry.representative_point()
        pts["rank"] = [_AREA_RANK.get(k, 5) if a > 1e-5 else 6  # > ~0.1 km²
                       for k, a in zip(named["kind"], area, strict=True)]
        pts["rank"] = [_AREA_RANK.get("water", 2) if lyr == "water" and r < 6 else r
                       for lyr, r in zip(named["layer"], pts["rank"], strict=True)]
        pts["layer"] = "labels"
        gdf = gpd.GeoDataFrame(pd.concat([gdf, pts], ignore_index=True), geometry="geometry",
                               crs=WGS84)
    return gdf.reset_index(drop=True)[list(COLUMNS)]

