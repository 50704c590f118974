"""Courier-station reach runs: one station type's reach over a city, stored.

:func:`resolve` turns :class:`~geo.runs.params.CourierParams` into one concrete run (a
preset, or a type, mode and budget; the 1-km courier circle without a budget) with the
travel speed of its mode from the settings; :func:`run_courier` reads the stations,
network, compounds, grid links and imported demand, computes
:func:`geo.courier.reach.station_reach` and stores it
(:func:`geo.store.courier.store_courier_run`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
from sqlalchemy import Connection

from geo.courier.reach import PRESETS, CourierReach, preset, station_reach
from geo.errors import Hint, InvalidInputError, NotFoundError, Problem
from geo.network.graph import Mode
from geo.runs.base import StoredRun, city_of
from geo.runs.params import CourierParams
from geo.settings import Settings
from geo.store.cities import City
from geo.store.courier import store_courier_run
from geo.store.inputs import (
    read_compound_demand,
    read_compounds,
    read_demand_points,
    read_grid_links,
    read_services,
)
from geo.store.network import read_network
from geo.store.vocabulary import resolve_service_type


@dataclass(frozen=True)
class CourierRun:
    """One reach run as it will be computed: every default resolved."""

    service_type: str
    mode: Mode
    minutes: float | None
    metres: float | None
    speed_m_per_min: float
    max_snap_m: float


def resolve(params: CourierParams, settings: Settings) -> CourierRun:
    """The run ``params`` describe: a preset's type, mode and budget if one is named, else
    the given ones (the 1-km courier circle without a budget); the speed of the mode."""
    service_type, mode, minutes, metres = (params.service_type, params.mode, params.minutes,
                                           params.metres)
    if params.preset is not None:
        p = preset(params.preset)
        service_type, mode, minutes, metres = p.service_type, p.mode, p.minutes, p.metres
    elif minutes is None and metres is None:
        metres = PRESETS["courier_1km"].metres
    if minutes is not None and metres is not None:
        raise InvalidInputError("give minutes or metres, not both",
                                [Problem("both given", field="minutes")])
    speed = params.speed_m_per_min or (settings.ride_speed_m_per_min if mode == "ride"
                                       else settings.walk_speed_m_per_min)
    return CourierRun(service_type, mode, minutes, metres, speed, settings.max_snap_m)


#: What each kind of imported rider demand is called in errors.
_DEMAND_KINDS = {"compounds": "per-compound demand", "points": "rider-demand points"}


def _imported(frame: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """``frame`` of imported demand of ``kind`` (``compounds``/``points``); none is an error
    pointing to the import."""
    if len(frame) == 0:
        raise InvalidInputError(
            f"no {_DEMAND_KINDS[kind]} imported for this city",
            [Problem("import it first", field="weight",
                     hint=Hint(run="courier-demand", option="kind", value=kind))],
            code="no-demand")
    return frame


def run_courier(conn: Connection, city: City | str | int, params: CourierParams | None = None,
                settings: Settings | None = None) -> StoredRun[CourierReach]:
    """Compute and store the reach of every station of the resolved type in ``city``.

    Reads the street network of the mode (e-bike ``"ride"`` or ``"walk"``), the stations,
    compounds, grid links and, for weight ``compound_demand`` / ``demand_points``, the
    imported demand. Never commits.
    """
    params = params or CourierParams()
    settings = settings or Settings()
    run = resolve(params, settings)
    c = city_of(conn, city)
    run = replace(run, service_type=resolve_service_type(conn, run.service_type))
    stations = read_services(conn, c.id, service_type=run.service_type)
    if len(stations) == 0:
        raise NotFoundError(f"city {c.code!r} has no {run.service_type} service points")
    net = read_network(conn, c.id, mode=run.mode, speed_m_per_min=run.speed_m_per_min,
                       metric_epsg=c.metric_epsg)
    demand = points = None
    if params.weight == "compound_demand":
        demand = _imported(read_compound_demand(conn, c.id, "compound_demand"), "compounds")
    elif params.weight == "demand_points":
        points = _imported(read_demand_points(conn, c.id), "points")
    reach = station_reach(net, stations, read_compounds(conn, c.id), minutes=run.minutes,
                          metres=run.metres, grid_links=read_grid_links(conn, c.id),
                          demand=demand, demand_points=points,
                          overlap_min_share=params.overlap_min_share,
                          max_snap_m=run.max_snap_m)
    stored = {"max_snap_m": run.max_snap_m, **({"preset": params.preset}
                                                 if params.preset else {})}
    run_id = store_courier_run(conn, c.id, reach, service_type=run.service_type,
                               params=stored)
    full = {**stored, "service_type": run.service_type, "mode": reach.mode,
            "speed_m_per_min": reach.speed_m_per_min, "budget_m": reach.budget_m,
            "minutes": reach.minutes, "weight": reach.weight,
            "overlap_min_share": reach.overlap_min_share, "metric_epsg": reach.metric_epsg}
    return StoredRun(run_id, c, full, reach.summary(), reach)
