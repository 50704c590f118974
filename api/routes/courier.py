"""Courier-station reach: per-station residents reached, unreached compounds, overlaps.

Read from the newest stored run of the city and station type (``servicecircle analyze
courier`` or ``POST /cities/{city}/courier/runs``, analysts). Every list is available as
JSON (``format=json``), CSV (``format=csv``) or GeoJSON (``format=geojson``, EPSG:4326).
Residents are whole compounds (gates within the budget along the streets); grids take
compounds by resident share. ``best_m`` is null when no station is within the budget.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.auth import require_role
from api.deps import CityDep, ConnDep, SettingsDep, service_type_param
from api.errors import problems
from api.responses import Format, JSONBody, formats, frame_response
from api.schemas import CourierRunMeta, Table
from geo.courier.reach import DEFAULT_OVERLAP_SHARE
from geo.errors import Hint, NotFoundError
from geo.runs import CourierParams, run_courier
from geo.store.cities import City
from geo.store.courier import (
    latest_courier_run,
    read_run_compounds,
    read_run_grids,
    read_run_overlaps,
    read_run_stations,
)

router = APIRouter(prefix="/cities/{city}/courier", tags=["courier"],
                   responses=problems(404, 422, 503))

FormatQ = Annotated[Format, Query(description="json (table), csv or geojson (EPSG:4326)")]
#: Station type: courier_station (riders, default) or parcel_station (residents walking), by
#: code or name.
ServiceTypeQ = Annotated[str, Depends(service_type_param("courier_station"))]
TABLE_FORMATS = formats("csv", "geojson")


def _run(conn: Any, city: City, service_type: str) -> dict[str, Any]:
    run = latest_courier_run(conn, city.id, service_type)
    if run is None:
        raise NotFoundError(f"no courier-reach run of {service_type!r} for city {city.code!r}",
                            code="no-run", hint=Hint(run="courier"))
    return run


def _latest(conn: ConnDep, city: CityDep, service_type: ServiceTypeQ) -> dict[str, Any]:
    """The newest reach run of the city's ``service_type`` stations (404 without one)."""
    return _run(conn, city, service_type)


#: The run a read answers from.
LatestRun = Annotated[dict[str, Any], Depends(_latest)]


def _meta(city: City, run: dict[str, Any]) -> dict[str, Any]:
    p = run["params"] or {}
    return {"city": city.code, "run_id": run["id"], "created_at": run["created_at"].isoformat(),
            "service_type": p.get("service_type"), "mode": p.get("mode"),
            "budget_m": p.get("budget_m"), "minutes": p.get("minutes"),
            "speed_m_per_min": p.get("speed_m_per_min"), "weight": p.get("weight"),
            "summary": run["summary"]}


def _answer(frame: Any, fmt: Format, city: City, run: dict[str, Any], name: str) -> Response:
    """``frame`` as a table, CSV or GeoJSON file ``<city>-<name>``, with the run's meta."""
    return frame_response(frame, fmt, meta=_meta(city, run), name=f"{city.code}-{name}")


@router.get("/runs/latest", response_model=CourierRunMeta)
def latest_run(city: CityDep, run: LatestRun) -> Response:
    """Parameters and headline figures of the newest reach run."""
    return JSONBody(_meta(city, run))


@router.get("/stations", response_model=Table, responses=TABLE_FORMATS)
def stations(conn: ConnDep, city: CityDep, run: LatestRun, format: FormatQ = "json",
             catchments: Annotated[bool, Query(description="GeoJSON geometry = catchment "
                                               "polygon instead of the station point")] = False
             ) -> Response:
    """Per-station reach: compounds, residents, households and grids reached, demand."""
    return _answer(read_run_stations(conn, city.id, run["id"], catchments=catchments), format,
                   city, run,
                   "station-reach")


@router.get("/compounds", response_model=Table, responses=TABLE_FORMATS)
def compounds(conn: ConnDep, city: CityDep, run: LatestRun, format: FormatQ = "json",
              unreached: Annotated[bool, Query(description="Only compounds no station "
                                               "reaches")] = False) -> Response:
    """Per compound: the stations reaching it (redundancy) and the nearest one's distance."""
    return _answer(read_run_compounds(conn, city.id, run["id"], unreached_only=unreached), format, city,
                   run, "unreached-compounds" if unreached else "compound-reach")


@router.get("/grids", response_model=Table, responses=TABLE_FORMATS)
def grids(conn: ConnDep, city: CityDep, run: LatestRun, format: FormatQ = "json",
          unreached: Annotated[bool, Query(description="Only grids none of whose compounds "
                                           "is reached")] = False) -> Response:
    """Per grid: residents reached (compounds apportioned by resident share)."""
    frame = read_run_grids(conn, city.id, run["id"])
    if unreached:
        known = frame["residents"] - frame["residents_unknown"]
        frame = frame[~frame["reached"].astype(bool) & (known > 0)]
    return _answer(frame, format, city, run, "grid-reach")


@router.get("/overlaps", response_model=Table, responses=TABLE_FORMATS)
def overlaps(conn: ConnDep, city: CityDep, run: LatestRun, format: FormatQ = "json",
             min_share: Annotated[float, Query(ge=0, le=1, description=(
                 "Least share of the smaller catchment shared"))] = DEFAULT_OVERLAP_SHARE
             ) -> Response:
    """Station pairs whose catchments overlap: residents and demand shared, shares."""
    return _answer(read_run_overlaps(conn, city.id, run["id"], min_share=min_share), format,
                   city, run,
                   "overlaps")


@router.post("/runs", status_code=201, response_model=CourierRunMeta,
             dependencies=[Depends(require_role("analyst"))], responses=problems(401, 403, 413))
def create_run(conn: ConnDep, settings: SettingsDep, city: CityDep, body: CourierParams
               ) -> Response:
    """Compute and store a reach run (analysts). Without a budget: the 1-km preset."""
    run = run_courier(conn, city, body, settings)
    return JSONBody(_meta(city, _run(conn, city, run.params["service_type"]))
                    | {"run_id": run.run_id}, status_code=201)
