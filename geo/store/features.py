"""Read features of catalogue layers as GeoJSON (EPSG:4326, lon/lat, RFC 7946).

Every identifier in the SQL comes from a validated :class:`layers.registry.Layer`; every
value a caller gives (bbox, paging, property filters, city, search text) is a bound
parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geo.crs.ogc import CRS84, OutputCRS
from geo.errors import InvalidInputError, NotFoundError, Problem, QueryParameterError
from geo.store.filters import Interval, cql2_sql, json_type, sortby_sql
from layers.registry import Layer

BBox = tuple[float, float, float, float]
MAX_LIMIT = 10_000
_FID_FACTOR = 4294967296  # 2**32, for ids unique per city only
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote(name: str) -> str:
    """Double-quote an identifier already validated by the registry (``[a-z_][a-z0-9_]*``)."""
    if not _IDENT.match(name):
        raise InvalidInputError(f"bad identifier {name!r}")
    return '"' + name + '"'


def source_table(layer: Layer, run_id: int | None = None) -> str:
    """The quoted table or view to read: the layer's, or with ``run_id`` its
    ``run_table`` (rows of every run; the caller adds ``run_id = …``). A layer without
    runs by moment raises :class:`InvalidInputError` (field ``at``)."""
    s = layer.source
    if run_id is None:
        return quote(s.table)
    if not s.run_table:
        raise InvalidInputError("no runs by moment", [Problem(
            f"layer {layer.name!r} does not change with the moment; at applies to the "
            "coverage layers", field="at")])
    return quote(s.run_table)


def fid_sql(layer: Layer, alias: str = "t") -> str:
    """SQL expression of the feature id (a bigint)."""
    s = layer.source
    col = f"{alias}.{quote(s.id_column)}"
    if s.id_per_city and s.city_column:
        return f"({alias}.{quote(s.city_column)}::bigint * {_FID_FACTOR} + {col})"
    return f"{col}::bigint"


def parse_bbox(value: str | None, crs: OutputCRS = CRS84, *,
               error: type[InvalidInputError] = InvalidInputError) -> BBox | None:
    """``"minx,miny,maxx,maxy"`` in ``crs`` (default EPSG:4326 lon/lat degrees) → tuple in
    that CRS's x/y order (a latitude-first CRS's ``lat,lon,lat,lon`` is swapped to
    ``lon,lat,lon,lat``); ``error`` (422 by default) if malformed."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    order = "miny,minx,maxy,maxx" if crs.lat_first else "minx,miny,maxx,maxy"
    if len(nums) != 4 or not all(math.isfinite(n) for n in nums):
        raise error("invalid bbox", [Problem(
            f"bbox must be four numbers {order} ({crs.uri})", field="bbox")])
    if crs.lat_first:
        nums = [nums[1], nums[0], nums[3], nums[2]]
    minx, miny, maxx, maxy = nums
    problems = []
    geographic = crs.srid in (4326, 4490)
    if geographic and not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90
                           and -90 <= maxy <= 90):
        problems.append(Problem("bbox is outside lon/lat range (degrees)", field="bbox"))
    if minx > maxx or miny > maxy:
        problems.append(Problem(f"bbox needs {order} with min <= max", field="bbox"))
    if problems:
        raise error("invalid bbox", problems)
    return (minx, miny, maxx, maxy)


@dataclass(frozen=True)
class FeatureQuery:
    """What a client asks of a collection beyond paging (OGC API – Features Parts 1–3).

    Parameters
    ----------
    bbox, bbox_srid
        Box in x/y order of ``bbox_srid`` (4326 lon/lat by default); features intersecting it.
    filters
        Queryable property → value, equality, the value converted to the column's type.
    cql
        A CQL2-JSON tree (:func:`geo.store.filters.parse_cql2`).
    sortby
        The ``sortby`` parameter (``name,-residents``); ties are broken by feature id.
    interval
        Time interval on the layer's time (:meth:`layers.registry.Source.time_expr`).
    run_id
        The analysis run to read (the run of a moment, ``?at=``) from the layer's
        ``run_table``; ``None``: the layer's own table (the latest all-day run).
    city
        City code; :class:`NotFoundError` if unknown.
    crs
        Output CRS of the geometries.
    """

    bbox: BBox | None = None
    bbox_srid: int = 4326
    filters: Mapping[str, str] | None = None
    cql: Mapping[str, Any] | None = None
    sortby: str | None = None
    interval: Interval | None = None
    city: str | None = None
    crs: OutputCRS = CRS84
    run_id: int | None = None


@dataclass(frozen=True)
class FeaturePage:
    """One page of features: GeoJSON Feature dicts plus the total matching count."""

    features: list[dict[str, Any]]
    number_matched: int


def column_types(conn: Connection, layer: Layer) -> dict[str, str]:
    """PostgreSQL type (``format_type``) of each column of the layer's table or view."""
    rows = conn.execute(text(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 AND NOT a.attisdropped"),
        {"t": layer.source.table})
    return {r[0]: r[1] for r in rows}


def queryables(conn: Connection, layer: Layer, *, personal: bool) -> dict[str, str]:
    """Properties a client may filter and sort by, with their type (``integer``,
    ``number``, ``boolean``, ``string``, ``date-time``, ``date``): the exposed columns
    (personal ones only when ``personal``) of a queryable type."""
    types = column_types(conn, layer)
    out = {}
    for col in layer.source.visible_columns(personal=personal):
        kind = json_type(types.get(col, ""))
        if kind is not None:
            out[col] = kind
    return out


def _typed(value: str, kind: str, col: str) -> Any:
    """A query-string value converted to a column's type (400 if it cannot be)."""
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if kind == "boolean":
            return {"true": True, "false": False}[value.lower()]
    except (ValueError, KeyError):
        raise QueryParameterError("invalid property filter", [Problem(
            f"{value!r} is not a valid {kind} for {col!r}", field=col)]) from None
    if "\x00" in value:
        raise QueryParameterError("invalid property filter",
                                  [Problem("text must not contain NUL", field=col)])
    return value


def _where(conn: Connection, layer: Layer, *, bbox: BBox | None, filters: Mapping[str, str],
           city: str | None, personal: bool, bbox_srid: int = 4326,
           cql: Mapping[str, Any] | None = None, interval: Interval | None = None,
           run_id: int | None = None) -> tuple[list[str], dict[str, Any]]:
    s = layer.source
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if run_id is not None:
        source_table(layer, run_id)  # a layer with runs by moment
        clauses.append("t.run_id = :run_id")
        params["run_id"] = run_id
    for i, (col, value) in enumerate(s.filters):
        clauses.append(f"t.{quote(col)} = :fixed{i}")
        params[f"fixed{i}"] = value
    kinds = queryables(conn, layer, personal=personal) if (filters or cql) else {}
    bad = [k for k in filters if k not in kinds]
    if bad:
        raise QueryParameterError("unknown parameter or property", [Problem(
            f"{k!r} is neither a query parameter nor a queryable property; properties: "
            f"{', '.join(kinds)}", field=k) for k in bad])
    for i, (col, value) in enumerate(sorted(filters.items())):
        clauses.append(f"t.{quote(col)} = :prop{i}")
        params[f"prop{i}"] = _typed(value, kinds[col], col)
    if cql is not None:
        condition, values = cql2_sql(cql, kinds)
        clauses.append(condition)
        params.update(values)
    if interval is not None:
        expr = time_expr(layer)
        if expr is None:
            raise QueryParameterError("datetime not available", [Problem(
                f"collection {layer.name!r} has no time; datetime applies to cases and "
                "analysis runs", field="datetime")])
        clauses.append(interval.sql(expr, params))
    if bbox is not None:
        env = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
        if bbox_srid != 4326:
            env = f"ST_Transform(ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, {int(bbox_srid)}), 4326)"
        clauses.append(f"t.{quote(s.geometry_column)} && {env} AND "
                       f"ST_Intersects(t.{quote(s.geometry_column)}, {env})")
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox))
    if city is not None:
        if not s.city_column:
            raise InvalidInputError("city filter not available",
                                    [Problem(f"layer {layer.name!r} has no city", field="city")])
        city_id = conn.execute(text("SELECT id FROM city WHERE code = :c"),
                               {"c": city}).scalar_one_or_none()
        if city_id is None:
            raise NotFoundError(f"no city {city!r}")
        clauses.append(f"t.{quote(s.city_column)} = :city_id")
        params["city_id"] = city_id
    return clauses, params


def time_expr(layer: Layer, alias: str = "t") -> str | None:
    """SQL expression of a feature's time (timestamptz), or ``None`` for timeless layers:
    the source's ``time_column``, or for a layer of analysis-run results (versioned by
    ``analysis_run``) the time its run was made."""
    s = layer.source
    if s.time_column:
        return f"{alias}.{quote(s.time_column)}"
    if "analysis_run" in s.versions:
        return f"(SELECT r.created_at FROM analysis_run r WHERE r.id = {alias}.run_id)"
    return None


def _geometry(layer: Layer, crs: OutputCRS) -> str:
    g = f"t.{quote(layer.source.geometry_column)}"
    if crs.srid != 4326:
        g = f"ST_Transform({g}, {int(crs.srid)})"
    if crs.lat_first:
        g = f"ST_FlipCoordinates({g})"
    digits = 7 if crs.srid in (4326, 4490) else 3  # ~1 cm in degrees; mm in metres
    return f"ST_AsGeoJSON({g}, {digits})"


def _select(layer: Layer, *, personal: bool, crs: OutputCRS = CRS84,
            run_id: int | None = None) -> str:
    s = layer.source
    cols = s.visible_columns(personal=personal)
    props = ", ".join(f"'{c}', t.{quote(c)}" for c in cols)
    return (f"SELECT {fid_sql(layer)} AS fid, "
            f"{_geometry(layer, crs)} AS geometry, "
            f"json_build_object({props})::text AS properties "
            f"FROM {source_table(layer, run_id)} AS t")


def _order(layer: Layer, alias: str = "t") -> str:
    """ORDER BY list equal to ordering by :func:`fid_sql`, in columns an index can serve."""
    s = layer.source
    col = f"{alias}.{quote(s.id_column)}"
    if s.id_per_city and s.city_column:
        return f"{alias}.{quote(s.city_column)}, {col}"
    return col


def _feature(row: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": int(row.fid), "geometry": json.loads(row.geometry),
            "properties": json.loads(row.properties)}


def query_features(conn: Connection, layer: Layer, *, bbox: BBox | None = None, limit: int = 10,
                   offset: int = 0, filters: Mapping[str, str] | None = None,
                   city: str | None = None, personal: bool = False,
                   query: FeatureQuery | None = None) -> FeaturePage:
    """Features of ``layer`` ordered by id (or ``query.sortby``), with paging and filters.

    Parameters
    ----------
    bbox
        ``(minx, miny, maxx, maxy)`` in EPSG:4326 degrees; features intersecting it.
    filters
        Queryable property → value (equality, converted to the column's type).
    city
        City code; :class:`NotFoundError` if unknown.
    personal
        Include the layer's personal columns (callers check the role).
    query
        Everything else (:class:`FeatureQuery`); its fields win over the keywords above.
    """
    q = query or FeatureQuery(bbox=bbox, filters=filters, city=city)
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem(f"limit must be between 1 and {MAX_LIMIT}", field="limit"))
    if offset < 0:
        problems.append(Problem("offset must be >= 0", field="offset"))
    if problems:
        raise InvalidInputError("invalid paging", problems)
    clauses, params = _where(conn, layer, bbox=q.bbox, filters=q.filters or {}, city=q.city,
                             personal=personal, bbox_srid=q.bbox_srid, cql=q.cql,
                             interval=q.interval, run_id=q.run_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    table = source_table(layer, q.run_id)
    matched = conn.execute(text(f"SELECT count(*) FROM {table} AS t{where}"),
                           params).scalar_one()
    order = _order(layer)
    if q.sortby:
        order = ", ".join([*sortby_sql(q.sortby, queryables(conn, layer, personal=personal)),
                           order])
    rows = conn.execute(text(f"{_select(layer, personal=personal, crs=q.crs, run_id=q.run_id)}"
                             f"{where} "
                             f"ORDER BY {order} LIMIT :limit OFFSET :offset"),
                        {**params, "limit": limit, "offset": offset})
    return FeaturePage([_feature(r) for r in rows], int(matched))


def get_feature(conn: Connection, layer: Layer, fid: int, *, personal: bool = False,
                crs: OutputCRS = CRS84) -> dict[str, Any]:
    """The feature ``fid`` of ``layer`` (geometry in ``crs``); :class:`NotFoundError` if
    there is none."""
    clauses, params = _where(conn, layer, bbox=None, filters={}, city=None, personal=personal)
    clauses.append(f"{fid_sql(layer)} = :fid")
    row = conn.execute(text(f"{_select(layer, personal=personal, crs=crs)} "
                            f"WHERE {' AND '.join(clauses)}"),
                       {**params, "fid": fid}).one_or_none()
    if row is None:
        raise NotFoundError(f"no feature {fid} in collection {layer.name!r}")
    return _feature(row)


def layer_extent(conn: Connection, layer: Layer, *, city: str | None = None) -> BBox | None:
    """Bounding box (EPSG:4326) of the layer's features (of ``city`` if given), ``None``
    when there are none.

    A restricted layer's features may not be located by the public, so its extent is
    coarsened: the bounds of the cities it has features in (or, without a city column,
    the features' box widened to whole degrees).
    """
    s = layer.source
    clauses, params = _where(conn, layer, bbox=None, filters={}, city=city, personal=False)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    if not layer.public and s.city_column:
        own = " AND ".join([f"t.{quote(s.city_column)} = c.id", *clauses])
        inner = (f"SELECT ST_Extent(c.bounds) AS e FROM city c WHERE EXISTS "
                 f"(SELECT 1 FROM {quote(s.table)} AS t WHERE {own})")
    else:
        inner = f"SELECT ST_Extent(t.{quote(s.geometry_column)}) AS e FROM {quote(s.table)} AS t{where}"
    row = conn.execute(text(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({inner}) x"),
                       params).one()
    if row[0] is None:
        return None
    box = (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    if not layer.public and not s.city_column:
        box = (float(math.floor(box[0])), float(math.floor(box[1])),
               float(math.ceil(box[2])), float(math.ceil(box[3])))
    return box


def temporal_extent(conn: Connection, layer: Layer, *, city: str | None = None
                    ) -> tuple[datetime, datetime] | None:
    """First and last time of the layer's features (``None`` if timeless or empty); for a
    restricted layer widened to whole calendar months (UTC), like its coarsened extent."""
    expr = time_expr(layer)
    if expr is None:
        return None
    clauses, params = _where(conn, layer, bbox=None, filters={}, city=city, personal=False)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    lo, hi = f"min({expr})", f"max({expr})"
    if not layer.public:
        lo = f"date_trunc('month', {lo} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        hi = f"(date_trunc('month', {hi} AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'"
    row = conn.execute(text(f"SELECT {lo}, {hi} FROM {quote(layer.source.table)} AS t{where}"),
                       params).one()
    return None if row[0] is None else (row[0], row[1])


def existing_tables(conn: Connection, names: Iterable[str]) -> set[str]:
    """Those of ``names`` that exist as tables or views (e.g. after a partial migration)."""
    wanted = sorted(set(names))
    rows = conn.execute(text("SELECT n FROM unnest(CAST(:names AS text[])) AS n "
                             "WHERE to_regclass(n) IS NOT NULL"), {"names": wanted})
    return {r[0] for r in rows}


def search_features(conn: Connection, layers: Iterable[Layer], q: str, *, limit: int = 20,
                    city: str | None = None) -> list[dict[str, Any]]:
    """Features whose name contains ``q`` (case-insensitive) across ``layers``.

    Returns dicts ``layer, id, name, bbox`` (EPSG:4326), exact matches first.
    """
    q = q.strip()
    if not q or len(q) > 100:
        raise InvalidInputError("invalid search", [Problem("q must be 1-100 characters",
                                                          field="q")])
    if not 1 <= limit <= 100:
        raise InvalidInputError("invalid search", [Problem("limit must be 1-100", field="limit")])
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    out: list[dict[str, Any]] = []
    for layer in layers:
        s = layer.source
        if not s.name_column:
            continue
        clauses, params = _where(conn, layer, bbox=None, filters={}, city=city, personal=False)
        name = f"t.{quote(s.name_column)}"
        clauses.append(f"{name} ILIKE :pattern")
        g = f"t.{quote(s.geometry_column)}"
        rows = conn.execute(text(
            f"SELECT {fid_sql(layer)} AS fid, {name} AS name, ST_XMin({g}) AS x0, "
            f"ST_YMin({g}) AS y0, ST_XMax({g}) AS x1, ST_YMax({g}) AS y1 "
            f"FROM {quote(s.table)} AS t WHERE {' AND '.join(clauses)} "
            f"ORDER BY ({name} = :q) DESC, length({name}), 1 LIMIT :limit"),
            {**params, "pattern": pattern, "q": q, "limit": limit})
        out += [{"layer": layer.name, "id": int(r.fid), "name": r.name,
                 "bbox": [r.x0, r.y0, r.x1, r.y1]} for r in rows]
    out.sort(key=lambda f: (f["name"] != q, len(f["name"])))
    return out[:limit]
