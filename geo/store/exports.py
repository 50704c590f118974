"""Exporting a city's features to a file (EPSG:4326), in the formats imports read.

The columns are the import columns (``external_id``, the table's attributes, parents by
external id), so an export can be edited and imported again.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from psycopg import sql
from sqlalchemy import Connection, text

from geo.crs.utm import WGS84
from geo.io.files import file_format, write_file
from geo.store.cities import get_city
from geo.store.imports import table_kind
from geo.store.write import SPECS


def _read_candidates(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    rows = conn.execute(text(
        "SELECT external_id, name, kind, cost, capacity, ST_AsBinary(geom) AS geom "
        "FROM siting_candidate WHERE city_id = :c ORDER BY external_id"), {"c": city_id}).all()
    frame = pd.DataFrame({
        "external_id": [r.external_id for r in rows], "name": [r.name for r in rows],
        "kind": [r.kind for r in rows],
        "cost": pd.array([r.cost for r in rows], dtype="Float64"),
        "capacity": pd.array([r.capacity for r in rows], dtype="Float64")})
    return gpd.GeoDataFrame(frame, geometry=list(shapely.from_wkb([bytes(r.geom) for r in rows])),
                            crs=WGS84)


def read_features(conn: Connection, city_id: int, kind: str) -> gpd.GeoDataFrame:
    """Features of ``kind`` (table name or CLI kind) of ``city_id`` with import columns.

    Ordered by external id; EPSG:4326; compound ``gates`` as a MultiPoint GeoSeries,
    timestamps tz-aware (UTC). Siting candidates (``candidates``) have ``name, kind, cost,
    capacity``.
    """
    if table_kind(kind) == "siting_candidate":
        return _read_candidates(conn, city_id)
    spec = SPECS[table_kind(kind)]
    cols: list[sql.Composable] = [sql.SQL("t.external_id")]
    names = ["external_id"]
    for c, typ in spec.columns:
        expr = (sql.SQL("ST_AsBinary(t.{}) AS {}") if typ == "geometry" else sql.SQL("t.{} AS {}"))
        cols.append(expr.format(sql.Identifier(c), sql.Identifier(c)))
        names.append(c)
    join: sql.Composable = sql.SQL("")
    if spec.parent:
        pcol, ptable, fk = spec.parent
        cols.append(sql.SQL("p.external_id AS {}").format(sql.Identifier(pcol)))
        names.append(pcol)
        join = sql.SQL(" LEFT JOIN {} p ON p.id = t.{}").format(sql.Identifier(ptable),
                                                               sql.Identifier(fk))
    cols.append(sql.SQL("ST_AsBinary(t.geom) AS geom"))
    q = sql.SQL("SELECT {} FROM {} t{} WHERE t.city_id = %(c)s ORDER BY t.external_id").format(
        sql.SQL(", ").join(cols), sql.Identifier(spec.table), join)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        rows = cur.execute(q, {"c": city_id}).fetchall()
    data = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    geom = shapely.from_wkb([bytes(r[-1]) for r in rows])
    frame = pd.DataFrame(data)
    for c, typ in spec.columns:
        if typ == "geometry":
            frame[c] = gpd.GeoSeries(
                [None if v is None else shapely.from_wkb(bytes(v)) for v in data[c]], crs=WGS84)
        elif typ == "timestamptz":
            frame[c] = pd.to_datetime(frame[c], utc=True)
        elif typ in ("integer", "smallint"):
            frame[c] = pd.array(data[c], dtype="Int64")
    return gpd.GeoDataFrame(frame, geometry=list(geom), crs=WGS84)


def export_features(conn: Connection, city_code: str, kind: str, path: str | Path) -> int:
    """Write the ``kind`` features of city ``city_code`` to ``path`` (format by extension:
    .geojson, .gpkg, .shp/.zip, .csv, .parquet, .xlsx); returns the number of rows."""
    path = Path(path)
    file_format(path)
    city = get_city(conn, city_code)
    gdf = read_features(conn, city.id, kind)
    write_file(gdf, path)
    return len(gdf)


def count_features(conn: Connection, city_id: int, kind: str) -> int:
    """Number of ``kind`` features stored for ``city_id``."""
    table = table_kind(kind)
    return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE city_id = :c"),
                            {"c": city_id}).scalar_one())
