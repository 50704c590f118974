"""Bulk insert-or-update of governance units, service points and grid cases.

Rows in problems are numbered from 1 in frame order. Rows are matched by
``(city_id, external_id)``: writing the same external id again
updates that row. Data goes through ``COPY`` into a temporary staging table and then one
``INSERT … SELECT … ON CONFLICT … DO UPDATE`` per call, so tens of thousands of rows take
well under a second or two. Rows are written in external-id order, so concurrent writes of
overlapping ids lock them in one order and cannot deadlock each other. Geometries are
EPSG:4326. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from psycopg import errors as pg_errors
from psycopg import sql
from sqlalchemy import Connection, text

from geo.crs.utm import WGS84
from geo.errors import CRSError, InvalidInputError, Problem

KINDS = ("street", "community", "grid", "compound", "service_point", "grid_case")
SOURCES = ("osm", "generated", "import")
_STAGE = "_sc_stage"
#: Timestamps without a zone are China Standard Time (as in :mod:`geo.io.validate`).
LOCAL_TZ = "Asia/Shanghai"
_MAX_LISTED = 50


@dataclass(frozen=True)
class KindSpec:
    """How one kind of feature maps onto its table.

    ``columns`` are (name, SQL type) of the table's own attribute columns; ``parent`` is
    (input column holding the parent's external id, parent table, FK column).
    """

    table: str
    columns: tuple[tuple[str, str], ...]
    required: tuple[str, ...]
    geom_types: tuple[str, ...]
    parent: tuple[str, str, str] | None = None


SPECS: dict[str, KindSpec] = {
    "street": KindSpec("street", (("name", "text"),), ("name",), ("Polygon", "MultiPolygon")),
    "community": KindSpec("community", (("name", "text"),), ("name",),
                          ("Polygon", "MultiPolygon"), ("street", "street", "street_id")),
    "grid": KindSpec("grid", (("name", "text"),), ("name",), ("Polygon", "MultiPolygon"),
                     ("community", "community", "community_id")),
    "compound": KindSpec(
        "compound",
        (("name", "text"), ("households", "integer"), ("residents", "integer"),
         ("elderly", "integer"), ("property_management", "text"), ("gates", "geometry"),
         ("age_0_14", "integer"), ("age_15_59", "integer")),
        ("name", "households", "residents"), ("Polygon", "MultiPolygon"),
        ("community", "community", "community_id")),
    "service_point": KindSpec(
        "service_point",
        (("type", "text"), ("name", "text"), ("address", "text"), ("opening_hours", "text"),
         ("services", "text[]"), ("capacity", "integer"), ("floor_area_m2", "double precision")),
        ("type", "name"), ("Point",)),
    "grid_case": KindSpec(
        "grid_case",
        (("category", "text"), ("reported_at", "timestamptz"), ("closed_at", "timestamptz"),
         ("status", "text"), ("satisfaction", "smallint"), ("handling_unit", "text"),
         ("channel", "text"), ("description", "text")),
        ("category", "reported_at", "status"), ("Point",)),
}

#: Defaults for columns that are NOT NULL with a server default in the schema.
_DEFAULTS: dict[str, Any] = {"property_management": "unknown", "services": []}


@dataclass(frozen=True)
class WriteCounts:
    """Rows inserted and updated by one :func:`upsert_counts` call."""

    inserted: int
    updated: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def _spec(kind: str) -> KindSpec:
    if kind not in SPECS:
        raise InvalidInputError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}",
                                [Problem("unknown kind", field="kind")])
    return SPECS[kind]


def _is_null(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (list, tuple, np.ndarray)):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _ewkb(geoms: Any) -> list[str | None]:
    arr = np.asarray(geoms, dtype=object)
    out: list[str | None] = [None] * len(arr)
    present = ~shapely.is_missing(arr)
    if present.any():
        g = shapely.set_srid(arr[present], WGS84)
        hexes = shapely.to_wkb(g, hex=True, include_srid=True)
        for i, h in zip(np.flatnonzero(present), hexes, strict=True):
            out[i] = h
    return out


def _promote(geoms: np.ndarray, single: str, multi: Any) -> np.ndarray:
    types = shapely.get_type_id(geoms)
    single_id = {"Polygon": 3, "Point": 0}[single]
    out = geoms.copy()
    for i in np.flatnonzero(types == single_id):
        out[i] = multi([geoms[i]])
    return out


def _check_geometry(gdf: gpd.GeoDataFrame, spec: KindSpec) -> list[Problem]:
    problems: list[Problem] = []
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms)
    types = np.array([g.geom_type if g is not None else None for g in geoms], dtype=object)
    for i in np.flatnonzero(missing):
        problems.append(Problem("missing geometry", row=int(i) + 1, field="geometry"))
    for i in np.flatnonzero(~missing & ~np.isin(types, spec.geom_types)):
        problems.append(Problem(f"geometry is {types[i]}; expected {' or '.join(spec.geom_types)}",
                                row=int(i) + 1, field="geometry"))
    bad = ~missing & (shapely.is_empty(geoms) | ~shapely.is_valid(geoms))
    for i in np.flatnonzero(bad):
        problems.append(Problem("geometry is empty or invalid", row=int(i) + 1, field="geometry"))
    return problems


def _prepare(gdf: gpd.GeoDataFrame, spec: KindSpec) -> tuple[list[str], list[list[Any]]]:
    """Column names of the staging table and the column-wise values to COPY."""
    problems = _check_geometry(gdf, spec)
    if "external_id" not in gdf.columns:
        problems.append(Problem("missing column", field="external_id"))
    for col in spec.required:
        if col not in gdf.columns:
            problems.append(Problem("missing column", field=col))
    if problems:
        raise InvalidInputError(f"cannot write {spec.table} rows", problems[:_MAX_LISTED])
    ext = gdf["external_id"]
    for i in np.flatnonzero(ext.isna().to_numpy() | ext.astype(str).duplicated().to_numpy()):
        problems.append(Problem("external_id missing or duplicated", row=int(i) + 1,
                                field="external_id"))
    if problems:
        raise InvalidInputError(f"cannot write {spec.table} rows", problems[:_MAX_LISTED])

    n = len(gdf)
    names = ["row_no", "external_id"]
    values: list[list[Any]] = [list(range(1, n + 1)), ext.astype(str).tolist()]
    for col, sqltype in spec.columns:
        names.append(col)
        if col not in gdf.columns:
            values.append([_DEFAULTS.get(col)] * n)
        elif sqltype == "geometry":
            g = np.asarray(gdf[col].values, dtype=object)
            g = np.array([None if _is_null(x) else x for x in g], dtype=object)
            values.append(_ewkb(_promote(g, "Point", shapely.MultiPoint)))
        else:
            values.append(_column(gdf[col], sqltype, _DEFAULTS.get(col)))
    if spec.parent:
        pcol = spec.parent[0]
        names.append("parent_ext")
        vals = gdf[pcol].tolist() if pcol in gdf.columns else [None] * n
        values.append([None if _is_null(v) else str(v) for v in vals])
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if spec.geom_types[0] == "Polygon":
        geoms = _promote(geoms, "Polygon", shapely.MultiPolygon)
    names.append("geom")
    values.append(_ewkb(geoms))
    return names, values


def _column(s: pd.Series, sqltype: str, default: Any) -> list[Any]:
    """COPY values of one column: vectorised for typed columns, cell by cell otherwise."""
    try:
        null = s.isna().to_numpy(dtype=bool)
        if sqltype == "timestamptz" and pd.api.types.is_datetime64_any_dtype(s):
            ts = s if s.dt.tz is not None else s.dt.tz_localize(LOCAL_TZ)
            utc = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
            vals: list[Any] = np.char.add(np.datetime_as_string(utc, unit="us"),
                                          "+00:00").tolist()
        elif sqltype in ("integer", "smallint") and pd.api.types.is_numeric_dtype(s):
            arr = s.to_numpy(dtype=float, na_value=np.nan)
            if not np.array_equal(arr[~null], np.round(arr[~null])):
                raise ValueError("not whole numbers")
            vals = np.where(null, 0, arr).astype(np.int64).tolist()
        elif sqltype == "double precision" and pd.api.types.is_numeric_dtype(s):
            vals = s.to_numpy(dtype=float, na_value=np.nan).tolist()
        elif sqltype == "text" and (s.dtype == object or pd.api.types.is_string_dtype(s)):
            vals = [v if isinstance(v, str) else str(v) for v in s.tolist()]
        else:
            return [_cell(v, sqltype, default) for v in s.tolist()]
    except (ValueError, TypeError, AttributeError):
        return [_cell(v, sqltype, default) for v in s.tolist()]
    return [default if n else v for v, n in zip(vals, null, strict=True)]


def _cell(v: Any, sqltype: str, default: Any) -> Any:
    if _is_null(v):
        return default
    if sqltype in ("integer", "smallint"):
        return int(v)
    if sqltype == "double precision":
        return float(v)
    if sqltype == "timestamptz":
        ts = pd.Timestamp(v)
        return (ts if ts.tzinfo is not None else ts.tz_localize(LOCAL_TZ)).isoformat()
    if sqltype == "text[]":
        if isinstance(v, str):
            return [s.strip() for s in v.replace("；", ";").split(";") if s.strip()]
        return [str(s) for s in v]
    return str(v)


def _stage_type(name: str, spec: KindSpec) -> str:
    if name == "row_no":
        return "integer"
    if name in ("external_id", "parent_ext"):
        return "text"
    if name == "geom":
        return "geometry"
    return dict(spec.columns)[name]


def upsert_counts(conn: Connection, kind: str, city_id: int, gdf: gpd.GeoDataFrame, *,
                  source: str = "import") -> WriteCounts:
    """Like :func:`upsert_features` but returns inserted and updated counts separately."""
    spec = _spec(kind)
    if source not in SOURCES:
        raise InvalidInputError(f"unknown source {source!r}; allowed: {', '.join(SOURCES)}")
    if gdf.crs is None or gdf.crs.to_epsg() != WGS84:
        raise CRSError(f"{kind} features must be in EPSG:4326, got {gdf.crs}")
    if len(gdf) == 0:
        return WriteCounts(0, 0)
    names, values = _prepare(gdf, spec)

    stage = sql.Identifier(_STAGE)
    cols_sql = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_stage_type(c, spec))) for c in names)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
        cur.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(stage, cols_sql))
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            stage, sql.SQL(", ").join(map(sql.Identifier, names)))
        with cur.copy(copy_sql) as cp:
            for row in zip(*values, strict=True):
                cp.write_row(row)
        try:
            if spec.parent:
                _check_parents(cur, spec, city_id)
            counts = _merge(cur, spec, city_id, source)
        except pg_errors.IntegrityError as exc:
            # the transaction is aborted: the caller must roll back (nothing is kept)
            raise InvalidInputError(
                f"the database rejected the {kind} rows (roll back the transaction)",
                [Problem(f"constraint {exc.diag.constraint_name or '?'}: "
                         f"{exc.diag.message_detail or exc.diag.message_primary or ''}",
                         field=exc.diag.column_name)]) from None
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
    return counts


def _check_parents(cur: Any, spec: KindSpec, city_id: int) -> None:
    assert spec.parent is not None
    pcol, ptable, _ = spec.parent
    q = sql.SQL("SELECT s.row_no, s.parent_ext FROM {} s WHERE s.parent_ext IS NOT NULL AND "
                "NOT EXISTS (SELECT 1 FROM {} p WHERE p.city_id = %s "
                "AND p.external_id = s.parent_ext) ORDER BY s.row_no").format(
        sql.Identifier(_STAGE), sql.Identifier(ptable))
    rows = cur.execute(q, (city_id,)).fetchall()
    if rows:
        problems = [Problem(f"unknown {ptable} external id {ext!r}", row=int(r), field=pcol)
                    for r, ext in rows[:_MAX_LISTED]]
        raise InvalidInputError(
            f"{len(rows)} row(s) refer to a {ptable} that does not exist in this city", problems)


def _merge(cur: Any, spec: KindSpec, city_id: int, source: str) -> WriteCounts:
    own = [c for c, _ in spec.columns]
    target = ["city_id", "external_id", *own, "source", "geom"]
    select = [sql.Placeholder(), sql.SQL("s.external_id"),
              *[sql.SQL("s.{}").format(sql.Identifier(c)) for c in own],
              sql.Placeholder(), sql.SQL("s.geom")]
    join: sql.Composable = sql.SQL("")
    if spec.parent:
        _, ptable, fk = spec.parent
        target.insert(2, fk)
        select.insert(2, sql.SQL("p.id"))
        join = sql.SQL(" LEFT JOIN {} p ON p.city_id = %s AND p.external_id = s.parent_ext").format(
            sql.Identifier(ptable))
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
        for c in target if c not in ("city_id", "external_id"))
    # Rows are locked, then inserted, in id order: two imports of overlapping ids, in
    # whatever order their files list them, take their row locks in the same order. The
    # rows already there are counted while they are locked (a partitioned table, such as
    # grid_case, cannot return ``xmax`` to tell an insert from an update); a row another
    # import inserts meanwhile is updated here but counted as inserted.
    lock = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {t} WHERE city_id = %s AND external_id "
                   "IN (SELECT external_id FROM {stage}) ORDER BY external_id COLLATE \"C\" "
                   "FOR UPDATE) AS locked").format(
        t=sql.Identifier(spec.table), stage=sql.Identifier(_STAGE))
    existing = int(cur.execute(lock, (city_id,)).fetchone()[0])
    q = sql.SQL("INSERT INTO {t} ({cols}) SELECT {sel} FROM {stage} s{join} "
                "ORDER BY s.external_id COLLATE \"C\" "
                "ON CONFLICT (city_id, external_id) DO UPDATE SET {upd}").format(
        t=sql.Identifier(spec.table), cols=sql.SQL(", ").join(map(sql.Identifier, target)),
        sel=sql.SQL(", ").join(select), stage=sql.Identifier(_STAGE), join=join, upd=updates)
    params: tuple[Any, ...] = (city_id, source) + ((city_id,) if spec.parent else ())
    written = cur.execute(q, params).rowcount
    return WriteCounts(inserted=written - existing, updated=existing)


def upsert_features(conn: Connection, kind: str, city_id: int, gdf: gpd.GeoDataFrame, *,
                    source: str = "import") -> int:
    """Insert or update features of ``kind`` for city ``city_id`` by external id.

    Parameters
    ----------
    kind
        One of ``street, community, grid, compound, service_point, grid_case`` (table names).
    gdf
        EPSG:4326; column ``external_id`` plus the table's own columns. Parents are given
        by external id: ``street`` (for communities), ``community`` (grids, compounds).
        Polygons are promoted to MultiPolygons, compound ``gates`` Points to MultiPoints;
        service-point ``services`` is a list of strings (or a ``;``-separated string).
    source
        ``import``, ``generated`` or ``osm``.

    Returns
    -------
    int
        Rows written (inserted + updated). Raises :class:`CRSError` for another CRS and
        :class:`InvalidInputError` (listing rows) for unknown parents, missing columns,
        duplicate external ids or wrong/invalid geometries. Never commits.
    """
    return upsert_counts(conn, kind, city_id, gdf, source=source).written


def refresh_grid_compound(conn: Connection, city_id: int) -> int:
    """Recompute the grid–compound overlay of ``city_id`` from the geometries.

    ``shared_area_m2`` is the geodesic area (m²) of grid ∩ compound; ``resident_share`` is
    that area over the total shared area of the compound, so shares sum to 1 per compound
    (a compound not covered by any grid has no rows). Returns the number of rows.
    """
    conn.execute(text("DELETE FROM grid_compound WHERE city_id = :c"), {"c": city_id})
    res = conn.execute(text("""
        WITH x AS (
            SELECT g.id AS grid_id, c.id AS compound_id,
                   ST_Area(ST_Intersection(g.geom, c.geom)::geography) AS a
            FROM grid g JOIN compound c
              ON c.city_id = g.city_id AND ST_Intersects(g.geom, c.geom)
             AND NOT ST_Touches(g.geom, c.geom)
            WHERE g.city_id = :c
        )
        INSERT INTO grid_compound (grid_id, compound_id, city_id, shared_area_m2,
                                   resident_share)
        SELECT grid_id, compound_id, :c, a,
               LEAST(1.0, a / sum(a) OVER (PARTITION BY compound_id))
        FROM x WHERE a > 0"""), {"c": city_id})
    return int(res.rowcount)
