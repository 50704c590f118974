"""Coverage runs: a city's walking network, compounds and service points → stored run.

:func:`run_coverage` reads the inputs (:func:`read_coverage_inputs`:
:mod:`geo.store.network`, :mod:`geo.store.inputs`), computes
:func:`geo.coverage.analyze_coverage` (:func:`compute_coverage`) and stores it as one
``analysis_run`` (:func:`store_coverage`, :func:`geo.store.coverage.write_run`); a batch
may compute a large city's types in parts on several workers and store them merged
(:mod:`geo.runs.batch`). Walking speed and snap distance default to the deployment's
:class:`~geo.settings.Settings`. With ``params.at`` only the service points open at that
moment take part (:mod:`geo.io.hours`): the filter is on the set of points,
the computation is the same; the run stores the moment and the ids of the closed points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from sqlalchemy import Connection

from geo.coverage.analysis import REQUIRED_TYPES, CoverageResult, analyze_coverage
from geo.errors import InvalidInputError, Problem
from geo.io.hours import open_mask, parse_moment, week_moments
from geo.network.graph import StreetNetwork
from geo.runs.base import StoredRun, city_of
from geo.runs.params import CoverageParams
from geo.settings import Settings
from geo.store.cities import City, data_version
from geo.store.coverage import INPUT_TABLES, summarize, write_run
from geo.store.inputs import read_compounds, read_services, unit_links
from geo.store.network import read_network


@dataclass(frozen=True)
class CoverageInputs:
    """What a coverage run of ``city`` reads: its walking network, compounds and the service
    points taking part (those open at ``params.at``), the types reported (every type with
    points, and the required ones), the closed points' ids and the inputs' data versions."""

    city: City
    net: StreetNetwork
    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    types: list[str]
    closed: list[int]
    versions: dict[str, int]


def read_coverage_inputs(conn: Connection, city: City | str, params: CoverageParams,
                         settings: Settings) -> CoverageInputs:
    """The inputs of a coverage run of ``city`` (:class:`InvalidInputError` if it has no
    compounds); walking speed from ``settings`` (m/min)."""
    c = city_of(conn, city)
    net = read_network(conn, c.id, mode="walk", speed_m_per_min=settings.walk_speed_m_per_min,
                       metric_epsg=c.metric_epsg)
    compounds = read_compounds(conn, c.id)
    services = read_services(conn, c.id)
    types = sorted(set(services["type"].astype(str)) | {str(t) for t in REQUIRED_TYPES})
    closed: list[int] = []
    if params.at is not None:  # only the points open then; every type is still reported
        is_open = open_mask(services["opening_hours"], parse_moment(params.at),
                            ids=services["external_id"].tolist())
        closed = [int(i) for i in services["id"].to_numpy()[~is_open]]
        services = services[is_open]
    if len(compounds) == 0:
        raise InvalidInputError(f"city {c.code!r} has no compounds",
                                [Problem("no compounds", field="compound")])
    return CoverageInputs(c, net, compounds, services, types, closed,
                          data_version(conn, INPUT_TABLES))


def compute_coverage(inputs: CoverageInputs, params: CoverageParams, settings: Settings, *,
                     types: Sequence[str] | None = None) -> CoverageResult:
    """:func:`geo.coverage.analyze_coverage` of ``inputs`` for all its types or, with
    ``types``, for those of them (a part of a city split over workers,
    :func:`geo.coverage.merge_coverage`)."""
    minutes, metres = params.thresholds()
    only = None if types is None else set(types)
    wanted = [t for t in inputs.types if only is None or t in only]
    return analyze_coverage(inputs.net, inputs.compounds, inputs.services, minutes=minutes,
                            metres=metres, trim_m=params.trim_m or settings.circle_trim_m,
                            cell_m=settings.circle_cell_m, types=wanted,
                            required_types=REQUIRED_TYPES, max_snap_m=settings.max_snap_m,
                            target_group=params.target_group and str(params.target_group),
                            speed_m_per_min=params.speed_m_per_min)


def store_coverage(conn: Connection, inputs: CoverageInputs, params: CoverageParams,
                   settings: Settings, result: CoverageResult) -> StoredRun[CoverageResult]:
    """Store ``result``, computed from ``inputs``, as a coverage run (never commits)."""
    minutes, metres = params.thresholds()
    net = inputs.net
    stored = {"mode": "walk", "speed_m_per_min": net.speed_m_per_min,
              "target_group": params.target_group and str(params.target_group),
              "type_speed_m_per_min": params.speed_m_per_min,
              "walkers": {t: {"target_group": w.group, "speed_m_per_min": w.speed_m_per_min}
                          for t, w in sorted(result.walkers.items())},
              "minutes": minutes,
              "metres": metres, "trim_m": result.trim_m, "cell_m": result.cell_m,
              "types": sorted(set(result.nearest.table["type"])),
              "required_types": [str(t) for t in REQUIRED_TYPES],
              "max_snap_m": settings.max_snap_m, "metric_epsg": net.metric_epsg,
              "include_snap": True}
    if params.at is not None:
        stored |= {"at": params.at, "closed_service_ids": inputs.closed}
    c = inputs.city
    summary = summarize(result, inputs.compounds)
    run_id = write_run(conn, c, result, inputs.compounds, unit_links(conn, c.id, inputs.compounds),
                       params=stored, versions=inputs.versions, summary=summary)
    return StoredRun(run_id, c, stored, summary, result)


def run_coverage(conn: Connection, city: City | str, params: CoverageParams | None = None,
                 settings: Settings | None = None) -> StoredRun[CoverageResult]:
    """Compute the coverage of ``city`` on its walking network and store it (never commits).

    Thresholds in minutes or in metres; each service type counts its target group walking
    at its speed (:func:`geo.coverage.analysis.type_walkers`: the vocabulary's, else the
    settings' walking speed; ``params.target_group`` / ``params.speed_m_per_min`` set them
    for every type); service points snap within ``settings.max_snap_m``;
    circles trimmed at ``params.trim_m`` (default ``settings.circle_trim_m``) on cells of
    ``settings.circle_cell_m`` (the definition: :mod:`geo.coverage.analysis`).
    """
    params = params or CoverageParams()
    settings = settings or Settings()
    inputs = read_coverage_inputs(conn, city, params, settings)
    return store_coverage(conn, inputs, params, settings,
                          compute_coverage(inputs, params, settings))


def week_moments_of(conn: Connection, city: City | str) -> list[str]:
    """One moment (``"Mo 08:30"`` …) for each distinct set of closed service points of
    ``city`` over the reference week (:func:`geo.io.hours.week_moments`), leaving out the
    moments when every point is open (the all-day run answers those)."""
    c = city_of(conn, city)
    services = read_services(conn, c.id)
    hours, ids = services["opening_hours"].tolist(), services["external_id"].tolist()
    seen: set[tuple[int, ...]] = set()
    out = []
    for m in week_moments(hours, ids=ids):
        closed = tuple(int(i) for i in np.flatnonzero(~open_mask(hours, m)))
        if closed and closed not in seen:
            seen.add(closed)
            out.append(m.label)
    return out
