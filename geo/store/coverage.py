"""Coverage analysis runs in PostGIS: store and read the results.

:func:`write_run` stores a :class:`geo.coverage.CoverageResult` as one ``analysis_run``
(kind ``coverage``; parameters, the ``layer_version`` figures of its inputs, time,
summary) with its result rows (migration 0002); :func:`geo.runs.run_coverage` computes
it. Functions take a connection and never commit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.coverage.analysis import (
    PEOPLE_COLUMNS,
    STATUSES,
    TARGET_COLUMNS,
    CoverageResult,
    coverage_by_unit,
)
from geo.crs.utm import WGS84
from geo.errors import Hint, InvalidInputError, NotFoundError, Problem
from geo.io.hours import open_mask, parse_moment
from geo.store.cities import City, data_version
from geo.store.inputs import UNIT_KINDS, read_services

KIND = "coverage"
INPUT_TABLES = ("street_node", "street_edge", "compound", "service_point", "grid_compound",
                "grid", "community")


def _wkb(v: Any) -> Any:
    return None if v is None else shapely.from_wkb(bytes(v))


def _f(v: Any) -> float | None:
    """A float for the database: NaN → NULL, inf stays Infinity."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def _i(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _multi(geoms: Any) -> list[str]:
    arr = np.asarray(geoms, dtype=object)
    poly = shapely.get_type_id(arr) == 3
    arr = arr.copy()
    arr[poly] = shapely.multipolygons(arr[poly][:, None]) if poly.any() else arr[poly]
    return list(shapely.to_wkb(shapely.set_srid(arr, WGS84), hex=True, include_srid=True))


def _copy(conn: Connection, table: str, cols: Sequence[str], rows: Any) -> None:
    raw = conn.connection.driver_connection
    # table and columns come from the constants of this module
    with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
            f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def _polygonal(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows with a non-empty polygonal geometry (lines/points left by overlays dropped)."""
    g = gdf[gdf.geometry.notna()].copy()
    g = g[~g.geometry.is_empty]
    polys = [shapely.union_all([p for p in shapely.get_parts(x) if p.geom_type in
                                ("Polygon", "MultiPolygon")]) for x in g.geometry.values]
    g["geometry"] = polys
    return g[~g.geometry.is_empty]


def summarize(result: CoverageResult, compounds: gpd.GeoDataFrame) -> dict[str, Any]:
    """The headline figures stored with a run: compounds, types, data completeness,
    residents and people of each type's target group inside the largest threshold (whole
    people; the target group's only over compounds whose group size is known)."""
    near = result.nearest.table
    cov = result.compounds
    top = cov[cov["budget_m"] == cov.groupby("type")["budget_m"].transform("max")]
    return {
        "compounds": len(compounds), "service_types": sorted(set(near["type"])),
        "unsnapped_compounds": len(result.nearest.unsnapped_origins),
        "unsnapped_services": len(result.nearest.unsnapped_services),
        "residents": int(compounds["residents"].sum()),
        "residents_in_15min": {t: int(g["residents_in"].sum()) for t, g in top.groupby("type")},
        "target_in_15min": {t: int(g["target_in"].sum()) for t, g in top.groupby("type")},
        "walkers": {t: {"target_group": w.group, "speed_m_per_min": w.speed_m_per_min}
                    for t, w in sorted(result.walkers.items())},
        "data": dict(result.data), "trim_m": result.trim_m, "cell_m": result.cell_m,
    }


def city_links(compounds: gpd.GeoDataFrame, city_id: int) -> pd.DataFrame:
    """Every compound whole in its city: the links of the ``city`` totals."""
    return pd.DataFrame({"compound_id": compounds["id"].to_numpy(), "unit_id": city_id,
                         "share": 1.0})


def write_run(conn: Connection, city: City, result: CoverageResult, compounds: gpd.GeoDataFrame,
              links: dict[str, pd.DataFrame], *, params: dict[str, Any],
              versions: dict[str, int], summary: dict[str, Any] | None = None) -> int:
    """Store ``result`` as a new coverage run of ``city``; returns the run id.

    Unit tables (grid, community, street and the ``city`` totals) are
    :func:`geo.coverage.analysis.coverage_by_unit` of the compound coverage; the gaps
    carry their compounds' people outside, so both add up to the same figures.
    """
    near = result.nearest.table
    summary = summary if summary is not None else summarize(result, compounds)
    run_id = int(conn.execute(text(
        "INSERT INTO analysis_run (city_id, kind, params, data_version, summary) "
        "VALUES (:c, :k, CAST(:p AS json), CAST(:v AS json), CAST(:s AS json)) RETURNING id"),
        {"c": city.id, "k": KIND, "p": json.dumps(params), "v": json.dumps(versions),
         "s": json.dumps(summary)}).scalar_one())
    c = city.id
    _copy(conn, "coverage_compound", (
        "run_id", "city_id", "compound_id", "service_type", "nearest_id", "nearest_m",
        "nearest_min", "second_id", "second_m", "second_min", "snapped", "origin_kind",
        "target_group", "speed_m_per_min"),
        ((run_id, c, int(r.origin), r.type, _i(r.nearest_id), _f(r.nearest_m),
          _f(r.nearest_min), _i(r.second_id), _f(r.second_m), _f(r.second_min), bool(r.snapped),
          getattr(r, "origin_kind", None), result.walkers[r.type].group,
          result.walkers[r.type].speed_m_per_min)
         for r in near.itertuples()))
    counts = [f"compounds_{k}" for k in STATUSES]
    units = {**links, "city": city_links(compounds, c)}
    for kind in (*UNIT_KINDS, "city"):
        u = coverage_by_unit(result.compounds, units[kind])
        _copy(conn, "coverage_unit", ("run_id", "city_id", "unit_kind", "unit_id",
                                      "service_type", "minutes", "budget_m", "compounds",
                                      *counts, "residents", "households", *PEOPLE_COLUMNS,
                                      "share_covered", "target_group", "speed_m_per_min",
                                      "target", *TARGET_COLUMNS, "compounds_target_unknown",
                                      "target_share_covered"),
              ((run_id, c, kind, int(r["unit_id"]), r["type"], _f(r["minutes"]),
                float(r["budget_m"]), int(r["compounds"]), *(int(r[k]) for k in counts),
                int(r["residents"]), int(r["households"]), *(int(r[p]) for p in PEOPLE_COLUMNS),
                _f(r["share_covered"]), r["target_group"], float(r["speed_m_per_min"]),
                int(r["target"]), *(int(r[p]) for p in TARGET_COLUMNS),
                int(r["compounds_target_unknown"]), _f(r["target_share_covered"]))
               for _, r in u.iterrows()))
    _copy(conn, "coverage_completeness", ("run_id", "city_id", "compound_id", "n_required",
                                          "n_within", "score", "missing"),
          ((run_id, c, int(r.compound_id), int(r.n_required), int(r.n_within), _f(r.score),
            r.missing) for r in result.completeness.itertuples()))
    circ = _polygonal(result.circles.to_crs(WGS84))
    _copy(conn, "service_circle", ("run_id", "city_id", "service_point_id", "service_type",
                                   "minutes", "budget_m", "street_m", "geom"),
          ((run_id, c, int(r.service_id), r.type, _f(r.minutes), float(r.budget_m),
            float(r.street_m), g) for r, g in zip(circ.itertuples(), _multi(circ.geometry),
                                                  strict=True)))
    uni = _polygonal(result.unions.to_crs(WGS84))
    _copy(conn, "service_circle_union", ("run_id", "city_id", "service_type", "minutes",
                                         "budget_m", "n_points", "geom"),
          ((run_id, c, r.type, _f(r.minutes), float(r.budget_m), int(r.n_points), g)
           for r, g in zip(uni.itertuples(), _multi(uni.geometry), strict=True)))
    gaps = result.gaps
    polys = _polygonal(gaps)
    if len(polys) != len(gaps):  # a gap is never dropped: its people are the table's
        raise ValueError("a coverage gap has no polygonal geometry")
    _copy(conn, "coverage_gap", ("run_id", "city_id", "compound_id", "service_type", "minutes",
                                 "budget_m", "nearest_min", "residents", "households",
                                 "target_group", "speed_m_per_min", "target",
                                 "gap_area_m2", "geom"),
          ((run_id, c, int(r.compound_id), r.type, _f(r.minutes), float(r.budget_m),
            _f(r.nearest_min), int(r.residents), int(r.households), r.target_group,
            float(r.speed_m_per_min), _i(r.target), float(r.gap_area_m2), g)
           for r, g in zip(polys.itertuples(), _multi(polys.geometry), strict=True)))
    return run_id


def latest_run(conn: Connection, city_id: int, *, at: str | None = None) -> dict[str, Any]:
    """The newest coverage run of a city: ``id, params, data_version, created_at, summary``.

    Without ``at`` the newest all-day run (every service point). With ``at`` (a moment,
    :func:`geo.io.hours.parse_moment`) the newest run on the current data whose closed
    service points are those closed at ``at`` by the stored opening hours — the same
    computation whatever moment it was run for; when none is closed then, the all-day run.
    The returned ``at`` is the moment asked for. :class:`NotFoundError` (``no-run``) if none.
    """
    if at is None:
        row = conn.execute(text("SELECT id, params, data_version, created_at, summary "
                                "FROM coverage_run_latest WHERE city_id = :c"),
                           {"c": city_id}).one_or_none()
        if row is None:
            raise NotFoundError("no coverage run for this city yet", code="no-run",
                                hint=Hint(run="coverage"))
        return {**dict(row._mapping), "at": None}
    moment = parse_moment(at)
    services = read_services(conn, city_id)
    is_open = open_mask(services["opening_hours"], moment,
                        ids=services["external_id"].tolist())
    closed = sorted(int(i) for i in services["id"].to_numpy()[~is_open])
    if not closed:
        return {**latest_run(conn, city_id), "at": moment.label}
    current = data_version(conn, INPUT_TABLES)
    rows = conn.execute(text(
        "SELECT id, params, data_version, created_at, summary FROM analysis_run "
        "WHERE city_id = :c AND kind = :k AND (params ->> 'at') IS NOT NULL "
        "ORDER BY created_at DESC, id DESC"), {"c": city_id, "k": KIND}).all()
    for r in rows:
        if sorted(r.params.get("closed_service_ids", [])) == closed and \
                r.data_version == current:
            return {**dict(r._mapping), "at": moment.label}
    raise NotFoundError(
        f"no coverage run for the service points open at {moment.label} ({len(closed)} closed "
        f"then) on the current data; run the coverage analysis with at = {moment.label!r}",
        code="no-run", hint=Hint(option="at", value=moment.label, run="coverage"))


def _budget_filter(minutes: float | None) -> tuple[str, dict[str, Any]]:
    if minutes is None:
        return "", {}
    return " AND t.minutes = :minutes", {"minutes": float(minutes)}


def run_contents(conn: Connection, city_id: int, run_id: int
                 ) -> tuple[list[str], list[float], list[float]]:
    """Service types, minute thresholds and network-metre budgets coverage run ``run_id`` of
    city ``city_id`` holds."""
    rows = conn.execute(text("SELECT DISTINCT service_type, minutes, budget_m FROM coverage_unit "
                             "WHERE city_id = :c AND run_id = :r"),
                        {"c": city_id, "r": run_id}).all()
    types = sorted({r.service_type for r in rows})
    minutes = sorted({float(r.minutes) for r in rows if r.minutes is not None})
    metres = sorted({float(r.budget_m) for r in rows if r.minutes is None})
    return types, minutes, metres


def _fmt(x: float) -> str:
    return f"{x:g}"


def check_available(conn: Connection, city_id: int, run_id: int, *, service_type: str | None = None,
                    minutes: float | None = None) -> None:
    """Raise :class:`InvalidInputError` (``unavailable-threshold`` /
    ``unavailable-service-type``, the available ones named) when the run holds no results of
    ``service_type`` or for a ``minutes`` threshold — an empty table would look like "nobody
    is covered"."""
    if not service_type and minutes is None:
        return
    types, thresholds, metres = run_contents(conn, city_id, run_id)
    if service_type and service_type not in types:
        raise InvalidInputError(
            f"the coverage run has no {service_type!r} service points",
            [Problem(f"no {service_type} in this coverage run (the city has no such service "
                     f"points); available: {', '.join(types) or 'none'}", field="service_type")],
            code="unavailable-service-type", suggestions=tuple(types))
    if minutes is not None and float(minutes) not in thresholds:
        shown = ", ".join(map(_fmt, thresholds)) or "none"
        also = (f" (the run used network distances: {', '.join(map(_fmt, metres))} m)"
                if metres and not thresholds else "")
        raise InvalidInputError(
            f"no {_fmt(minutes)}-minute threshold in the coverage run",
            [Problem(f"no {_fmt(minutes)}-minute threshold in this coverage run; available: "
                     f"{shown}{also}", field="minutes")],
            code="unavailable-threshold", suggestions=tuple(map(_fmt, thresholds)))


def compound_rows(conn: Connection, city_id: int, *, service_type: str | None = None,
                  at: str | None = None) -> list[dict[str, Any]]:
    """Per compound and type of the latest run: nearest / second nearest (ids, metres,
    minutes; None when unreachable or not snapped), the access point used (``origin_kind``:
    gate, inferred_gate or interior_point) and people. A type the run does not hold raises
    (:func:`check_available`). ``at``: the run of the points open then (:func:`latest_run`)."""
    run = latest_run(conn, city_id, at=at)
    sql = ("SELECT c.id AS compound_id, c.external_id, c.name, t.service_type, "
           "n.external_id AS nearest, t.nearest_m, t.nearest_min, s.external_id AS second, "
           "t.second_m, t.second_min, t.snapped, t.origin_kind, c.residents, c.households, "
           "t.target_group, t.speed_m_per_min, CASE t.target_group WHEN 'all' THEN c.residents "
           "WHEN 'age_0_14' THEN c.age_0_14 WHEN 'age_15_59' THEN c.age_15_59 "
           "WHEN 'age_60_plus' THEN c.elderly END AS target "
           "FROM coverage_compound t "
           "JOIN compound c ON c.id = t.compound_id AND c.city_id = t.city_id "
           "LEFT JOIN service_point n ON n.id = t.nearest_id "
           "LEFT JOIN service_point s ON s.id = t.second_id WHERE t.city_id = :c AND t.run_id = :r")
    params: dict[str, Any] = {"c": city_id, "r": run["id"]}
    check_available(conn, city_id, run["id"], service_type=service_type)
    if service_type:
        sql += " AND t.service_type = :t"
        params["t"] = service_type
    rows = conn.execute(text(sql + " ORDER BY c.id, t.service_type"), params).all()
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["reachable"] = d["nearest_m"] is not None and math.isfinite(d["nearest_m"])
        out.append(_finite(d))
    return out


_UNIT_COLUMNS = ("t.compounds, t.compounds_in, t.compounds_out, t.compounds_unknown, "
                 "t.residents, t.residents_in, t.residents_out, t.residents_unknown, "
                 "t.households, t.households_in, t.households_out, t.households_unknown, "
                 "t.share_covered, t.target_group, t.speed_m_per_min, t.target, t.target_in, "
                 "t.target_out, t.target_unknown, t.compounds_target_unknown, "
                 "t.target_share_covered")


def unit_rows(conn: Connection, city_id: int, *, unit_kind: str,
              service_type: str | None = None, minutes: float | None = None,
              at: str | None = None) -> list[dict[str, Any]]:
    """Coverage in whole people per unit of the latest run (``unit_kind`` grid, community,
    street; ``unit_id`` is the feature id of the ``grids`` / ``communities`` / ``streets``
    layers). A type or minute threshold the run does not hold raises (:func:`check_available`);
    ``at`` as in :func:`latest_run`."""
    if unit_kind not in UNIT_KINDS:
        raise InvalidInputError(f"unknown unit {unit_kind!r}; allowed: {', '.join(UNIT_KINDS)}",
                                [Problem("unknown unit", field="unit")])
    run = latest_run(conn, city_id, at=at)
    check_available(conn, city_id, run["id"], service_type=service_type, minutes=minutes)
    where, params = _budget_filter(minutes)
    params.update({"c": city_id, "r": run["id"], "k": unit_kind})
    if service_type:
        where += " AND t.service_type = :t"
        params["t"] = service_type
    table = {"grid": "grid", "community": "community", "street": "street"}[unit_kind]
    rows = conn.execute(text(
        f"SELECT t.unit_kind, u.id AS unit_id, u.external_id, u.name, t.service_type, "
        f"t.minutes, t.budget_m, {_UNIT_COLUMNS} FROM coverage_unit t "
        f"JOIN {table} u ON u.id = t.unit_id "
        f"WHERE t.city_id = :c AND t.run_id = :r AND t.unit_kind = :k{where} "
        f"ORDER BY u.id, t.service_type, t.budget_m"), params).all()
    return [_finite(dict(r._mapping)) for r in rows]


def coverage_totals(conn: Connection, city_id: int, *, service_type: str, minutes: float,
                    at: str | None = None) -> dict[str, Any] | None:
    """The city totals of the latest run (of the points open ``at``, :func:`latest_run`) for
    one type and threshold (``unit_kind`` ``city``), or None when the run has no such type
    or threshold."""
    run = latest_run(conn, city_id, at=at)
    row = conn.execute(text(
        f"SELECT t.service_type, t.minutes, t.budget_m, {_UNIT_COLUMNS} FROM coverage_unit t "
        "WHERE t.city_id = :c AND t.run_id = :r AND t.unit_kind = 'city' "
        "AND t.service_type = :t AND t.minutes = :m"),
        {"c": city_id, "r": run["id"], "t": service_type, "m": float(minutes)}
    ).one_or_none()
    return None if row is None else _finite(dict(row._mapping))


def gap_rows(conn: Connection, city_id: int, *, service_type: str | None = None,
             minutes: float | None = None, at: str | None = None) -> list[dict[str, Any]]:
    """Gap features of the latest run (of the points open ``at``, :func:`latest_run`; the gap
    layers' rows, without geometry)."""
    run = latest_run(conn, city_id, at=at)
    where, params = _budget_filter(minutes)
    params.update({"c": city_id, "r": run["id"]})
    if service_type:
        where += " AND t.service_type = :t"
        params["t"] = service_type
    rows = conn.execute(text(
        "SELECT t.id, t.compound_id, t.service_type, t.minutes, t.budget_m, t.nearest_min, "
        "t.residents, t.households, t.target_group, t.speed_m_per_min, t.target, "
        "t.gap_area_m2 FROM coverage_gap t "
        f"WHERE t.city_id = :c AND t.run_id = :r{where} ORDER BY t.id"), params).all()
    return [_finite(dict(r._mapping)) for r in rows]


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe: non-finite floats become None (unreachable / unknown)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in d.items()}
