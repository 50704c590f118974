"""New-station siting: best N stations, instant what-if, saved scenarios and their reports.

``POST /cities/{city}/siting/plan`` runs a scenario (best ``p`` new stations of a type, or
the fewest reaching a share) and returns the ranked proposal table with before/after
figures; ``save=true`` (analyst role) stores it. ``POST …/whatif`` evaluates sites posted
as lon/lat in EPSG:4326; with ``circles=true`` it also returns each site's walking circle
and the compounds it brings inside (the coverage definition, :mod:`geo.siting.circles`). The street network, demand reach and existing coverage are
prepared once per (city, type, minutes, demand measure) and kept while the input tables'
``layer_version`` counters are unchanged, so what-if answers take milliseconds.

Demand (``weight``): compound ``residents`` — the people of the type's target group, as its
coverage counts them (residents 60+ for elderly canteens and day care, 0–14 for
after-school rooms, everyone otherwise) —, ``households`` or ``elderly`` (residents 60+);
``cases`` (grid cases inside each compound, optionally of ``case_categories`` reported in
``[case_start, case_end)``); ``rider_demand`` (imported courier demand: per-compound
estimates, else demand points given to the compound with the nearest gate) — see
:func:`geo.store.siting.read_compound_demand`. Everyone walks at the type's speed (60 m/min
for the services of residents 60+, the deployment's walking speed otherwise); answers state
both in ``walkers`` (group, speed, the circle in metres, a sentence in zh and en).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from api.auth import check_role
from api.deps import AdminUser, CityDep, ConnDep, CurrentUser, SettingsDep, User
from api.errors import problems
from api.expensive import check_siting, siting_slot
from api.responses import (
    JSONBody,
    collection,
    feature_collection,
    features,
    jsonable,
    records,
    table,
)
from api.schemas import (
    FeatureCollection,
    PlanAnswer,
    ScenarioWithSites,
    Table,
    WhatIfAnswer,
    Written,
)
from geo.io.geojson import geojson_frame
from geo.io.validate import validate_features
from geo.runs import PlanParams, SitingCache, WhatIfParams, run_plan, run_whatif, scenario_report
from geo.siting.report import render_html, render_pdf
from geo.store.cities import City
from geo.store.siting import (
    Scenario,
    get_scenario,
    list_scenarios,
    read_candidates,
    write_candidates,
)

router = APIRouter(prefix="/cities/{city}/siting", tags=["siting"],
                   responses=problems(401, 404, 422, 503))
#: Solving may find no feasible answer (409) and is limited per client (429).
SOLVING = problems(403, 409, 413, 429)


def _cache(request: Request) -> SitingCache:
    """The app's cache of siting inputs (created on first use)."""
    state = request.app.state
    cache: SitingCache | None = getattr(state, "siting_cache", None)
    if cache is None:
        cache = state.siting_cache = SitingCache()
    return cache


class CandidateCollection(BaseModel):
    type: str = Field("FeatureCollection", pattern="^FeatureCollection$")
    features: list[dict[str, Any]] = Field(..., max_length=10_000)


def _admit(request: Request, user: User, body: PlanParams | WhatIfParams,
           **bounds: Any) -> None:
    """Saving needs the analyst role; the size of the work (``bounds``) is checked per
    caller (:func:`api.expensive.check_siting`)."""
    if body.save:
        check_role(user, "analyst")
    check_siting(request, user, weight=body.weight, **bounds)


def _by(user: User) -> str:
    """Who a saved scenario is recorded as saved by."""
    return user.name or "anonymous"


def _meta(city: City, **extra: Any) -> dict[str, Any]:
    return {"city": city.code, **extra}


@router.post("/plan", summary="Best new stations of a type: ranked proposal table",
             response_model=PlanAnswer, responses=SOLVING, dependencies=[Depends(siting_slot)])
def plan(city: CityDep, body: PlanParams, request: Request, conn: ConnDep,
         settings: SettingsDep, user: CurrentUser) -> Response:
    _admit(request, user, body, p=body.p, time_limit_s=body.time_limit_s,
           spacing_m=body.spacing_m)
    run = run_plan(conn, city, body, settings, cache=_cache(request), by=_by(user))
    out: dict[str, Any] = {
        "city": city.code, "service_type": run.params.service_type, "model": body.model,
        "minutes": body.minutes, "weight": body.weight,
        "walkers": run.inputs.demand.summary(body.minutes),
        "n_candidates": run.plan.n_candidates, **run.totals, "solver": run.solve,
        "sites": collection(features(run.plan.proposals), _meta(city, kind="proposals")),
        "scenario_id": run.scenario_id}
    if body.compounds:
        comp = run.plan.compounds
        out["compounds"] = collection(features(comp, ["id", "name", "weight", "covered_before",
                                                      "covered_after"]),
                                      _meta(city, kind="compounds"))
    return JSONBody(out)


@router.post("/whatif", summary="Coverage before/after user-proposed sites (lon/lat)",
             response_model=WhatIfAnswer, responses=SOLVING, dependencies=[Depends(siting_slot)])
def whatif(city: CityDep, body: WhatIfParams, request: Request, conn: ConnDep,
           settings: SettingsDep, user: CurrentUser) -> Response:
    _admit(request, user, body)
    run = run_whatif(conn, city, body, settings, cache=_cache(request), by=_by(user))
    res = run.result
    out: dict[str, Any] = {
        "city": city.code, "service_type": run.params.service_type, "minutes": body.minutes,
        "weight": body.weight, "walkers": run.demand.summary(body.minutes), **run.totals,
        "unknown_weight": res.unknown_weight,
        "sites": records(res.sites), "newly_covered": [int(str(i)) for i in res.newly_covered],
        "runtime_ms": res.runtime_ms, "scenario_id": run.scenario_id,
        "title": {"zh": run.title[0], "en": run.title[1]}}
    if run.circles is not None and run.compounds is not None:
        circles = run.circles.drop(columns="compounds")
        out["circles"] = collection(features(circles), _meta(city, kind="whatif circles"))
        out["compounds"] = collection(features(run.compounds),
                                      _meta(city, kind="compounds brought inside"))
    return JSONBody(out)


@router.get("/candidates", summary="Imported candidate sites of a city (GeoJSON)",
            response_model=FeatureCollection)
def candidates(city: CityDep, conn: ConnDep) -> Response:
    return feature_collection(features(read_candidates(conn, city.id)),
                              _meta(city, kind="candidates"))


@router.post("/candidates", summary="Add or edit candidate sites (GeoJSON points; admin role)",
             response_model=Written, responses=problems(403, 413))
def add_candidates(city: CityDep, body: CandidateCollection, conn: ConnDep,
                   user: AdminUser) -> Written:
    """Upsert by ``external_id`` (or ``id``), checked like a file import: points inside
    the city, names one line of at most 200 characters, ``cost``/``capacity`` ≥ 0."""
    frame = geojson_frame(body.model_dump(), "features")
    valid = validate_features(frame, "siting_candidate", bounds=city.bounds)
    return Written(written=write_candidates(conn, city.id, valid.frame))


def _public(s: Scenario, user: User) -> dict[str, Any]:
    """A scenario's summary; who saved it is shown to analysts and admins only."""
    out = s.summary()
    if not user.has_role("analyst"):
        out["params"] = {k: v for k, v in out["params"].items() if k != "by"}
    return jsonable(out)  # type: ignore[no-any-return]


@router.get("/scenarios", summary="Saved scenarios of a city, newest first",
            response_model=Table)
def scenarios(city: CityDep, conn: ConnDep, user: CurrentUser) -> Response:
    return table([_public(s, user) for s in list_scenarios(conn, city.id)],
                 meta=_meta(city, kind="scenarios"))


ScenarioId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/scenarios/{scenario_id}", summary="One saved scenario with its sites",
            response_model=ScenarioWithSites)
def scenario(city: CityDep, scenario_id: ScenarioId, conn: ConnDep,
             user: CurrentUser) -> Response:
    s = get_scenario(conn, scenario_id, city_id=city.id)
    return JSONBody(_public(s, user) | {"sites": collection(
        features(s.sites), _meta(city, kind="scenario sites", scenario_id=s.id))})


def _report(request: Request, conn: Connection, city: City, scenario_id: int,
            settings: Any) -> str:
    s = get_scenario(conn, scenario_id, city_id=city.id)
    return render_html(scenario_report(conn, city, s, settings, cache=_cache(request)))


REPORT = problems(429)


@router.get("/scenarios/{scenario_id}/report.html", response_class=HTMLResponse,
            summary="One-page printable report (HTML)", dependencies=[Depends(siting_slot)],
            responses=REPORT)
def report_html(city: CityDep, scenario_id: ScenarioId, request: Request, conn: ConnDep,
                settings: SettingsDep) -> HTMLResponse:
    return HTMLResponse(_report(request, conn, city, scenario_id, settings))


@router.get("/scenarios/{scenario_id}/report.pdf", summary="One-page printable report (PDF)",
            response_class=Response, dependencies=[Depends(siting_slot)],
            responses={200: {"content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}}}, **REPORT})
def report_pdf(city: CityDep, scenario_id: ScenarioId, request: Request, conn: ConnDep,
               settings: SettingsDep) -> Response:
    pdf = render_pdf(_report(request, conn, city, scenario_id, settings))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="siting-{city.code}-{scenario_id}.pdf"'})
