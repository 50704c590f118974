"""Storing a city's basemap (:class:`geo.basemap.BasemapExtract`) in PostGIS."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.basemap import BasemapExtract
from geo.crs.utm import WGS84

#: Basemap table by geometry family.
TABLES: dict[str, str] = {"line": "basemap_line", "area": "basemap_area", "point": "basemap_point"}
_FAMILY = {"LineString": "line", "MultiLineString": "line", "Polygon": "area",
           "MultiPolygon": "area", "Point": "point"}


def _opt(v: Any) -> Any:
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def write_basemap(conn: Connection, city_id: int, extract: BasemapExtract) -> dict[str, int]:
    """Replace the basemap of city ``city_id`` (bulk COPY; the caller commits).

    Lines and polygons are stored as multi-geometries; a feature of another geometry type
    (e.g. a collection left by clipping) keeps its parts of the table's family. Returns the
    rows written per table.
    """
    for table in TABLES.values():
        conn.execute(text(f"DELETE FROM {table} WHERE city_id = :c"), {"c": city_id})
    gdf = extract.features.explode(index_parts=False)
    family = gdf.geom_type.map(_FAMILY)
    counts: dict[str, int] = {}
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        for fam, table in TABLES.items():
            part = gdf[family == fam]
            geoms = part.geometry.values
            if fam == "line":
                geoms = shapely.multilinestrings([[g] for g in geoms]) if len(geoms) else geoms
            elif fam == "area":
                geoms = shapely.multipolygons([[g] for g in geoms]) if len(geoms) else geoms
            wkb = shapely.to_wkb(shapely.set_srid(geoms, WGS84), hex=True, include_srid=True)
            with cur.copy(f"COPY {table} (city_id, layer, kind, name, name_zh, name_en, rank, "
                          "osm_id, geom) FROM STDIN") as cp:
                for row, g in zip(part[["layer", "kind", "name", "name_zh", "name_en", "rank",
                                        "osm_id"]].itertuples(index=False), wkb, strict=True):
                    cp.write_row((city_id, row.layer, _opt(row.kind), _opt(row.name),
                                  _opt(row.name_zh), _opt(row.name_en), int(row.rank),
                                  _opt(row.osm_id), g))
            counts[table] = len(part)
    return counts


def read_stored_basemap(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """The stored basemap of city ``city_id`` (:data:`geo.basemap.BASEMAP_LAYERS`: roads,
    water, green, labels in Chinese, …) as one GeoDataFrame in EPSG:4326 with the columns
    of :class:`~geo.basemap.BasemapExtract`; empty when the city has none. Rows are ordered
    by table and id."""
    frames = []
    for table in TABLES.values():
        rows = conn.execute(text(
            f"SELECT layer, kind, name, name_zh, name_en, rank, osm_id, ST_AsBinary(geom) AS g "
            f"FROM {table} WHERE city_id = :c ORDER BY id"), {"c": city_id}).all()
        frames.append(gpd.GeoDataFrame(
            {c: [getattr(r, c) for r in rows]
             for c in ("layer", "kind", "name", "name_zh", "name_en", "rank", "osm_id")},
            geometry=shapely.from_wkb([bytes(r.g) for r in rows]), crs=WGS84))
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)
