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
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInputError, NotFoundError, Problem
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


def fid_sql(layer: Layer, alias: str = "t") -> str:
    """SQL expression of the feature id (a bigint)."""
    s = layer.source
    col = f"{alias}.{quote(s.id_column)}"
    if s.id_per_city and s.city_column:
        return f"({alias}.{quote(s.city_column)}::bigint * {_FID_FACTOR} + {col})"
    return f"{col}::bigint"


def parse_bbox(value: str | None) -> BBox | None:
    """``"minx,miny,maxx,maxy"`` in EPSG:4326 degrees → tuple; 422-type error if malformed."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) != 4 or not all(math.isfinite(n) for n in nums):
        raise InvalidInputError("invalid bbox", [Problem(
            "bbox must be four numbers minx,miny,maxx,maxy (EPSG:4326 lon/lat)", field="bbox")])
    minx, miny, maxx, maxy = nums
    problems = []
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        problems.append(Problem("bbox is outside lon/lat range (EPSG:4326 degrees)", field="bbox"))
    if minx > maxx or miny > maxy:
        problems.append(Problem("bbox needs minx <= maxx and miny <= maxy", field="bbox"))
    if problems:
        raise InvalidInputError("invalid bbox", problems)
    return (minx, miny, maxx, maxy)


@dataclass(frozen=True)
class FeaturePage:
    """One page of features: GeoJSON Feature dicts plus the total matching count."""

    features: list[dict[str, Any]]
    number_matched: int


def _where(conn: Connection, layer: Layer, *, bbox: BBox | None, filters: Mapping[str, str],
           city: str | None, personal: bool) -> tuple[list[str], dict[str, Any]]:
    s = layer.source
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for i, (col, value) in enumerate(s.filters):
        clauses.append(f"t.{quote(col)} = :fixed{i}")
        params[f"fixed{i}"] = value
    allowed = s.visible_columns(personal=personal)
    bad = [k for k in filters if k not in allowed]
    if bad:
        raise InvalidInputError("unknown property filter", [Problem(
            f"{k!r} is not a filterable property; use one of {', '.join(allowed)}", field=k)
            for k in bad])
    for i, (col, value) in enumerate(sorted(filters.items())):
        clauses.append(f"t.{quote(col)}::text = :prop{i}")
        params[f"prop{i}"] = value
    if bbox is not None:
        clauses.append(f"t.{quote(s.geometry_column)} && "
                       "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326) AND "
                       f"ST_Intersects(t.{quote(s.geometry_column)}, "
                       "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))")
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


def _select(layer: Layer, *, personal: bool) -> str:
    s = layer.source
    cols = s.visible_columns(personal=personal)
    props = ", ".join(f"'{c}', t.{quote(c)}" for c in cols)
    return (f"SELECT {fid_sql(layer)} AS fid, "
            f"ST_AsGeoJSON(t.{quote(s.geometry_column)}, 7) AS geometry, "
            f"json_build_object({props})::text AS properties "
            f"FROM {quote(s.table)} AS t")


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
                   city: str | None = None, personal: bool = False) -> FeaturePage:
    """Features of ``layer`` ordered by id, with paging and filters.

    Parameters
    ----------
    bbox
        ``(minx, miny, maxx, maxy)`` in EPSG:4326 degrees; features intersecting it.
    filters
        Exposed property column → value, compared as text.
    city
        City code; :class:`NotFoundError` if unknown.
    personal
        Include the layer's personal columns (callers check the role).
    """
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem(f"limit must be between 1 and {MAX_LIMIT}", field="limit"))
    if offset < 0:
        problems.append(Problem("offset must be >= 0", field="offset"))
    if problems:
        raise InvalidInputError("invalid paging", problems)
    clauses, params = _where(conn, layer, bbox=bbox, filters=filters or {}, city=city,
                             personal=personal)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    matched = conn.execute(text(f"SELECT count(*) FROM {quote(layer.source.table)} AS t{where}"),
                           params).scalar_one()
    rows = conn.execute(text(f"{_select(layer, personal=personal)}{where} "
                             f"ORDER BY {_order(layer)} LIMIT :limit OFFSET :offset"),
                        {**params, "limit": limit, "offset": offset})
    return FeaturePage([_feature(r) for r in rows], int(matched))


def get_feature(conn: Connection, layer: Layer, fid: int, *, personal: bool = False
                ) -> dict[str, Any]:
    """The feature ``fid`` of ``layer``; :class:`NotFoundError` if there is none."""
    clauses, params = _where(conn, layer, bbox=None, filters={}, city=None, personal=personal)
    clauses.append(f"{fid_sql(layer)} = :fid")
    row = conn.execute(text(f"{_select(layer, personal=personal)} WHERE {' AND '.join(clauses)}"),
                       {**params, "fid": fid}).one_or_none()
    if row is None:
        raise NotFoundError(f"no feature {fid} in collection {layer.name!r}")
    return _feature(row)


def layer_extent(conn: Connection, layer: Layer) -> BBox | None:
    """Bounding box (EPSG:4326) of the layer's features, ``None`` when it is empty.

    A restricted layer's features may not be located by the public, so its extent is
    coarsened: the bounds of the cities it has features in (or, without a city column,
    the features' box widened to whole degrees).
    """
    s = layer.source
    clauses, params = _where(conn, layer, bbox=None, filters={}, city=None, personal=False)
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
