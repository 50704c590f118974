"""Siting storage: demand and stations read for siting, imported candidates, scenarios.

Every function takes a connection and never commits. Geometries are EPSG:4326.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.io.labels import MAX_NAME, check_label, label_reason
from geo.store.cities import data_version
from geo.store.inputs import read_compound_demand

#: Demand measures a scenario may weigh compounds by (column of ``compound``).
WEIGHTS = ("residents", "households", "elderly")
#: All demand kinds: the compound columns plus per-compound counts read by
#: :func:`read_compound_demand` (``cases``, ``rider_demand``).
DEMAND_KINDS = (*WEIGHTS, "cases", "rider_demand")
INPUT_TABLES = ("compound", "service_point", "street_edge", "siting_candidate", "grid_case",
                "courier_demand_point", "courier_compound_demand")


def _wkb(v: Any) -> Any:
    return None if v is None else shapely.from_wkb(bytes(v))


def with_demand(conn: Connection, city_id: int, compounds: gpd.GeoDataFrame, kind: str, *,
                categories: Iterable[str] | None = None, start: datetime | None = None,
                end: datetime | None = None) -> gpd.GeoDataFrame:
    """``compounds`` (from :func:`read_compounds`) with a column named ``kind``: as is for
    the compound columns, else from :func:`read_compound_demand`. Unknown kinds raise
    :class:`InvalidInputError`."""
    if kind in WEIGHTS:
        return compounds
    if kind not in DEMAND_KINDS:
        raise InvalidInputError("unknown demand kind", [Problem(
            f"{kind!r} is not one of {list(DEMAND_KINDS)}", field="weight")])
    d = read_compound_demand(conn, city_id, kind, categories=categories, start=start,
                             end=end)
    return compounds.assign(**{kind: d.reindex(compounds["id"].to_numpy()).fillna(0.0)
                               .to_numpy(float)})


def read_stations(conn: Connection, city_id: int, service_type: str) -> gpd.GeoDataFrame:
    """Service points of one type: ``id, external_id, name`` and the point."""
    rows = conn.execute(text("""
        SELECT id, external_id, name, ST_AsBinary(geom) AS wkb FROM service_point
        WHERE city_id = :city AND type = :type ORDER BY id"""),
        {"city": city_id, "type": service_type}).all()
    return gpd.GeoDataFrame({"id": [int(r.id) for r in rows],
                             "external_id": [r.external_id for r in rows],
                             "name": [r.name for r in rows]},
                            geometry=[_wkb(r.wkb) for r in rows], crs=4326)


def service_type_exists(conn: Connection, code: str) -> bool:
    return conn.execute(text("SELECT 1 FROM service_type WHERE code = :c"),
                        {"c": code}).first() is not None


def read_candidates(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """Imported candidate sites: ``id`` (= external id), ``name, kind, cost, capacity``."""
    rows = conn.execute(text("""
        SELECT external_id, name, kind, cost, capacity, ST_AsBinary(geom) AS wkb
        FROM siting_candidate WHERE city_id = :city ORDER BY id"""), {"city": city_id}).all()
    return gpd.GeoDataFrame(
        {"id": [r.external_id for r in rows], "name": [r.name for r in rows],
         "kind": [r.kind for r in rows],
         "cost": [math.nan if r.cost is None else float(r.cost) for r in rows],
         "capacity": [math.nan if r.capacity is None else float(r.capacity) for r in rows]},
        geometry=[_wkb(r.wkb) for r in rows], crs=4326)


def _candidate_problems(conn: Connection, city_id: int, gdf: gpd.GeoDataFrame) -> list[Problem]:
    """Every problem of candidate sites: CRS, ids, Point geometry inside the city's bounds,
    names, and ``cost``/``capacity`` as finite numbers ≥ 0 (rows from 0)."""
    problems: list[Problem] = []
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        problems.append(Problem("candidates must be in EPSG:4326", field="geometry"))
    if "external_id" not in gdf.columns:
        problems.append(Problem("missing column", field="external_id"))
    else:
        ids = gdf["external_id"].astype(str)
        problems += [Problem("duplicate external_id", row=int(i), field="external_id")
                     for i in np.flatnonzero(ids.duplicated().to_numpy())]
    geoms = gdf.geometry.values
    points = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    problems += [Problem("not a Point", row=int(i), field="geometry")
                 for i in np.flatnonzero(~points)]
    wkb = conn.execute(text("SELECT ST_AsBinary(bounds) FROM city WHERE id = :c"),
                       {"c": city_id}).scalar_one_or_none()
    if wkb is None:
        raise NotFoundError(f"no city with id {city_id}")
    inside = shapely.covers(shapely.from_wkb(bytes(wkb)), geoms)
    problems += [Problem("outside the city's bounds", row=int(i), field="geometry")
                 for i in np.flatnonzero(points & ~inside)]
    for col, max_len in (("name", MAX_NAME), ("kind", 50)):
        for i, v in enumerate(gdf[col] if col in gdf.columns else []):
            reason = label_reason(v, max_len) if isinstance(v, str) else None
            if reason:
                problems.append(Problem(reason, row=i, field=col))
    for col in ("cost", "capacity"):
        if col in gdf.columns:
            raw = gdf[col].to_numpy(dtype=object)
            given = ~pd.isna(gdf[col]).to_numpy()
            v = pd.to_numeric(gdf[col], errors="coerce").to_numpy(dtype=float)
            bad = given & ~(np.isfinite(v) & (v >= 0))
            bad |= np.array([isinstance(x, bool) for x in raw], dtype=bool)
            problems += [Problem("must be a number >= 0", row=int(i), field=col)
                         for i in np.flatnonzero(bad)]
    return problems


def write_candidates(conn: Connection, city_id: int, gdf: gpd.GeoDataFrame) -> int:
    """Upsert imported candidate sites by ``external_id``; returns rows written.

    ``gdf`` needs ``external_id`` and Point geometries in EPSG:4326 inside the city's
    bounds; ``name``, ``kind``, ``cost`` and ``capacity`` are optional (names one line,
    at most 200 characters; numbers finite and ≥ 0). Every problem is reported at once.
    """
    problems = _candidate_problems(conn, city_id, gdf)
    if problems:
        raise InvalidInputError("invalid candidate sites", problems)
    geoms = gdf.geometry.values

    def opt(row: Any, col: str) -> Any:
        v = row.get(col) if col in gdf.columns else None
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    rows = [{"city": city_id, "ext": str(r["external_id"]), "name": str(opt(r, "name") or ""),
             "kind": str(opt(r, "kind") or "other"),
             "cost": None if opt(r, "cost") is None else float(opt(r, "cost")),
             "cap": None if opt(r, "capacity") is None else float(opt(r, "capacity")),
             "wkb": shapely.to_wkb(g)} for (_, r), g in zip(gdf.iterrows(), geoms, strict=True)]
    if rows:
        conn.execute(text("""
            INSERT INTO siting_candidate (city_id, external_id, name, kind, cost, capacity, geom)
            VALUES (:city, :ext, :name, :kind, :cost, :cap, ST_GeomFromWKB(:wkb, 4326))
            ON CONFLICT (city_id, external_id) DO UPDATE SET name = EXCLUDED.name,
                kind = EXCLUDED.kind, cost = EXCLUDED.cost, capacity = EXCLUDED.capacity,
                geom = EXCLUDED.geom"""), rows)
    return len(rows)


@dataclass(frozen=True)
class Scenario:
    """A saved scenario; ``sites`` (EPSG:4326) in rank order with ``rank, candidate, kind,
    name, gain, demand_inside, cost, source``."""

    id: int
    run_id: int
    city_id: int
    name: str
    service_type: str
    model: str
    minutes: float
    weight: str
    total_weight: float
    before_weight: float
    after_weight: float
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str | None
    status: str | None
    created_at: str
    params: dict[str, Any]
    sites: gpd.GeoDataFrame

    def summary(self) -> dict[str, Any]:
        """Everything but the sites, JSON-ready."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "sites"}
        d["n_sites"] = len(self.sites)
        return d


def _num(v: Any) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)


def save_scenario(conn: Connection, city_id: int, *, name: str, service_type: str, model: str,
                  minutes: float, weight: str, totals: dict[str, float],
                  sites: gpd.GeoDataFrame, params: dict[str, Any],
                  solve: dict[str, Any] | None = None) -> int:
    """Record an ``analysis_run`` (kind ``siting``) with its scenario and sites; returns the
    scenario id. ``totals``: ``total_weight, before_weight, after_weight``; ``solve``:
    ``objective, bound, gap, solver, status`` (omitted for what-if scenarios)."""
    check_label(name, "name")
    solve = solve or {}
    run_id = conn.execute(text("""
        INSERT INTO analysis_run (city_id, kind, params, data_version, summary)
        VALUES (:city, 'siting', CAST(:params AS json), CAST(:dv AS json), CAST(:summary AS json))
        RETURNING id"""), {
        "city": city_id, "params": json.dumps(params, default=str),
        "dv": json.dumps(data_version(conn, INPUT_TABLES)),
        "summary": json.dumps(totals | {k: _num(solve.get(k)) for k in ("objective", "gap")})},
    ).scalar_one()
    sid = conn.execute(text("""
        INSERT INTO siting_scenario (run_id, city_id, name, service_type, model, minutes, weight,
            total_weight, before_weight, after_weight, objective, bound, gap, solver, status)
        VALUES (:run, :city, :name, :type, :model, :minutes, :weight, :total, :before, :after,
                :objective, :bound, :gap, :solver, :status) RETURNING id"""), {
        "run": run_id, "city": city_id, "name": name, "type": service_type, "model": model,
        "minutes": float(minutes), "weight": weight, "total": float(totals["total_weight"]),
        "before": float(totals["before_weight"]), "after": float(totals["after_weight"]),
        "objective": _num(solve.get("objective")), "bound": _num(solve.get("bound")),
        "gap": _num(solve.get("gap")), "solver": solve.get("solver"),
        "status": solve.get("status")}).scalar_one()
    rows = [{"sid": sid, "rank": int(r["rank"]), "cand": str(r["candidate"]), "kind": str(r["kind"]),
             "name": str(r.get("name") or ""), "gain": float(r["gain"]),
             "inside": int(r["demand_inside"]), "cost": _num(r.get("cost")),
             "source": str(r.get("source") or "model"), "wkb": shapely.to_wkb(g)}
            for (_, r), g in zip(sites.to_crs(4326).iterrows(), sites.to_crs(4326).geometry.values,
                                 strict=True)]
    if rows:
        conn.execute(text("""
            INSERT INTO siting_site (scenario_id, rank, candidate, kind, name, gain, demand_inside,
                cost, source, geom)
            VALUES (:sid, :rank, :cand, :kind, :name, :gain, :inside, :cost, :source,
                    ST_GeomFromWKB(:wkb, 4326))"""), rows)
    return int(sid)


_SCENARIO = """
    SELECT s.*, r.params, to_char(s.created_at AT TIME ZONE 'UTC',
           'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created
    FROM siting_scenario s JOIN analysis_run r ON r.id = s.run_id"""


def _scenario(conn: Connection, row: Any) -> Scenario:
    m = row._mapping
    sites = conn.execute(text("""
        SELECT rank, candidate, kind, name, gain, demand_inside, cost, source,
               ST_AsBinary(geom) AS wkb
        FROM siting_site WHERE scenario_id = :sid ORDER BY rank"""), {"sid": m["id"]}).all()
    frame = gpd.GeoDataFrame(
        {"rank": [int(r.rank) for r in sites], "candidate": [r.candidate for r in sites],
         "kind": [r.kind for r in sites], "name": [r.name for r in sites],
         "gain": [float(r.gain) for r in sites],
         "demand_inside": [int(r.demand_inside) for r in sites],
         "cost": [math.nan if r.cost is None else float(r.cost) for r in sites],
         "source": [r.source for r in sites]},
        geometry=[_wkb(r.wkb) for r in sites], crs=4326)
    params = m["params"] if isinstance(m["params"], dict) else json.loads(m["params"] or "{}")
    return Scenario(id=int(m["id"]), run_id=int(m["run_id"]), city_id=int(m["city_id"]),
                    name=m["name"], service_type=m["service_type"], model=m["model"],
                    minutes=float(m["minutes"]), weight=m["weight"],
                    total_weight=float(m["total_weight"]), before_weight=float(m["before_weight"]),
                    after_weight=float(m["after_weight"]), objective=m["objective"],
                    bound=m["bound"], gap=m["gap"], solver=m["solver"], status=m["status"],
                    created_at=m["created"], params=params, sites=frame)


def get_scenario(conn: Connection, scenario_id: int, *, city_id: int | None = None) -> Scenario:
    """The scenario ``scenario_id`` (of ``city_id`` if given); NotFoundError otherwise."""
    row = conn.execute(text(_SCENARIO + " WHERE s.id = :sid AND (CAST(:city AS integer) IS NULL "
                                        "OR s.city_id = :city)"),
                       {"sid": int(scenario_id), "city": city_id}).one_or_none()
    if row is None:
        raise NotFoundError(f"no siting scenario {scenario_id}")
    return _scenario(conn, row)


def list_scenarios(conn: Connection, city_id: int, *, limit: int = 100) -> list[Scenario]:
    """Scenarios of ``city_id``, newest first."""
    rows = conn.execute(text(_SCENARIO + " WHERE s.city_id = :city "
                                         "ORDER BY s.created_at DESC, s.id DESC LIMIT :limit"),
                        {"city": city_id, "limit": int(limit)}).all()
    return [_scenario(conn, r) for r in rows]
