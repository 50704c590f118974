"""Coverage tables of the latest coverage run, as JSON or CSV.

``GET /cities/{city}/coverage`` describes the run (parameters, data version, summary);
``…/coverage/compounds`` lists minutes and metres from every compound to its nearest and
second-nearest service point of each type; ``…/coverage/{grids|communities|streets}``
gives residents and households inside / outside each circle (grids apportioned by the
grid–compound overlay). Unreachable and not-snapped values are ``null`` (see
``reachable`` / ``snapped``). Filters: ``service_type`` (code or name; ``type`` is a
deprecated alias) and ``minutes``; a type or threshold the run does not hold is a 422
naming the available ones. Aggregated figures only, so these tables are public.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import AnyServiceType, CityDep, ConnDep
from api.errors import problems
from api.responses import JSONBody, formats, table
from api.schemas import CoverageRun, Table
from geo.store.cities import City
from geo.store.coverage import compound_rows, latest_run, unit_rows

router = APIRouter(prefix="/cities/{city}/coverage", tags=["coverage"],
                   responses=problems(404, 422, 503))

MinutesQuery = Annotated[float | None, Query(gt=0, le=120, description=(
    "Threshold, minutes (one the run computed, e.g. 5, 10 or 15)"))]
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json or csv (UTF-8, BOM).")]
UNITS = {"grids": "grid", "communities": "community", "streets": "street"}


def _meta(city: City, run: dict[str, Any]) -> dict[str, Any]:
    return {"city": city.code, "run_id": run["id"], "created_at": run["created_at"]}


@router.get("", summary="The latest coverage run of a city: parameters and summary",
            response_model=CoverageRun)
def run_info(conn: ConnDep, city: CityDep) -> Response:
    return JSONBody(latest_run(conn, city.id))


@router.get("/compounds", response_model=Table, responses=formats("csv"),
            summary="Minutes to the nearest and second-nearest service per compound")
def compounds(conn: ConnDep, city: CityDep, service_type: AnyServiceType,
              format: FormatQuery = "json") -> Response:
    run = latest_run(conn, city.id)
    return table(compound_rows(conn, city.id, service_type=service_type), meta=_meta(city, run),
                 fmt=format, name=f"{city.code}-coverage-compounds")


@router.get("/{unit}", response_model=Table, responses=formats("csv"),
            summary="Residents inside / outside the circles per grid, community or street")
def units(conn: ConnDep, city: CityDep,
          unit: Annotated[Literal["grids", "communities", "streets"], Path()],
          service_type: AnyServiceType, minutes: MinutesQuery = None,
          format: FormatQuery = "json") -> Response:
    run = latest_run(conn, city.id)
    rows = unit_rows(conn, city.id, unit_kind=UNITS[unit], service_type=service_type,
                     minutes=minutes)
    return table(rows, meta=_meta(city, run), fmt=format, name=f"{city.code}-coverage-{unit}")
