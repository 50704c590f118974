"""Validation of imported features: collect every problem, then raise once.

Pure functions: they take a frame plus the allowed codes, the city's bounds and the known
parent ids, and return a cleaned, typed frame in EPSG:4326 — or raise one
:class:`InvalidInputError` listing every (row, field, reason). Rows are numbered from 1
in file order (row 1 = the first feature / the first data line under a CSV header).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geo.crs.utm import WGS84
from geo.domain import (
    CASE_STATUSES,
    MAX_AREA_KM2,
    PROPERTY_MANAGEMENT,
    CaseStatus,
    PropertyManagement,
    Term,
)
from geo.errors import CRSError, Hint, InvalidInputError, Problem
from geo.io.hours import hours_reason
from geo.io.labels import MAX_NAME, label_reason
from geo.vocab import normalise, resolve_term

#: Timestamps without a zone are taken as China Standard Time.
LOCAL_TZ = "Asia/Shanghai"
#: Every coordinate of every geometry must lie within the city's bounds widened by this
#: margin (degrees, ≈ 500 m): features at the city's edge may overhang it a little.
BOUNDS_MARGIN_DEG = 0.005
#: Whole numbers are stored in 32-bit integer columns.
INT32_MAX = 2**31 - 1
#: Control characters that are never valid in text (tab, line feed and carriage return
#: are), and lone surrogates, which cannot be stored as UTF-8.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_GEOD = Geod(ellps="WGS84")

FieldKind = Literal["text", "int", "float", "datetime", "code", "enum", "list", "points", "parent",
                    "hours"]


@dataclass(frozen=True)
class Field:
    """One attribute of a kind: type, required or not, bounds or allowed values."""

    kind: FieldKind
    required: bool = False
    min: float | None = None
    max: float | None = None
    lookup: str | None = None  # name of the lookup table for "code" fields
    max_len: int | None = None  # "text" as a name: at most this long, one line
    values: Mapping[str, str] = field(default_factory=dict)  # alias → value for "enum"




def _spellings(terms: Mapping[str, Term], aliases: Mapping[str, str]) -> dict[str, str]:
    """Accepted spellings of coded values: the code, its Chinese label, common aliases."""
    out = {str(t.code): str(t.code) for t in terms.values()}
    out |= {t.zh: str(t.code) for t in terms.values()}
    return out | {k: str(v) for k, v in aliases.items()}


_STATUS = _spellings(CASE_STATUSES, {
    "待处理": CaseStatus.REPORTED, "上报": CaseStatus.REPORTED, "派单": CaseStatus.DISPATCHED,
    "办理中": CaseStatus.HANDLING, "办结": CaseStatus.CLOSED, "已关闭": CaseStatus.CLOSED})
_PM = _spellings(PROPERTY_MANAGEMENT, {"未知": PropertyManagement.UNKNOWN})
_POLY = ("Polygon", "MultiPolygon")

FIELDS: dict[str, dict[str, Field]] = {
    "street": {"name": Field("text", True)},
    "community": {"name": Field("text", True), "street": Field("parent")},
    "grid": {"name": Field("text", True), "community": Field("parent")},
    "compound": {
        "name": Field("text", True), "community": Field("parent"),
        "households": Field("int", True, min=0), "residents": Field("int", True, min=0),
        "elderly": Field("int", min=0), "property_management": Field("enum", values=_PM),
        "gates": Field("points"), "age_0_14": Field("int", min=0),
        "age_15_59": Field("int", min=0)},
    "service_point": {
        "type": Field("code", True, lookup="service_type"), "name": Field("text", True),
        "address": Field("text"), "opening_hours": Field("hours"), "services": Field("list"),
        "capacity": Field("int", min=0), "floor_area_m2": Field("float", min=1e-9, max=1e6)},
    "grid_case": {
        "category": Field("code", True, lookup="case_category"),
        "reported_at": Field("datetime", True), "closed_at": Field("datetime"),
        "status": Field("enum", True, values=_STATUS), "satisfaction": Field("int", min=1, max=5),
        "handling_unit": Field("text"), "channel": Field("text"), "description": Field("text")},
    "siting_candidate": {
        "name": Field("text", max_len=MAX_NAME), "kind": Field("text", max_len=50),
        "cost": Field("float", min=0, max=1e12),
        "capacity": Field("float", min=0, max=1e9)},
}
GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "street": _POLY, "community": _POLY, "grid": _POLY, "compound": _POLY,
    "service_point": ("Point",), "grid_case": ("Point",), "siting_candidate": ("Point",)}
#: Common column names (Chinese and English) accepted for each field.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "ext_id", "编号", "编码", "代码", "工单号", "事件编号"),
    "name": ("名称", "name_zh", "名字"), "street": ("街道", "street_id"),
    "community": ("社区", "community_id"), "households": ("户数", "住户数"),
    "residents": ("人口", "居民数", "常住人口", "人数"), "elderly": ("老年人", "老人数"),
    "property_management": ("物业",), "type": ("类型", "站点类型"), "address": ("地址",),
    "opening_hours": ("开放时间", "营业时间"), "services": ("服务", "服务内容"),
    "capacity": ("容量",), "floor_area_m2": ("面积", "建筑面积"),
    "category": ("类别", "事件类别", "分类"), "reported_at": ("上报时间", "报告时间"),
    "closed_at": ("办结时间", "关闭时间"), "status": ("状态",), "satisfaction": ("满意度",),
    "handling_unit": ("处置单位", "承办单位"), "channel": ("渠道", "来源渠道"),
    "description": ("描述", "内容"), "cost": ("成本", "费用", "造价"),
    "kind": ("场地类型", "用房类型", "candidate_kind"),
    # residents by age group (census groups; ``elderly`` is the 60+ group)
    "age_0_14": ("0-14岁", "0～14岁", "0–14岁", "0-14岁人口", "0-14", "少年儿童", "儿童人口",
                 "children"),
    "age_15_59": ("15-59岁", "15～59岁", "15–59岁", "15-59岁人口", "15-59", "劳动年龄人口"),
}
COLUMN_ALIASES["elderly"] += ("60岁以上", "60岁及以上", "60岁以上人口", "60岁及以上人口",
                              "老年人口", "60+", "age_60_plus")
#: The age groups of a compound and the columns holding them (``elderly``: 60 and over).
AGE_GROUP_FIELDS: tuple[str, ...] = ("age_0_14", "age_15_59", "elderly")


@dataclass(frozen=True)
class Validated:
    """A validated frame (EPSG:4326, typed columns) and what was changed or ignored."""

    frame: gpd.GeoDataFrame
    repaired: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


def normalise_columns(gdf: gpd.GeoDataFrame, kind: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Rename known column aliases (名称 → name, 经度 … are handled by the reader) and
    return the frame plus the names of columns that will be ignored."""
    known = {"external_id", *FIELDS[kind]}
    cols = [str(c) for c in gdf.columns]
    gdf = gdf.set_axis(cols, axis=1)
    ren: dict[str, str] = {}
    lower = {c.strip().lower(): c for c in cols}
    for target in known:
        if target in cols:
            continue
        for a in COLUMN_ALIASES.get(target, ()):
            if a.lower() in lower and lower[a.lower()] not in ren:
                ren[lower[a.lower()]] = target
                break
    gdf = gdf.rename(columns=ren)
    ignored = [c for c in gdf.columns if c not in known and c != gdf.geometry.name]
    return gdf, ignored


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, (list, tuple, np.ndarray, BaseGeometry)):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _timestamp(v: Any) -> pd.Timestamp | None:
    try:
        ts = pd.Timestamp(v.strip() if isinstance(v, str) else v)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_localize(LOCAL_TZ) if ts.tzinfo is None else ts


def _float(v: Any) -> float | None:
    """``v`` as a float (infinity and NaN included), ``None`` if it is not a number."""
    if isinstance(v, bool):
        return None
    try:
        return float(v.strip().replace(",", "") if isinstance(v, str) else v)
    except (TypeError, ValueError, OverflowError):
        return None


def _number(v: Any) -> float | None:
    """``v`` as a finite float, ``None`` if it is not one."""
    x = _float(v)
    return x if x is not None and np.isfinite(x) else None


def control_character(v: str) -> str | None:
    """Description of the first control character in ``v`` (``None`` if there is none)."""
    m = _CONTROL.search(v)
    if m is None:
        return None
    c = m.group()
    label = unicodedata.name(c, "") or {"\x00": "NUL"}.get(c, "control character")
    return f"U+{ord(c):04X} ({label}) at position {m.start() + 1}"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def _terms(allowed: Mapping[str, tuple[str, str]]) -> list[Term]:
    return [Term(code, zh, en) for code, (zh, en) in allowed.items()]


def _cell(v: Any, f: Field, name: str, row: int, problems: list[Problem],
          codes: Mapping[str, Mapping[str, tuple[str, str]]]) -> Any:
    """The typed value of one non-blank cell, or ``None`` with a problem recorded."""
    def bad(reason: str) -> None:
        problems.append(Problem(reason, row=row, field=name))

    texts = [str(s) for s in v] if isinstance(v, (list, tuple, np.ndarray)) else [v]
    for t in texts:
        cc = control_character(t) if isinstance(t, str) else None
        if cc is not None:
            return bad(f"text contains the control character {cc}; remove it")
    if f.kind == "hours":  # OSM opening_hours syntax (geo.io.hours); blank = unknown
        text = str(v).strip()
        reason = hours_reason(text)
        return bad(reason) if reason is not None else text
    if f.kind in ("text", "parent"):
        text = str(v).strip()
        reason = label_reason(text, f.max_len) if f.max_len is not None else None
        return bad(reason) if reason is not None else text
    if f.kind in ("int", "float"):
        x = _float(v)
        if x is None:
            return bad(f"{v!r} is not a number")
        if not np.isfinite(x):
            return bad(f"{v!r} is not a finite number")
        if f.kind == "int" and x != int(x):
            return bad(f"{v!r} is not a whole number")
        lo_v, hi_v = f.min, f.max
        if f.kind == "int":  # and it must fit the 32-bit integer column
            lo_v = -INT32_MAX if lo_v is None else max(lo_v, -INT32_MAX)
            hi_v = INT32_MAX if hi_v is None else min(hi_v, INT32_MAX)
        if (lo_v is not None and x < lo_v) or (hi_v is not None and x > hi_v):
            lo = "" if lo_v is None else f"≥ {_fmt(lo_v)}"
            hi = "" if hi_v is None else f"≤ {_fmt(hi_v)}"
            return bad(f"{v!r} is out of range (must be {' and '.join(s for s in (lo, hi) if s)})")
        return int(x) if f.kind == "int" else x
    if f.kind == "datetime":
        ts = _timestamp(v)
        return ts if ts is not None else bad(f"{v!r} is not a date/time (e.g. 2026-03-01 09:30)")
    if f.kind == "code":  # the vocabulary's one resolver: code, Chinese or English name
        try:
            return resolve_term(str(v), _terms(codes.get(f.lookup or "", {})), what=name,
                                field=name)
        except InvalidInputError as exc:
            return bad(exc.errors[0].reason)
    if f.kind == "enum":
        code = {normalise(k): c for k, c in f.values.items()}.get(normalise(str(v)))
        if code is None:
            return bad(f"unknown {name} {v!r}; allowed: {', '.join(sorted(set(f.values.values())))}")
        return code
    if f.kind == "list":
        if isinstance(v, (list, tuple, np.ndarray)):
            return [str(s) for s in v]
        parts = str(v).replace("；", ";").replace("、", ";").replace(",", ";").split(";")
        return [s.strip() for s in parts if s.strip()]
    # points (compound gates): a geometry or WKT text
    try:
        g = v if isinstance(v, BaseGeometry) else shapely.from_wkt(str(v))
    except shapely.errors.GEOSException:
        return bad(f"{str(v)[:40]!r} is not WKT")
    if g.is_empty or g.geom_type not in ("Point", "MultiPoint"):
        return bad("gates must be a Point or MultiPoint")
    return g


def _datetimes(values: list[Any]) -> list[pd.Timestamp | None]:
    """Fast path: parse a whole column at once (ISO 8601 text or datetimes, one zone kind);
    ``None`` where it did not parse (those cells go through :func:`_cell`)."""
    try:
        parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce",
                                format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return [None] * len(values)
    if parsed.dt.tz is None:
        try:
            parsed = parsed.dt.tz_localize(LOCAL_TZ, nonexistent="NaT", ambiguous="NaT")
        except (ValueError, TypeError):
            return [None] * len(values)
    return [None if pd.isna(t) else t for t in parsed]


def _column(values: list[Any], f: Field, name: str, problems: list[Problem],
            codes: Mapping[str, Mapping[str, tuple[str, str]]],
            parents: set[str] | None) -> list[Any]:
    """Typed values of one column; problems per row. Conversions are memoised per
    distinct raw value (categories, statuses and dates repeat a lot)."""
    fast = _datetimes(values) if f.kind == "datetime" else None
    memo: dict[Any, tuple[Any, str | None]] = {}
    out: list[Any] = []
    for i, v in enumerate(values, start=1):
        if _blank(v):
            if f.required:
                problems.append(Problem("required value is empty", row=i, field=name))
            out.append(None)
            continue
        if fast is not None and fast[i - 1] is not None:
            out.append(fast[i - 1])
            continue
        key = v if isinstance(v, (str, int, float)) else None
        if key is not None and key in memo:
            x, reason = memo[key]
        else:
            local: list[Problem] = []
            x = _cell(v, f, name, i, local, codes)
            reason = local[0].reason if local else None
            if f.kind == "parent" and x is not None and parents is not None \
                    and x not in parents:
                reason = f"unknown {name} {x!r} (no such {name} in this city)"
            if key is not None:
                memo[key] = (x, reason)
        if reason is not None:
            problems.append(Problem(reason, row=i, field=name))
        out.append(x)
    return out


def _attributes(gdf: gpd.GeoDataFrame, kind: str, problems: list[Problem],
                codes: Mapping[str, Mapping[str, tuple[str, str]]],
                parents: Collection[str] | None) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    parent_set = set(parents) if parents is not None else None
    for name, f in FIELDS[kind].items():
        if name not in gdf.columns:
            if f.required:
                problems.append(Problem("required column is missing", field=name))
            continue
        out[name] = _column(gdf[name].tolist(), f, name, problems, codes, parent_set)
    return out


def _ids(gdf: gpd.GeoDataFrame, problems: list[Problem]) -> list[str | None]:
    if "external_id" not in gdf.columns:
        problems.append(Problem("required column is missing (map yours to external_id)",
                                field="external_id",
                                hint=Hint(option="map", value="yourcol=external_id")))
        return [None] * len(gdf)
    return check_ids(gdf["external_id"].tolist(), "external_id", problems)


def check_ids(values: list[Any], field: str, problems: list[Problem], *,
              known: Collection[str] | None = None) -> list[str | None]:
    """The ids in column ``field`` (rows numbered from 1) as text, whole floats without
    ``.0``; a blank or non-finite value, a control character, an id given twice and — with
    ``known`` — an id not among them are added to ``problems`` (blank ones give ``None``)."""
    ids: list[str | None] = []
    first: dict[str, int] = {}
    for i, v in enumerate(values, start=1):
        if _blank(v):
            problems.append(Problem("required value is empty", row=i, field=field))
            ids.append(None)
            continue
        if isinstance(v, float) and not np.isfinite(v):
            problems.append(Problem(f"{v!r} is not a valid id", row=i, field=field))
            ids.append(None)
            continue
        s = str(int(v)) if isinstance(v, float) and v == int(v) else str(v).strip()
        cc = control_character(s)
        if cc is not None:
            problems.append(Problem(f"text contains the control character {cc}; remove it",
                                    row=i, field=field))
        elif known is not None and s not in known:
            problems.append(Problem(f"no {field} {s!r} in this city", row=i, field=field))
        elif s in first:
            problems.append(Problem(f"duplicate {field} {s!r} (first in row {first[s]})",
                                    row=i, field=field))
        else:
            first[s] = i
        ids.append(s)
    return ids


def _geometries(gdf: gpd.GeoDataFrame, kind: str, problems: list[Problem], *, repair: bool,
                bounds: BaseGeometry | None
                ) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """Checked geometries (Z dropped, repaired if asked), repaired rows, 3-D rows and rows of
    polygons reaching beyond the city's bounds."""
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    allowed = GEOMETRY_TYPES[kind]
    repaired: list[int] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    three_d = ~missing & shapely.has_z(geoms)
    if three_d.any():  # stored 2-D: drop the heights (reported as a warning)
        geoms[three_d] = shapely.force_2d(geoms[three_d])
    coords, where = shapely.get_coordinates(geoms, return_index=True)
    not_finite = np.zeros(len(geoms), dtype=bool)
    not_finite[where[~np.isfinite(coords).all(axis=1)]] = True
    types = np.array([None if m else g.geom_type for g, m in zip(geoms, missing, strict=True)],
                     dtype=object)
    wrong = ~missing & ~not_finite & ~np.isin(types, allowed)
    invalid = ~missing & ~not_finite & ~wrong & ~shapely.is_valid(geoms)
    failed = missing | not_finite | wrong
    for i in np.flatnonzero(missing | not_finite | wrong | invalid):
        row, g = int(i) + 1, geoms[i]
        if missing[i]:
            problems.append(Problem("missing or empty geometry (or non-numeric coordinates)",
                                    row=row, field="geometry"))
        elif not_finite[i]:
            problems.append(Problem("coordinates are not finite numbers (NaN or infinity)",
                                    row=row, field="geometry"))
        elif wrong[i]:
            problems.append(Problem(f"geometry is a {types[i]}; a {kind} must be "
                                    f"{' or '.join(allowed)}", row=row, field="geometry"))
        else:
            reason = shapely.is_valid_reason(g)
            if not repair:
                problems.append(Problem(f"invalid geometry ({reason}); repairing fixes it "
                                        "with make_valid", row=row, field="geometry",
                                        hint=Hint(option="repair")))
                failed[i] = True
                continue
            fixed = _polygonal(shapely.make_valid(g)) if allowed == _POLY else None
            if fixed is None or fixed.is_empty or not fixed.is_valid:
                problems.append(Problem(f"invalid geometry ({reason}) that cannot be repaired",
                                        row=row, field="geometry"))
                failed[i] = True
                continue
            geoms[i] = fixed
            repaired.append(row)
    overhang = _coordinates(geoms, problems, bounds, present=~(missing | not_finite))
    if kind in MAX_AREA_KM2:
        _areas(geoms, ~failed, kind, problems)
    return geoms, repaired, [int(i) + 1 for i in np.flatnonzero(three_d)], overhang


def _polygonal(g: BaseGeometry) -> BaseGeometry | None:
    parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type in _POLY]
    if not parts:
        return None
    return shapely.union_all(parts)


def city_zone(bounds: BaseGeometry) -> BaseGeometry:
    """The city's bounds widened by :data:`BOUNDS_MARGIN_DEG` (prepared)."""
    zone = shapely.buffer(bounds, BOUNDS_MARGIN_DEG, join_style="mitre")
    shapely.prepare(zone)
    return zone


def _all_inside(zone: BaseGeometry, geoms: np.ndarray) -> np.ndarray:
    """True where every coordinate of the geometry (every part, every ring) is in ``zone``."""
    coords, where = shapely.get_coordinates(geoms, return_index=True)
    inside = shapely.covers(zone, shapely.points(coords)) if len(coords) else np.ones(0, bool)
    out = np.ones(len(geoms), dtype=bool)
    np.logical_and.at(out, where, inside)
    return out


def _stray_parts(zone: BaseGeometry, geoms: np.ndarray) -> np.ndarray:
    """True where some part of the geometry (a polygon of a multipolygon, or the whole
    geometry) does not touch ``zone`` at all."""
    parts, where = shapely.get_parts(geoms, return_index=True)
    out = np.zeros(len(geoms), dtype=bool)
    out[where[~shapely.intersects(zone, parts)]] = True
    return out


def _coordinates(geoms: np.ndarray, problems: list[Problem], bounds: BaseGeometry | None, *,
                 present: np.ndarray | None = None) -> list[int]:
    """Lon/lat range, swapped lon/lat and the city's bounds, for the ``present`` geometries
    (default: those neither missing nor empty, with finite coordinates).

    Points must lie inside the bounds widened by :data:`BOUNDS_MARGIN_DEG`. A polygon may
    reach beyond them (a street's grids often do) as long as each of its parts overlaps
    them; the rows of such polygons are returned (for a warning). A polygon, or a part of
    a multipolygon, wholly outside is a problem.
    """
    if present is None:
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        coords, where = shapely.get_coordinates(geoms, return_index=True)
        present[where[~np.isfinite(coords).all(axis=1)]] = False
    if not present.any():
        return []
    idx = np.flatnonzero(present)
    env = shapely.bounds(geoms[idx])
    x, y = (env[:, 0] + env[:, 2]) / 2, (env[:, 1] + env[:, 3]) / 2
    points = np.isin(shapely.get_type_id(geoms[idx]), (0, 4))  # Point, MultiPoint
    not_degrees = (env[:, 0] < -180) | (env[:, 2] > 180) | (env[:, 1] < -90) | (env[:, 3] > 90)
    overhang = np.zeros(len(idx), dtype=bool)
    if bounds is not None:
        zone = city_zone(bounds)
        inside = _all_inside(zone, geoms[idx])
        overhang = ~inside & ~points & ~not_degrees & ~_stray_parts(zone, geoms[idx])
        swapped = ~inside & ~overhang & shapely.covers(zone, shapely.points(y, x))
    else:
        inside = np.ones(len(idx), dtype=bool)
        swapped = np.zeros(len(idx), dtype=bool)
    for k in np.flatnonzero((~inside & ~overhang) | not_degrees):
        row = int(idx[k]) + 1
        if swapped[k]:
            problems.append(Problem(
                f"coordinates look like (lat, lon) = ({x[k]:.6f}, {y[k]:.6f}): longitude and "
                "latitude are swapped (swap the columns)", row=row, field="geometry",
                hint=Hint(option="map", value="lon=lat lat=lon")))
        elif not_degrees[k]:
            problems.append(Problem(
                f"coordinates ({x[k]:.1f}, {y[k]:.1f}) are not lon/lat degrees; declare the "
                "file's projected CRS", row=row, field="geometry",
                hint=Hint(option="crs", value="EPSG:n")))
        else:
            assert bounds is not None
            b = bounds.bounds
            city = f"({b[0]:.4f}, {b[1]:.4f}, {b[2]:.4f}, {b[3]:.4f})"
            where = (f"({x[k]:.6f}, {y[k]:.6f}) is" if points[k] else
                     f"the geometry spans ({env[k, 0]:.6f}, {env[k, 1]:.6f}) to "
                     f"({env[k, 2]:.6f}, {env[k, 3]:.6f}); a part of it lies wholly")
            problems.append(Problem(f"{where} outside the city's bounds {city} (with a margin "
                                    f"of {BOUNDS_MARGIN_DEG:g}°)", row=row, field="geometry"))
    return [int(idx[k]) + 1 for k in np.flatnonzero(overhang)]


def _areas(geoms: np.ndarray, check: np.ndarray, kind: str, problems: list[Problem]) -> None:
    """Polygons larger than :data:`geo.domain.MAX_AREA_KM2` for ``kind`` are problems."""
    limit = MAX_AREA_KM2[kind]
    idx = np.flatnonzero(check)
    if not len(idx):
        return
    env = shapely.bounds(geoms[idx])
    lat = np.clip((env[:, 1] + env[:, 3]) / 2, -89.0, 89.0)
    rough = shapely.area(geoms[idx]) * 111.32 * 110.57 * np.cos(np.radians(lat))  # km²
    for k in np.flatnonzero(rough > limit / 2):  # only likely ones get the geodesic area
        km2 = abs(_GEOD.geometry_area_perimeter(geoms[idx[k]])[0]) / 1e6
        if km2 > limit:
            problems.append(Problem(
                f"the polygon covers {km2:,.1f} km², more than a {kind} plausibly can "
                f"(at most {limit:g} km²); check its units/CRS and that it is a {kind}",
                row=int(idx[k]) + 1, field="geometry"))


def _gates(attrs: dict[str, list[Any]], problems: list[Problem],
           bounds: BaseGeometry | None) -> None:
    """Compound gates: 2-D, and inside the city's bounds like every geometry."""
    gates = attrs.get("gates")
    if not gates:
        return
    rows = [i for i, g in enumerate(gates) if g is not None]
    for i in rows:
        gates[i] = shapely.force_2d(gates[i])
    if bounds is None or not rows:
        return
    inside = _all_inside(city_zone(bounds), np.array([gates[i] for i in rows], dtype=object))
    for i, ok in zip(rows, inside, strict=True):
        if not ok:
            problems.append(Problem("a gate lies outside the city's bounds (with a margin of "
                                    f"{BOUNDS_MARGIN_DEG:g}°)", row=i + 1, field="gates"))


def _case_rules(attrs: dict[str, list[Any]], problems: list[Problem]) -> None:
    rep = attrs.get("reported_at", [])
    closed = attrs.get("closed_at", [None] * len(rep))
    status = attrs.get("status", [None] * len(rep))
    for i, (r, c, s) in enumerate(zip(rep, closed, status, strict=False), start=1):
        if r is not None and c is not None and c < r:
            problems.append(Problem(f"closed_at {c.isoformat()} is before reported_at "
                                    f"{r.isoformat()}", row=i, field="closed_at"))
        if s == "closed" and c is None:
            problems.append(Problem("status is closed but closed_at is empty", row=i,
                                    field="closed_at"))
        elif s is not None and s != "closed" and c is not None:
            problems.append(Problem(f"status is {s} but closed_at is set (only closed cases "
                                    "have closed_at)", row=i, field="status"))


def _compound_rules(attrs: dict[str, list[Any]], problems: list[Problem]) -> None:
    """Each age group given is at most the residents, and so are the groups together."""
    residents = attrs.get("residents", [])
    groups = {f: attrs.get(f, [None] * len(residents)) for f in AGE_GROUP_FIELDS}
    for i, r in enumerate(residents):
        if r is None:
            continue
        given = {f: v[i] for f, v in groups.items() if i < len(v) and v[i] is not None}
        for f, v in given.items():
            if v > r:
                problems.append(Problem(f"{f} ({v}) exceeds residents ({r})", row=i + 1,
                                        field=f))
        total = sum(given.values())
        if len(given) > 1 and total > r and all(v <= r for v in given.values()):
            problems.append(Problem(
                f"the age groups add up to {total} ({' + '.join(map(str, given.values()))}), "
                f"more than the residents ({r})", row=i + 1, field="+".join(given)))


def validate_features(gdf: gpd.GeoDataFrame, kind: str, *,
                      codes: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
                      bounds: BaseGeometry | None = None, parents: Collection[str] | None = None,
                      repair: bool = False) -> Validated:
    """Check every row of ``gdf`` (EPSG:4326) as features of ``kind``; raise once.

    Parameters
    ----------
    codes
        Allowed codes per lookup table, ``{"service_type": {code: (zh, en)}, "case_category":
        {...}}``; codes, Chinese and English names are accepted and stored as codes.
    bounds
        The city's bounds (EPSG:4326): every point (and compound gate) must lie inside,
        widened by :data:`BOUNDS_MARGIN_DEG`; a polygon must overlap them with each of its
        parts and may reach beyond them (named in a warning); swapped lon/lat is
        recognised against them. Polygons larger than :data:`geo.domain.MAX_AREA_KM2`
        for their kind are rejected too.
    parents
        External ids of the existing parents (streets for communities, communities for
        grids and compounds); ``None`` skips the check.
    repair
        Repair invalid polygons with ``make_valid`` (reported in ``Validated.repaired``)
        instead of rejecting them.
    """
    if kind not in FIELDS:
        raise InvalidInputError(f"unknown kind {kind!r}; allowed: {', '.join(FIELDS)}")
    if gdf.crs is None or gdf.crs.to_epsg() != WGS84:
        raise CRSError(f"features must be in EPSG:4326 before validation, got {gdf.crs}")
    gdf, ignored = normalise_columns(gdf, kind)
    problems: list[Problem] = []
    ids = _ids(gdf, problems)
    attrs = _attributes(gdf, kind, problems, codes or {}, parents)
    geoms, repaired, three_d, overhang = _geometries(gdf, kind, problems, repair=repair,
                                                     bounds=bounds)
    _gates(attrs, problems, bounds)
    if kind == "grid_case":
        _case_rules(attrs, problems)
    if kind == "compound":
        _compound_rules(attrs, problems)
    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        raise InvalidInputError(f"{len(problems)} problem(s) in the {kind} data", problems)
    data: dict[str, Any] = {"external_id": ids}
    for name, values in attrs.items():
        f = FIELDS[kind][name]
        if f.kind == "points":
            data[name] = gpd.GeoSeries(values, crs=WGS84)
        elif f.kind == "datetime":
            data[name] = pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[ns, UTC]")
        elif f.kind == "int":
            data[name] = pd.array(values, dtype="Int64")
        else:
            data[name] = values
    frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs=WGS84)
    warnings = tuple([f"ignored columns: {', '.join(ignored)}"] if ignored else [])
    if repaired:
        warnings += (f"repaired invalid geometries in row(s) {', '.join(map(str, repaired))}",)
    if three_d:
        rows = _listed([str(r) for r in three_d])
        warnings += (f"dropped the Z (height) coordinates of 3-D geometries in row(s) {rows}",)
    if overhang and bounds is not None:
        b = ", ".join(f"{v:.4f}" for v in bounds.bounds)
        named = _listed([f"row {r} (id {ids[r - 1]})" for r in overhang])
        note = (f"{len(overhang)} polygon(s) reach beyond the city's OpenStreetMap bounds "
                f"({b}) and were imported as they are: {named}")
        warnings += (note,)
    return Validated(frame, tuple(repaired), warnings)


def _listed(items: list[str], most: int = 10) -> str:
    """``a, b, c`` — the first ``most`` items and how many more."""
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more
