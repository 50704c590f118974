"""Siting runs: best new stations, what-if, saved scenarios and their reports.

Every siting answer starts from the same inputs — the city's walking network, its
compounds with the chosen demand measure, the existing stations of the type and the
what-if engine over them — built by :func:`siting_inputs` and, in a long-running service,
kept in a :class:`SitingCache` while the input tables' ``layer_version`` counters are
unchanged (what-if answers then take milliseconds). Whom the demand counts and how fast
they walk are the type's, as in its coverage (:func:`geo.siting.scenario.siting_demand`:
residents 60+ walking 60 m/min for elderly canteens and day care; types without a speed
of their own walk at the settings' ``walk_speed_m_per_min``); every answer, saved scenario
(``params["walkers"]``) and report states them.

:func:`run_plan` solves a scenario (:func:`geo.siting.scenario.plan_sites`) and may save
it; :func:`run_whatif` evaluates user sites; :func:`scenario_report` rebuilds a saved
scenario's report data. Connections are the caller's; nothing commits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection

from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.io.geojson import polygon_zones
from geo.network.graph import StreetNetwork
from geo.runs.base import city_of
from geo.runs.params import CaseFilter, PlanParams, WhatIfParams
from geo.settings import Settings
from geo.siting.circles import site_circles
from geo.siting.report import ReportData
from geo.siting.scenario import SitingDemand, SitingPlan, plan_sites, prepare, siting_demand
from geo.siting.whatif import WhatIf, WhatIfResult
from geo.store.basemap import read_stored_basemap
from geo.store.cities import City, data_version
from geo.store.inputs import read_compounds
from geo.store.network import read_network
from geo.store.siting import (
    INPUT_TABLES,
    Scenario,
    read_candidates,
    read_stations,
    save_scenario,
    with_demand,
)
from geo.store.vocabulary import resolve_service_type, service_type_of


@dataclass(frozen=True)
class SitingInputs:
    """Everything a scenario of one city/type/circle/measure needs, computed once; ``net``
    walks at ``demand.speed_m_per_min`` and the what-if engine weighs ``demand.column``."""

    net: StreetNetwork
    compounds: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    whatif: WhatIf
    demand: SitingDemand


class SitingCache:
    """A thread-safe LRU of :class:`SitingInputs`, keyed by their parameters, the walking
    speed and the data version of every input table."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._data: OrderedDict[Hashable, SitingInputs] = OrderedDict()

    def get(self, key: Hashable) -> SitingInputs | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def put(self, key: Hashable, value: SitingInputs) -> None:
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def siting_inputs(conn: Connection, city: City, *, service_type: str, minutes: float,
                  weight: str, cases: CaseFilter | None, settings: Settings,
                  cache: SitingCache | None = None,
                  demand: SitingDemand | None = None) -> SitingInputs:
    """Network, demand, existing stations and what-if engine of one scenario's inputs.

    Whom the demand counts and the walking speed are ``demand``, by default the type's
    (:func:`geo.siting.scenario.siting_demand`; types without a speed of their own walk at
    ``settings.walk_speed_m_per_min``). ``service_type`` may be a code or a label
    (:func:`geo.store.vocabulary.resolve_service_type`); unknown service types and cities
    without compounds raise :class:`InvalidInputError`.
    """
    service_type = resolve_service_type(conn, service_type)
    cases = cases if weight == "cases" and cases is not None else CaseFilter()
    demand = demand or siting_demand(service_type, weight,
                                     default_speed_m_per_min=settings.walk_speed_m_per_min)
    key = (city.id, service_type, float(minutes), weight, cases.case_key(), demand,
           tuple(sorted(data_version(conn, INPUT_TABLES).items())))
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit
    net = read_network(conn, city.id, mode="walk", speed_m_per_min=demand.speed_m_per_min,
                       metric_epsg=city.metric_epsg)
    compounds = read_compounds(conn, city.id)
    if not len(compounds):
        raise InvalidInputError("the city has no compounds", [Problem("no compounds",
                                                                       field="compound")])
    compounds = with_demand(conn, city.id, compounds, weight, categories=cases.case_categories,
                            start=cases.case_start, end=cases.case_end)
    stations = read_stations(conn, city.id, service_type)
    out = SitingInputs(net, compounds, stations,
                       prepare(net, compounds, stations, minutes=minutes, weight=demand.column),
                       demand)
    if cache is not None:
        cache.put(key, out)
    return out


def type_labels(conn: Connection, service_type: str) -> tuple[str, str]:
    """The (zh, en) labels of ``service_type`` as the lookup table has them (types added
    with ``types add`` included); an unknown type is an :class:`InvalidInputError`."""
    term = service_type_of(conn, service_type)
    if term is None:
        raise InvalidInputError("unknown service type", [Problem(
            f"{service_type!r} is not a known service type", field="service_type")])
    return term.zh, term.en


def scenario_title(city: City, labels: tuple[str, str], n_sites: int) -> tuple[str, str]:
    """A scenario's title in words, Chinese and English: "贵溪市 新建红色驿站5处 方案",
    "Guixi — proposal: 5 new Red station sites"."""
    zh, en = labels
    plural = "" if n_sites == 1 else "s"
    return (f"{city.name_zh} 新建{zh}{n_sites}处 方案",
            f"{city.name_en} — proposal: {n_sites} new {en} site{plural}")


def totals(before: float, after: float, total: float) -> dict[str, float]:
    """Demand covered before/after, the gain and the shares of the total."""
    return {"total_weight": total, "before_weight": before, "after_weight": after,
            "gain": after - before,
            "before_share": before / total if total else 0.0,
            "after_share": after / total if total else 0.0}


@dataclass(frozen=True)
class PlanRun:
    """A solved scenario: the plan, its totals and solver figures, the scenario id if saved."""

    city: City
    params: PlanParams
    plan: SitingPlan
    inputs: SitingInputs
    totals: dict[str, float]
    solve: dict[str, Any]
    title: str
    scenario_id: int | None = None
    #: (zh, en) labels of the service type, as its lookup-table row has them.
    type_labels: tuple[str, str] | None = None


def run_plan(conn: Connection, city: City | str, params: PlanParams,
             settings: Settings | None = None, *, cache: SitingCache | None = None,
             by: str = "cli") -> PlanRun:
    """The best new stations of ``params.service_type`` (MCLP, LSCP or p-median) from
    imported and/or generated candidates; saved as a scenario (``by`` whom) with
    ``params.save``."""
    settings = settings or Settings()
    if params.model == "lscp" and params.target_share is None:
        raise InvalidInputError("LSCP needs target_share", [Problem("required",
                                                                     field="target_share")])
    exclude = polygon_zones(params.exclude, "exclude") if params.exclude else None
    c = city_of(conn, city)
    params = params.model_copy(update={"service_type": resolve_service_type(
        conn, params.service_type)})
    inputs = siting_inputs(conn, c, service_type=params.service_type, minutes=params.minutes,
                           weight=params.weight, cases=params, settings=settings, cache=cache)
    imported = read_candidates(conn, c.id) if params.use_imported else None
    plan = plan_sites(
        inputs.net, inputs.compounds, inputs.stations, p=params.p, minutes=params.minutes,
        weight=inputs.demand.column, model=params.model, target_share=params.target_share,
        imported=imported if imported is not None and len(imported) else None,
        generate=params.generate, spacing_m=params.spacing_m, method=params.method,
        time_limit_s=params.time_limit_s, use_capacity=params.use_capacity, exclude=exclude,
        whatif=inputs.whatif)
    r = plan.result
    figures = totals(plan.before_weight, plan.after_weight, plan.total_weight)
    solve = {"objective": r.objective, "bound": r.bound, "gap": r.gap, "solver": r.solver,
             "status": r.status, "runtime_s": r.runtime_s}
    labels = type_labels(conn, params.service_type)
    title = params.name or scenario_title(c, labels, len(plan.proposals))[0]
    sid = None
    if params.save:
        sid = save_scenario(
            conn, c.id, name=title, service_type=params.service_type, model=params.model,
            minutes=params.minutes, weight=params.weight, totals=figures,
            sites=plan.proposals.assign(source="model"),
            params=params.model_dump(mode="json", exclude={"save", "name", "compounds"})
            | {"by": by, "walkers": inputs.demand.summary(params.minutes)}, solve=solve)
    return PlanRun(c, params, plan, inputs, figures, solve, title, sid, labels)


@dataclass(frozen=True)
class WhatIfRun:
    """User sites evaluated: the what-if result, totals, whom the demand counts and how
    fast they walk, the scenario id if saved, the title in words (zh, en). With
    ``params.circles``: ``circles`` (one walking circle per site,
    :func:`geo.siting.circles.site_circles`) and ``compounds`` (those brought inside:
    ``id, name, weight``, ``site`` = position of the site that brings it in, polygon;
    EPSG:4326)."""

    city: City
    params: WhatIfParams
    result: WhatIfResult
    totals: dict[str, float]
    demand: SitingDemand
    scenario_id: int | None = None
    title: tuple[str, str] = ("", "")
    circles: gpd.GeoDataFrame | None = None
    compounds: gpd.GeoDataFrame | None = None


def _site_labels(params: WhatIfParams) -> tuple[list[str], list[str]]:
    """Names and kinds of the what-if sites (empty names, kind ``user`` by default); a list
    of another length than the sites is an :class:`InvalidInputError` naming it."""
    n = len(params.sites)
    bad = [Problem(f"{len(v)} values for {n} sites", field=f)
           for f, v in (("site_names", params.site_names), ("site_kinds", params.site_kinds))
           if v is not None and len(v) != n]
    if bad:
        raise InvalidInputError("one name and kind per site", bad)
    return (list(params.site_names or [""] * n), list(params.site_kinds or ["user"] * n))


def brought_inside(inputs: SitingInputs, res: WhatIfResult) -> gpd.GeoDataFrame:
    """The compounds ``res`` brings inside: ``id, name, weight, site`` (position of the
    site that brings it in) and the polygon, EPSG:4326."""
    by = pd.Series(res.brought_by, index=list(res.newly_covered), dtype="int64")
    comp = inputs.compounds
    part = comp[comp["id"].isin(by.index)]
    weight = inputs.whatif.weights[comp["id"].isin(by.index).to_numpy()]
    names = part["name"].fillna("") if "name" in part.columns else ""
    return gpd.GeoDataFrame({"id": part["id"].to_numpy(), "name": names, "weight": weight,
                             "site": by.reindex(part["id"].to_numpy()).to_numpy()},
                            geometry=part.geometry.values, crs=comp.crs).to_crs(4326)


def circles_of(inputs: SitingInputs, sites: gpd.GeoDataFrame, minutes: float,
               settings: Settings) -> gpd.GeoDataFrame:
    """The walking circles of ``sites`` added to the inputs' stations, at the walkers'
    speed (the inputs' network; the settings' trim distance, cell size and snap distance,
    as the coverage runs use)."""
    return site_circles(inputs.net, inputs.compounds, inputs.stations, sites, minutes=minutes,
                        trim_m=settings.circle_trim_m, cell_m=settings.circle_cell_m,
                        max_snap_m=settings.max_snap_m)


def run_whatif(conn: Connection, city: City | str, params: WhatIfParams,
               settings: Settings | None = None, *, cache: SitingCache | None = None,
               by: str = "cli") -> WhatIfRun:
    """Coverage before and after the sites of ``params`` (lon/lat); saved with ``save``."""
    settings = settings or Settings()
    bad = [Problem("not a lon/lat pair in EPSG:4326", row=i, field="sites")
           for i, (x, y) in enumerate(params.sites) if not (-180 <= x <= 180 and -90 <= y <= 90)]
    if bad:
        raise InvalidInputError("invalid sites", bad)
    c = city_of(conn, city)
    params = params.model_copy(update={"service_type": resolve_service_type(
        conn, params.service_type)})
    inputs = siting_inputs(conn, c, service_type=params.service_type, minutes=params.minutes,
                           weight=params.weight, cases=params, settings=settings, cache=cache)
    names, kinds = _site_labels(params)
    res = inputs.whatif.evaluate(params.sites)
    figures = totals(res.before_weight, res.after_weight, res.total_weight)
    title = scenario_title(c, type_labels(conn, params.service_type), len(params.sites))
    points = gpd.GeoDataFrame(geometry=shapely.points(res.sites[["lon", "lat"]].to_numpy()),
                              crs=4326)
    sid = None
    if params.save:
        frame = gpd.GeoDataFrame({
            "rank": res.sites["site"] + 1, "candidate": [f"u{i + 1}" for i in res.sites["site"]],
            "kind": kinds, "name": names, "gain": res.sites["gain"],
            "demand_inside": res.sites["demand_inside"], "cost": float("nan"),
            "source": ["user" if k == "user" else "model" for k in kinds]},
            geometry=points.geometry.values, crs=4326)
        sid = save_scenario(
            conn, c.id, name=params.name or title[0],
            service_type=params.service_type, model="whatif", minutes=params.minutes,
            weight=params.weight, totals=figures, sites=frame,
            params=params.model_dump(mode="json", exclude={"save", "name", "circles",
                                                           "site_names", "site_kinds"})
            | {"by": by, "walkers": inputs.demand.summary(params.minutes)})
    if not params.circles:
        return WhatIfRun(c, params, res, figures, inputs.demand, sid, title)
    return WhatIfRun(c, params, res, figures, inputs.demand, sid, title,
                     circles_of(inputs, points, params.minutes, settings),
                     brought_inside(inputs, res))


def _map_layers(conn: Connection, city: City, inputs: SitingInputs, sites: gpd.GeoDataFrame,
                minutes: float, settings: Settings) -> dict[str, Any]:
    """The report map's layers: the sites' walking circles and the city's stored basemap."""
    return {"circles": circles_of(inputs, sites[["geometry"]], minutes, settings),
            "basemap": read_stored_basemap(conn, city.id)}


def plan_report(run: PlanRun, *, conn: Connection | None = None,
                settings: Settings | None = None) -> ReportData:
    """The one-page report of a solved scenario; with ``conn``, its map shows the sites'
    walking circles on the city's stored basemap."""
    r, c, p = run.plan.result, run.city, run.params
    extra = (_map_layers(conn, c, run.inputs, run.plan.proposals, p.minutes,
                         settings or Settings()) if conn is not None else {})
    return ReportData(title=run.title, city_name=f"{c.name_zh} {c.name_en}",
                      service_type=p.service_type, minutes=p.minutes, weight=p.weight,
                      total_weight=run.plan.total_weight, before_weight=run.plan.before_weight,
                      after_weight=run.plan.after_weight, sites=run.plan.proposals,
                      compounds=run.plan.compounds, stations=run.inputs.stations,
                      solver={"solver": r.solver, "status": r.status, "gap": r.gap},
                      type_labels=run.type_labels, demand=run.inputs.demand,
                      title_en=scenario_title(c, run.type_labels or (p.service_type, p.service_type),
                                              len(run.plan.proposals))[1], **extra)


def scenario_demand(s: Scenario, settings: Settings) -> SitingDemand:
    """Whom saved scenario ``s`` counted and how fast they walked: as saved
    (``params["walkers"]``); a scenario saved before they were stored counted all
    residents (``residents``) walking at ``settings.walk_speed_m_per_min``."""
    saved = s.params.get("walkers") or {"target_group": "all",
                                        "speed_m_per_min": settings.walk_speed_m_per_min}
    return siting_demand(s.service_type, s.weight,
                         default_speed_m_per_min=settings.walk_speed_m_per_min,
                         target_group=saved.get("target_group"),
                         speed_m_per_min=saved.get("speed_m_per_min"))


def scenario_report(conn: Connection, city: City, s: Scenario, settings: Settings | None = None,
                    *, cache: SitingCache | None = None) -> ReportData:
    """The report of saved scenario ``s``, stating whom it counted and how fast they walked
    (:func:`scenario_demand`); its map layers (compounds before/after, the sites' walking
    circles, the stored basemap) are recomputed from the current data with those walkers
    (left out when the network or compounds are gone)."""
    settings = settings or Settings()
    compounds = stations = None
    extra: dict[str, Any] = {}
    term = service_type_of(conn, s.service_type)  # gone since: the code is all there is
    labels = (term.zh, term.en) if term is not None else None
    demand = scenario_demand(s, settings)
    try:
        inputs = siting_inputs(conn, city, service_type=s.service_type, minutes=s.minutes,
                               weight=s.weight, cases=CaseFilter.model_validate(
                                   {k: v for k, v in s.params.items()
                                    if k in CaseFilter.model_fields}),
                               settings=settings, cache=cache, demand=demand)
        res = inputs.whatif.evaluate(s.sites[["geometry"]])
        comp = inputs.compounds.copy()
        known = inputs.whatif.reach.snapped
        comp["covered_before"] = inputs.whatif.covered & known
        comp["covered_after"] = comp["covered_before"] | comp["id"].isin(
            set(res.newly_covered)).to_numpy()
        compounds, stations = comp, inputs.stations
        extra = _map_layers(conn, city, inputs, s.sites, s.minutes, settings)
    except (InvalidInputError, NotFoundError):
        pass  # no network or compounds any more: report without the map layers
    return ReportData(
        title=s.name, city_name=f"{city.name_zh} {city.name_en}", service_type=s.service_type,
        minutes=s.minutes, weight=s.weight, total_weight=s.total_weight,
        before_weight=s.before_weight, after_weight=s.after_weight, sites=s.sites,
        compounds=compounds, stations=stations,
        solver={"solver": s.solver, "status": s.status, "gap": s.gap}, created_at=s.created_at,
        type_labels=labels, demand=demand,
        title_en=scenario_title(city, labels or (s.service_type, s.service_type), len(s.sites))[1],
        **extra)
