"""New-station siting: best N stations, instant what-if, saved scenarios and their reports.

``POST /cities/{city}/siting/plan`` runs a scenario (best ``p`` new stations of a type, or
the fewest reaching a share) and returns the ranked proposal table with before/after
figures; ``save=true`` (analyst role) stores it. ``POST …/whatif`` evaluates sites posted
as lon/lat in EPSG:4326. The street network, demand reach and existing coverage are
prepared once per (city, type, minutes, demand measure) and kept while the input tables'
``layer_version`` counters are unchanged, so what-if answers take milliseconds.

Demand (``weight``): compound ``residents``, ``households`` or ``elderly``; ``cases`` (grid
cases inside each compound, optionally of ``case_categories`` reported in
``[case_start, case_end)``); ``rider_demand`` (imported courier demand: per-compound
estimates, else demand points given to the compound with the nearest gate) — see
:func:`geo.store.siting.read_compound_demand`.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
import shapely.geometry
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import Connection

from api.auth import check_role
from api.deps import AdminUser, ConnDep, CurrentUser, User
from api.expensive import check_siting, siting_slot
from geo.domain import DEFAULT_SITING_TYPE, LIFE_CIRCLE_MINUTES, MAX_WALK_MINUTES
from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.io.labels import label_reason
from geo.io.validate import validate_features
from geo.network.graph import StreetNetwork
from geo.siting.report import ReportData, render_html, render_pdf
from geo.siting.scenario import SitingPlan, plan_sites, prepare
from geo.siting.whatif import WhatIf
from geo.store.cities import City, data_version, get_city
from geo.store.inputs import read_compounds
from geo.store.network import read_network
from geo.store.siting import (
    INPUT_TABLES,
    Scenario,
    get_scenario,
    list_scenarios,
    read_candidates,
    read_stations,
    save_scenario,
    service_type_exists,
    with_demand,
    write_candidates,
)

router = APIRouter(prefix="/cities/{city}/siting", tags=["siting"])

Weight = Literal["residents", "households", "elderly", "cases", "rider_demand"]


def _name(value: str | None) -> str | None:
    reason = None if value is None else label_reason(value)
    if reason is not None:
        raise ValueError(reason)
    return value


#: A scenario's name: one line, at most 200 characters (any text; pages escape it).
ScenarioName = Annotated[str | None, AfterValidator(_name),
                         Field(description="Scenario name (one line, ≤ 200 characters)")]
_CACHE_SIZE = 8
_LOCK = threading.Lock()


class Prepared:
    """Everything a scenario of one city/type/circle/measure needs, computed once."""

    def __init__(self, net: StreetNetwork, compounds: Any, stations: Any, whatif: WhatIf) -> None:
        self.net, self.compounds, self.stations, self.whatif = net, compounds, stations, whatif


class CaseFilter(BaseModel):
    """Which grid cases count as demand when ``weight="cases"`` (ignored otherwise)."""

    case_categories: list[str] | None = Field(
        default=None, max_length=50, description="Case category codes (default: all)")
    case_start: datetime | None = Field(default=None, description="Cases reported at or "
                                        "after (with time zone)")
    case_end: datetime | None = Field(default=None, description="Cases reported before (with "
                                      "time zone)")

    def key(self) -> tuple[Any, ...]:
        cats = tuple(sorted(self.case_categories)) if self.case_categories is not None else None
        return cats, self.case_start, self.case_end


def _prepared(request: Request, conn: Connection, city: City, service_type: str,
              minutes: float, weight: str, cases: CaseFilter | None = None) -> Prepared:
    if not service_type_exists(conn, service_type):
        raise InvalidInputError("unknown service type", [Problem(
            f"{service_type!r} is not a known service type", field="service_type")])
    cases = cases if weight == "cases" and cases is not None else CaseFilter()
    key = (city.id, service_type, float(minutes), weight, cases.key(),
           tuple(sorted(data_version(conn, INPUT_TABLES).items())))
    with _LOCK:
        cache: OrderedDict[Any, Prepared] | None = getattr(request.app.state, "siting_cache",
                                                           None)
        if cache is None:
            cache = request.app.state.siting_cache = OrderedDict()
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    net = read_network(conn, city.id, mode="walk", metric_epsg=city.metric_epsg)
    compounds = read_compounds(conn, city.id)
    if not len(compounds):
        raise InvalidInputError("the city has no compounds", [Problem("no compounds",
                                                                       field="compound")])
    compounds = with_demand(conn, city.id, compounds, weight, categories=cases.case_categories,
                            start=cases.case_start, end=cases.case_end)
    stations = read_stations(conn, city.id, service_type)
    prep = Prepared(net, compounds, stations,
                    prepare(net, compounds, stations, minutes=minutes, weight=weight))
    with _LOCK:
        cache[key] = prep
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return prep


class PlanRequest(CaseFilter):
    service_type: str = Field(DEFAULT_SITING_TYPE, description="Service type code")
    p: int = Field(5, ge=1, le=200, description="Number of new stations (mclp, pmedian)")
    model: Literal["mclp", "lscp", "pmedian"] = "mclp"
    target_share: float | None = Field(None, ge=0, le=1, description="LSCP target share")
    minutes: float = Field(LIFE_CIRCLE_MINUTES, gt=0, le=MAX_WALK_MINUTES,
                           description="Walking circle in minutes")
    weight: Weight = "residents"
    method: Literal["auto", "exact", "heuristic"] = "auto"
    use_imported: bool = Field(True, description="Use the city's imported candidate sites")
    generate: bool = Field(True, description="Generate street/gate candidates in gap areas")
    spacing_m: float = Field(100.0, ge=20, le=1000)
    time_limit_s: float = Field(20.0, gt=0, le=120)
    use_capacity: bool = Field(False, description="Respect imported sites' capacities")
    exclude: dict[str, Any] | None = Field(
        None, description="Exclusion zones: GeoJSON (Multi)Polygon, Feature or "
        "FeatureCollection in EPSG:4326")
    compounds: bool = Field(False, description="Also return compounds with covered_before/"
                            "covered_after (the before/after map) as GeoJSON")
    save: bool = Field(False, description="Save as a scenario (analyst role)")
    name: ScenarioName = None


class CandidateCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]] = Field(..., max_length=10_000)


def _geojson_frame(obj: dict[str, Any], field: str) -> gpd.GeoDataFrame:
    """Features of a GeoJSON geometry/Feature/FeatureCollection (EPSG:4326), properties kept."""
    kind = obj.get("type")
    feats = (obj.get("features") or [] if kind == "FeatureCollection"
             else [obj] if kind == "Feature" else [{"geometry": obj, "properties": {}}])
    geoms, props, problems = [], [], []
    for i, f in enumerate(feats):
        try:
            g = shapely.geometry.shape(f.get("geometry") or {})
        except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GeometryTypeError):
            problems.append(Problem("not a GeoJSON geometry", row=i, field=field))
            continue
        if g.is_empty or not g.is_valid:
            problems.append(Problem("empty or invalid geometry", row=i, field=field))
            continue
        x0, y0, x1, y1 = g.bounds
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            problems.append(Problem("not lon/lat (EPSG:4326)", row=i, field=field))
            continue
        geoms.append(g)
        props.append(dict(f.get("properties") or {}))
    if problems:
        raise InvalidInputError(f"invalid {field}", problems)
    return gpd.GeoDataFrame(pd.DataFrame(props, index=range(len(geoms))), geometry=geoms,
                            crs=4326)


class WhatIfRequest(CaseFilter):
    service_type: str = DEFAULT_SITING_TYPE
    minutes: float = Field(LIFE_CIRCLE_MINUTES, gt=0, le=MAX_WALK_MINUTES)
    weight: Weight = "residents"
    sites: list[tuple[float, float]] = Field(..., min_length=1, max_length=100,
                                             description="[[lon, lat], ...] in EPSG:4326")
    save: bool = False
    name: ScenarioName = None


def _site_features(sites: Any) -> list[dict[str, Any]]:
    out = []
    for r in sites.to_crs(4326).itertuples():
        props = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                 for k, v in r._asdict().items() if k not in ("Index", "geometry")}
        out.append({"type": "Feature", "geometry": {"type": "Point",
                                                    "coordinates": [r.geometry.x, r.geometry.y]},
                    "properties": props})
    return out


def _totals(before: float, after: float, total: float) -> dict[str, float]:
    return {"total_weight": total, "before_weight": before, "after_weight": after,
            "gain": after - before,
            "before_share": before / total if total else 0.0,
            "after_share": after / total if total else 0.0}


@router.post("/plan", summary="Best new stations of a type: ranked proposal table",
             dependencies=[Depends(siting_slot)])
def plan(city: str, body: PlanRequest, request: Request, conn: ConnDep,
         user: CurrentUser) -> dict[str, Any]:
    if body.save:
        check_role(user, "analyst")
    check_siting(request, user, weight=body.weight, p=body.p, time_limit_s=body.time_limit_s,
                 spacing_m=body.spacing_m)
    if body.model == "lscp" and body.target_share is None:
        raise InvalidInputError("LSCP needs target_share", [Problem("required",
                                                                     field="target_share")])
    c = get_city(conn, city)
    exclude = _geojson_frame(body.exclude, "exclude") if body.exclude else None
    if exclude is not None and not np.isin(shapely.get_type_id(exclude.geometry.values),
                                           [3, 6]).all():
        raise InvalidInputError("invalid exclude", [Problem("exclusion zones must be polygons",
                                                            field="exclude")])
    prep = _prepared(request, conn, c, body.service_type, body.minutes, body.weight, body)
    imported = read_candidates(conn, c.id) if body.use_imported else None
    result: SitingPlan = plan_sites(
        prep.net, prep.compounds, prep.stations, p=body.p, minutes=body.minutes,
        weight=body.weight, model=body.model, target_share=body.target_share,
        imported=imported if imported is not None and len(imported) else None,
        generate=body.generate, spacing_m=body.spacing_m, method=body.method,
        time_limit_s=body.time_limit_s, use_capacity=body.use_capacity, exclude=exclude,
        whatif=prep.whatif)
    r = result.result
    totals = _totals(result.before_weight, result.after_weight, result.total_weight)
    solve = {"objective": r.objective, "bound": r.bound, "gap": r.gap, "solver": r.solver,
             "status": r.status, "runtime_s": r.runtime_s}
    out: dict[str, Any] = {
        "city": c.code, "service_type": body.service_type, "model": body.model,
        "minutes": body.minutes, "weight": body.weight, "n_candidates": result.n_candidates,
        **totals, "solver": solve,
        "sites": {"type": "FeatureCollection", "features": _site_features(result.proposals)},
        "scenario_id": None}
    if body.compounds:
        comp = result.compounds[["id", "name", "weight", "covered_before", "covered_after",
                                 "geometry"]]
        out["compounds"] = json.loads(comp.to_json(drop_id=True))
    if body.save:
        name = body.name or f"{c.name_zh} {body.service_type} {body.model} p={body.p}"
        out["scenario_id"] = save_scenario(
            conn, c.id, name=name, service_type=body.service_type, model=body.model,
            minutes=body.minutes, weight=body.weight, totals=totals,
            sites=result.proposals.assign(source="model"),
            params=body.model_dump(mode="json", exclude={"save", "name", "compounds"})
            | {"by": user.name},
            solve=solve)
    return out


@router.post("/whatif", summary="Coverage before/after user-proposed sites (lon/lat)",
             dependencies=[Depends(siting_slot)])
def whatif(city: str, body: WhatIfRequest, request: Request, conn: ConnDep,
           user: CurrentUser) -> dict[str, Any]:
    if body.save:
        check_role(user, "analyst")
    check_siting(request, user, weight=body.weight)
    bad = [Problem("not a lon/lat pair in EPSG:4326", row=i, field="sites")
           for i, (x, y) in enumerate(body.sites) if not (-180 <= x <= 180 and -90 <= y <= 90)]
    if bad:
        raise InvalidInputError("invalid sites", bad)
    c = get_city(conn, city)
    prep = _prepared(request, conn, c, body.service_type, body.minutes, body.weight, body)
    res = prep.whatif.evaluate(body.sites)
    totals = _totals(res.before_weight, res.after_weight, res.total_weight)
    sites = [dict(row) for row in res.sites.to_dict(orient="records")]
    out: dict[str, Any] = {"city": c.code, "service_type": body.service_type,
                           "minutes": body.minutes, "weight": body.weight, **totals,
                           "unknown_weight": res.unknown_weight, "sites": sites,
                           "newly_covered": [int(str(i)) for i in res.newly_covered],
                           "runtime_ms": res.runtime_ms, "scenario_id": None}
    if body.save:
        frame = gpd.GeoDataFrame({
            "rank": res.sites["site"] + 1, "candidate": [f"u{i + 1}" for i in res.sites["site"]],
            "kind": "user", "name": "", "gain": res.sites["gain"],
            "demand_inside": res.sites["demand_inside"], "cost": float("nan"), "source": "user"},
            geometry=shapely.points(res.sites[["lon", "lat"]].to_numpy()), crs=4326)
        out["scenario_id"] = save_scenario(
            conn, c.id, name=body.name or f"{c.name_zh} what-if", service_type=body.service_type,
            model="whatif", minutes=body.minutes, weight=body.weight, totals=totals,
            sites=frame,
            params=body.model_dump(mode="json", exclude={"save", "name"}) | {"by": user.name})
    return out


@router.get("/candidates", summary="Imported candidate sites of a city (GeoJSON)")
def candidates(city: str, conn: ConnDep) -> dict[str, Any]:
    c = get_city(conn, city)
    return {"type": "FeatureCollection", "features": _site_features(read_candidates(conn, c.id))}


@router.post("/candidates", summary="Add or edit candidate sites (GeoJSON points; admin role)")
def add_candidates(city: str, body: CandidateCollection, conn: ConnDep,
                   user: AdminUser) -> dict[str, Any]:
    """Upsert by ``external_id`` (or ``id``), checked like a file import: points inside
    the city, names one line of at most 200 characters, ``cost``/``capacity`` ≥ 0."""
    c = get_city(conn, city)
    frame = _geojson_frame(body.model_dump(), "features")
    valid = validate_features(frame, "siting_candidate", bounds=c.bounds)
    return {"written": write_candidates(conn, c.id, valid.frame)}


def _public(s: Scenario, user: User) -> dict[str, Any]:
    """A scenario's summary; who saved it is shown to analysts and admins only."""
    out = s.summary()
    if not user.has_role("analyst"):
        out["params"] = {k: v for k, v in out["params"].items() if k != "by"}
    return out


@router.get("/scenarios", summary="Saved scenarios of a city, newest first")
def scenarios(city: str, conn: ConnDep, user: CurrentUser) -> list[dict[str, Any]]:
    c = get_city(conn, city)
    return [_public(s, user) for s in list_scenarios(conn, c.id)]


ScenarioId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _scenario(conn: Connection, city: str, scenario_id: int) -> tuple[City, Scenario]:
    c = get_city(conn, city)
    return c, get_scenario(conn, scenario_id, city_id=c.id)


@router.get("/scenarios/{scenario_id}", summary="One saved scenario with its sites")
def scenario(city: str, scenario_id: ScenarioId, conn: ConnDep,
             user: CurrentUser) -> dict[str, Any]:
    _, s = _scenario(conn, city, scenario_id)
    return _public(s, user) | {"sites": {"type": "FeatureCollection",
                                    "features": _site_features(s.sites)}}


def _report(request: Request, conn: Connection, city: str, scenario_id: int) -> str:
    c, s = _scenario(conn, city, scenario_id)
    compounds = None
    try:
        prep = _prepared(request, conn, c, s.service_type, s.minutes, s.weight,
                         CaseFilter.model_validate(s.params))
        res = prep.whatif.evaluate(s.sites[["geometry"]])
        comp = prep.compounds.copy()
        newly = set(res.newly_covered)
        known = prep.whatif.reach.snapped
        comp["covered_before"] = prep.whatif.covered & known
        comp["covered_after"] = comp["covered_before"] | comp["id"].isin(newly).to_numpy()
        compounds, stations = comp, prep.stations
    except (InvalidInputError, NotFoundError):
        stations = None  # no network or compounds any more: report without the map layers
    data = ReportData(
        title=s.name, city_name=f"{c.name_zh} {c.name_en}", service_type=s.service_type,
        minutes=s.minutes, weight=s.weight, total_weight=s.total_weight,
        before_weight=s.before_weight, after_weight=s.after_weight, sites=s.sites,
        compounds=compounds, stations=stations,
        solver={"solver": s.solver, "status": s.status, "gap": s.gap}, created_at=s.created_at)
    return render_html(data)


@router.get("/scenarios/{scenario_id}/report.html", response_class=HTMLResponse,
            summary="One-page printable report (HTML)", dependencies=[Depends(siting_slot)])
def report_html(city: str, scenario_id: ScenarioId, request: Request,
                conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(_report(request, conn, city, scenario_id))


@router.get("/scenarios/{scenario_id}/report.pdf", summary="One-page printable report (PDF)",
            response_class=Response, dependencies=[Depends(siting_slot)])
def report_pdf(city: str, scenario_id: ScenarioId, request: Request, conn: ConnDep) -> Response:
    pdf = render_pdf(_report(request, conn, city, scenario_id))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="siting-{city}-{scenario_id}.pdf"'})
