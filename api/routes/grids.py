"""Grid workload and re-gridding (网格优化), computed on request.

``POST /cities/{city}/grids/workload`` gives per-grid households, residents, compounds,
cases per month (by category), median closure time and the workload index, and the
imbalance per community or street (:mod:`geo.grids.workload`); ``format=csv`` gives the
per-grid table as CSV. ``POST …/grids/regrid`` proposes grids for one community within the
household range (:mod:`geo.grids.regrid`) with the before/after table and the compounds that
prevent a feasible proposal; like siting, it holds one of the caller's concurrency slots
(429 when none is free); ``save: true`` (analyst role) stores the proposal, which the map's
``grid_proposal`` layer then shows. Both need an API key (case figures are not public).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import CityDep, ConnDep, User, check_role, require_role
from api.errors import problems
from api.expensive import siting_slot
from api.responses import JSONBody, collection, features, formats, records, table
from api.schemas import GridsAnswer, RegridAnswer
from geo.runs import GridsParams, RegridParams, run_grid_workload, run_regrid

router = APIRouter(prefix="/cities/{city}/grids", tags=["grids"],
                   responses=problems(401, 404, 422, 503))

#: Any valid API key (viewer or higher): per-grid case figures are not public.
KeyUser = Annotated[User, Depends(require_role("viewer"))]
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json or csv (UTF-8, BOM).")]


@router.post("/workload", response_model=GridsAnswer, responses=formats("csv"),
             summary="Per-grid workload and the imbalance per community or street")
def workload(city: CityDep, body: GridsParams, conn: ConnDep, user: KeyUser,
             format: FormatQuery = "json") -> Response:
    run = run_grid_workload(conn, city, body)
    rows = records(run.workload.table)
    if format == "csv":
        return table(rows, meta={}, fmt="csv", name=f"{city.code}-grid-workload")
    wl = run.workload
    return JSONBody({
        "city": city.code, "start": wl.start.isoformat() if wl.start else None,
        "end": wl.end.isoformat() if wl.end else None, "months": wl.months,
        "lower": body.lower, "upper": body.upper, "by": body.by, "grids": rows,
        "imbalance": records(run.imbalance)})


@router.post("/regrid", response_model=RegridAnswer, responses=problems(403, 429),
             dependencies=[Depends(siting_slot)],
             summary="Proposed grids of a community within a household range, before/after")
def regrid(city: CityDep, body: RegridParams, conn: ConnDep, user: KeyUser,
           lang: Annotated[Literal["zh", "en"], Query(
               description="Language of the reasons' labels")] = "zh") -> Response:
    if body.save:
        check_role(user, "analyst")
    run = run_regrid(conn, city, body)
    grids = collection(features(run.result.grids), {"city": city.code,
                                                     "community": run.community})
    return JSONBody({**run.summary(lang), "before_after": records(run.before_after),
                     "grids": grids})
