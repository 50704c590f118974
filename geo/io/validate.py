"""Validation of imported features: collect every problem, then raise once.

Pure functions: they take a frame plus the allowed codes, the city's bounds and the known
parent ids, and return a cleaned, typed frame in EPSG:4326 — or raise one
:class:`InvalidInputError` listing every (row, field, reason). Rows are numbered from 1
in file order (row 1 = the first feature / the first data line under a CSV header).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs.utm import WGS84
from geo.domain import CaseStatus, PropertyManagement
from geo.errors import CRSError, InvalidInputError, Problem

#: Timestamps without a zone are taken as China Standard Time.
LOCAL_TZ = "Asia/Shanghai"

FieldKind = Literal["text", "int", "float", "datetime", "code", "enum", "list", "points", "parent"]


@dataclass(frozen=True)
class Field:
    """One attribute of a kind: type, required or not, bounds or allowed values."""

    kind: FieldKind
    required: bool = False
    min: float | None = None
    max: float | None = None
    lookup: str | None = None  # name of the lookup table for "code" fields
    values: Mapping[str, str] = field(default_factory=dict)  # alias → value for "enum"


_STATUS = {s.value: s.value for s in CaseStatus} | {
    "已上报": "reported", "待处理": "reported", "上报": "reported", "已派单": "dispatched",
    "派单": "dispatched", "处理中": "handling", "办理中": "handling", "已办结": "closed",
    "办结": "closed", "已关闭": "closed"}
_PM = {p.value: p.value for p in PropertyManagement} | {
    "有物业": "managed", "无物业": "unmanaged", "未知": "unknown"}
_POLY = ("Polygon", "MultiPolygon")

FIELDS: dict[str, dict[str, Field]] = {
    "street": {"name": Field("text", True)},
    "community": {"name": Field("text", True), "street": Field("parent")},
    "grid": {"name": Field("text", True), "community": Field("parent")},
    "compound": {
        "name": Field("text", True), "community": Field("parent"),
        "households": Field("int", True, min=0), "residents": Field("int", True, min=0),
        "elderly": Field("int", min=0), "property_management": Field("enum", values=_PM),
        "gates": Field("points")},
    "service_point": {
        "type": Field("code", True, lookup="service_type"), "name": Field("text", True),
        "address": Field("text"), "opening_hours": Field("text"), "services": Field("list"),
        "capacity": Field("int", min=0), "floor_area_m2": Field("float", min=1e-9)},
    "grid_case": {
        "category": Field("code", True, lookup="case_category"),
        "reported_at": Field("datetime", True), "closed_at": Field("datetime"),
        "status": Field("enum", True, values=_STATUS), "satisfaction": Field("int", min=1, max=5),
        "handling_unit": Field("text"), "channel": Field("text"), "description": Field("text")},
    "siting_candidate": {
        "name": Field("text"), "kind": Field("text"), "cost": Field("float", min=0),
        "capacity": Field("float", min=0)},
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
    "kind": ("场地类型", "用房类型", "candidate_kind")}


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


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        x = float(v.strip().replace(",", "") if isinstance(v, str) else v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _code_lookup(allowed: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, (zh, en) in allowed.items():
        for k in (code, zh, en):
            out[k.strip().lower()] = code
    return out


def _cell(v: Any, f: Field, name: str, row: int, problems: list[Problem],
          codes: Mapping[str, Mapping[str, tuple[str, str]]]) -> Any:
    """The typed value of one non-blank cell, or ``None`` with a problem recorded."""
    def bad(reason: str) -> None:
        problems.append(Problem(reason, row=row, field=name))

    if f.kind in ("text", "parent"):
        return str(v).strip()
    if f.kind in ("int", "float"):
        x = _number(v)
        if x is None:
            return bad(f"{v!r} is not a number")
        if f.kind == "int" and x != int(x):
            return bad(f"{v!r} is not a whole number")
        if (f.min is not None and x < f.min) or (f.max is not None and x > f.max):
            lo = "" if f.min is None else f"≥ {f.min:g}"
            hi = "" if f.max is None else f"≤ {f.max:g}"
            return bad(f"{v!r} is out of range (must be {' and '.join(s for s in (lo, hi) if s)})")
        return int(x) if f.kind == "int" else x
    if f.kind == "datetime":
        ts = _timestamp(v)
        return ts if ts is not None else bad(f"{v!r} is not a date/time (e.g. 2026-03-01 09:30)")
    if f.kind in ("code", "enum"):
        allowed = codes.get(f.lookup or "", {})
        table = _code_lookup(allowed) if f.kind == "code" else {k.lower(): c for k, c in
                                                                f.values.items()}
        code = table.get(str(v).strip().lower())
        if code is None:
            choices = sorted(allowed) if f.kind == "code" else sorted(set(f.values.values()))
            return bad(f"unknown {name} {v!r}; allowed: {', '.join(choices)}")
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
        problems.append(Problem("required column is missing (map yours with --map col=external_id)",
                                field="external_id"))
        return [None] * len(gdf)
    ids: list[str | None] = []
    first: dict[str, int] = {}
    for i, v in enumerate(gdf["external_id"].tolist(), start=1):
        if _blank(v):
            problems.append(Problem("required value is empty", row=i, field="external_id"))
            ids.append(None)
            continue
        s = str(int(v)) if isinstance(v, float) and v == int(v) else str(v).strip()
        if s in first:
            problems.append(Problem(f"duplicate external_id {s!r} (first in row {first[s]})",
                                    row=i, field="external_id"))
        else:
            first[s] = i
        ids.append(s)
    return ids


def _geometries(gdf: gpd.GeoDataFrame, kind: str, problems: list[Problem], *, repair: bool,
                bounds: BaseGeometry | None) -> tuple[np.ndarray, list[int]]:
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    allowed = GEOMETRY_TYPES[kind]
    repaired: list[int] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.array([None if m else g.geom_type for g, m in zip(geoms, missing, strict=True)],
                     dtype=object)
    wrong = ~missing & ~np.isin(types, allowed)
    invalid = ~missing & ~wrong & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(missing | wrong | invalid):
        row, g = int(i) + 1, geoms[i]
        if missing[i]:
            problems.append(Problem("missing or empty geometry (or non-numeric coordinates)",
                                    row=row, field="geometry"))
        elif wrong[i]:
            problems.append(Problem(f"geometry is a {types[i]}; a {kind} must be "
                                    f"{' or '.join(allowed)}", row=row, field="geometry"))
        else:
            reason = shapely.is_valid_reason(g)
            if not repair:
                problems.append(Problem(f"invalid geometry ({reason}); use --repair to fix it "
                                        "with make_valid", row=row, field="geometry"))
                continue
            fixed = _polygonal(shapely.make_valid(g)) if allowed == _POLY else None
            if fixed is None or fixed.is_empty or not fixed.is_valid:
                problems.append(Problem(f"invalid geometry ({reason}) that cannot be repaired",
                                        row=row, field="geometry"))
                continue
            geoms[i] = fixed
            repaired.append(row)
    _coordinates(geoms, problems, bounds)
    return geoms, repaired


def _polygonal(g: BaseGeometry) -> BaseGeometry | None:
    parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type in _POLY]
    if not parts:
        return None
    return shapely.union_all(parts)


def _coordinates(geoms: np.ndarray, problems: list[Problem], bounds: BaseGeometry | None) -> None:
    """Lon/lat range, swapped lon/lat and outside-the-city checks on a representative point."""
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    idx = np.flatnonzero(present)
    reps = shapely.point_on_surface(geoms[idx])
    x, y = shapely.get_x(reps), shapely.get_y(reps)
    env = shapely.bounds(geoms[idx])
    not_degrees = (env[:, 0] < -180) | (env[:, 2] > 180) | (env[:, 1] < -90) | (env[:, 3] > 90)
    if bounds is not None:
        shapely.prepare(bounds)
        inside = shapely.covers(bounds, reps)
        swapped = ~inside & shapely.covers(bounds, shapely.points(y, x))
    else:
        inside = np.ones(len(idx), dtype=bool)
        swapped = np.zeros(len(idx), dtype=bool)
    for k in np.flatnonzero(~inside | not_degrees):
        row = int(idx[k]) + 1
        if swapped[k]:
            problems.append(Problem(
                f"coordinates look like (lat, lon) = ({x[k]:.6f}, {y[k]:.6f}): longitude and "
                "latitude are swapped (swap the columns, e.g. --map lon=lat --map lat=lon)",
                row=row, field="geometry"))
        elif not_degrees[k]:
            problems.append(Problem(
                f"coordinates ({x[k]:.1f}, {y[k]:.1f}) are not lon/lat degrees; declare the "
                "file's projected CRS with --crs EPSG:n", row=row, field="geometry"))
        else:
            assert bounds is not None
            b = bounds.bounds
            problems.append(Problem(
                f"({x[k]:.6f}, {y[k]:.6f}) is outside the city's bounds "
                f"({b[0]:.4f}, {b[1]:.4f}, {b[2]:.4f}, {b[3]:.4f})", row=row, field="geometry"))


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
    for i, (e, r) in enumerate(zip(attrs.get("elderly", []), attrs.get("residents", []),
                                   strict=False), start=1):
        if e is not None and r is not None and e > r:
            problems.append(Problem(f"elderly ({e}) exceeds residents ({r})", row=i,
                                    field="elderly"))


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
        The city's bounds (EPSG:4326): points and representative points of polygons must
        lie inside; swapped lon/lat is recognised against them.
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
    geoms, repaired = _geometries(gdf, kind, problems, repair=repair, bounds=bounds)
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
    return Validated(frame, tuple(repaired), warnings)
