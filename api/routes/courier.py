"""Courier-station reach: per-station residents reached, unreached compounds, overlaps.

Read from the newest stored run of the city and station type (``servicecircle analyze
courier`` or ``POST /cities/{city}/courier/runs``, analysts). Every list is available as
JSON (``format=json``), CSV (``format=csv``) or GeoJSON (``format=geojson``, EPSG:4326).
Residents are whole compounds (gates within the budget along the streets); grids take
compounds by resident share. ``best_m`` is null when no station is within the budget.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Annotated, Any, Literal

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.auth import require_role
from api.deps import ConnDep, SettingsDep
from geo.courier.reach import DEFAULT_OVERLAP_SHARE, PRESETS, preset
from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.store.cities import City, get_city
from geo.store.courier import (
    analyze_city_courier,
    latest_courier_run,
    read_run_compounds,
    read_run_grids,
    read_run_overlaps,
    read_run_stations,
)

router = APIRouter(prefix="/cities/{city}/courier", tags=["courier"])

GEOJSON = "application/geo+json"
Format = Annotated[Literal["json", "csv", "geojson"], Query(
    description="json (rows), csv or geojson (EPSG:4326)")]
ServiceTypeQ = Annotated[str, Query(pattern=r"^[a-z][a-z0-9_]*$", description=(
    "Station type: courier_station (riders, default) or parcel_station (residents walking)"))]


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return _clean(v.item())
    return v


def _run(conn: Any, city: City, service_type: str) -> dict[str, Any]:
    run = latest_courier_run(conn, city.id, service_type)
    if run is None:
        raise NotFoundError(f"no courier-reach run of {service_type!r} for city {city.code!r}; "
                            f"compute one with: servicecircle analyze courier --city {city.code}")
    return run


def _meta(city: City, run: dict[str, Any]) -> dict[str, Any]:
    p = run["params"] or {}
    return {"city": city.code, "run_id": run["id"], "created_at": run["created_at"].isoformat(),
            "service_type": p.get("service_type"), "mode": p.get("mode"),
            "budget_m": p.get("budget_m"), "minutes": p.get("minutes"),
            "speed_m_per_min": p.get("speed_m_per_min"), "weight": p.get("weight"),
            "summary": run["summary"]}


def _respond(frame: gpd.GeoDataFrame, fmt: str, *, meta: dict[str, Any], name: str
             ) -> Response:
    cols = [c for c in frame.columns if c != "geometry"]
    records = [{c: _clean(v) for c, v in zip(cols, row, strict=True)}
               for row in frame[cols].itertuples(index=False, name=None)]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols)
        writer.writeheader()
        for r in records:
            writer.writerow({k: ";".join(map(str, v)) if isinstance(v, list) else v
                             for k, v in r.items()})
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{meta["city"]}-{name}.csv"'})
    if fmt == "geojson":
        geoms = [None if g is None else g.__geo_interface__ for g in frame.geometry.values]
        feats = [{"type": "Feature", "geometry": g, "properties": r}
                 for g, r in zip(geoms, records, strict=True)]
        return JSONResponse({"type": "FeatureCollection", "features": feats, "meta": meta},
                            media_type=GEOJSON)
    return JSONResponse({**meta, "items": records})


@router.get("/runs/latest")
def latest_run(conn: ConnDep, city: str,
               service_type: ServiceTypeQ = "courier_station") -> JSONResponse:
    """Parameters and headline figures of the newest reach run."""
    c = get_city(conn, city)
    return JSONResponse(_clean_tree(_meta(c, _run(conn, c, service_type))))


def _clean_tree(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clean_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean_tree(x) for x in v]
    return _clean(v)


@router.get("/stations")
def stations(conn: ConnDep, city: str, service_type: ServiceTypeQ = "courier_station",
             format: Format = "json",
             catchments: Annotated[bool, Query(description="GeoJSON geometry = catchment "
                                               "polygon instead of the station point")] = False
             ) -> Response:
    """Per-station reach: compounds, residents, households and grids reached, demand."""
    c = get_city(conn, city)
    run = _run(conn, c, service_type)
    frame = read_run_stations(conn, run["id"], catchments=catchments)
    return _respond(frame, format, meta=_clean_tree(_meta(c, run)), name="station-reach")


@router.get("/compounds")
def compounds(conn: ConnDep, city: str, service_type: ServiceTypeQ = "courier_station",
              format: Format = "json",
              unreached: Annotated[bool, Query(description="Only compounds no station "
                                               "reaches")] = False) -> Response:
    """Per compound: the stations reaching it (redundancy) and the nearest one's distance."""
    c = get_city(conn, city)
    run = _run(conn, c, service_type)
    frame = read_run_compounds(conn, run["id"], unreached_only=unreached)
    return _respond(frame, format, meta=_clean_tree(_meta(c, run)),
                    name="unreached-compounds" if unreached else "compound-reach")


@router.get("/grids")
def grids(conn: ConnDep, city: str, service_type: ServiceTypeQ = "courier_station",
          format: Format = "json",
          unreached: Annotated[bool, Query(description="Only grids none of whose compounds "
                                           "is reached")] = False) -> Response:
    """Per grid: residents reached (compounds apportioned by resident share)."""
    c = get_city(conn, city)
    run = _run(conn, c, service_type)
    frame = read_run_grids(conn, run["id"])
    if unreached:
        known = frame["residents"] - frame["residents_unknown"]
        frame = frame[~frame["reached"].astype(bool) & (known > 0)]
    return _respond(frame, format, meta=_clean_tree(_meta(c, run)), name="grid-reach")


@router.get("/overlaps")
def overlaps(conn: ConnDep, city: str, service_type: ServiceTypeQ = "courier_station",
             format: Format = "json",
             min_share: Annotated[float, Query(ge=0, le=1, description=(
                 "Least share of the smaller catchment shared"))] = DEFAULT_OVERLAP_SHARE
             ) -> Response:
    """Station pairs whose catchments overlap: residents and demand shared, shares."""
    c = get_city(conn, city)
    run = _run(conn, c, service_type)
    frame = read_run_overlaps(conn, run["id"], min_share=min_share)
    return _respond(frame, format, meta=_clean_tree(_meta(c, run)), name="overlaps")


class RunRequest(BaseModel):
    """A reach run: a preset, or a service type, mode and budget (minutes or metres)."""

    preset: str | None = Field(None, description=f"One of {', '.join(PRESETS)}")
    service_type: str = Field("courier_station", pattern=r"^[a-z][a-z0-9_]*$")
    mode: Literal["walk", "ride"] = "ride"
    minutes: float | None = Field(None, gt=0, le=120)
    metres: float | None = Field(None, gt=0, le=20000)
    weight: Literal["residents", "compound_demand", "demand_points"] = "residents"
    overlap_min_share: float = Field(DEFAULT_OVERLAP_SHARE, ge=0, le=1)


@router.post("/runs", status_code=201, dependencies=[Depends(require_role("analyst"))])
def create_run(conn: ConnDep, settings: SettingsDep, city: str, body: RunRequest
               ) -> JSONResponse:
    """Compute and store a reach run (analysts). Without a budget: the 1-km preset."""
    c = get_city(conn, city)
    service_type, mode, minutes, metres = body.service_type, body.mode, body.minutes, \
        body.metres
    if body.preset is not None:
        p = preset(body.preset)
        service_type, mode, minutes, metres = p.service_type, p.mode, p.minutes, p.metres
    elif minutes is None and metres is None:
        metres = PRESETS["courier_1km"].metres
    if minutes is not None and metres is not None:
        raise InvalidInputError("give minutes or metres, not both",
                                [Problem("both given", field="minutes")])
    speed = settings.ride_speed_m_per_min if mode == "ride" else settings.walk_speed_m_per_min
    run_id, _ = analyze_city_courier(
        conn, c.id, service_type=service_type, mode=mode, minutes=minutes, metres=metres,
        weight=body.weight, overlap_min_share=body.overlap_min_share, speed_m_per_min=speed,
        max_snap_m=settings.max_snap_m, metric_epsg=c.metric_epsg)
    return JSONResponse(_clean_tree(_meta(c, _run(conn, c, service_type))) | {"run_id": run_id},
                        status_code=201)
