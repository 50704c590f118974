"""Coverage: one definition of who and what lies inside a service circle.

Everything the product shows about coverage — the circles and gaps on the map, the
tables by compound, grid, community and street, the panel totals, the CSV and Excel
downloads, the notebooks — derives from the one computation of this module
(:func:`analyze_coverage`), stored as one run by :mod:`geo.store.coverage`.

Definitions, for a service type *T* and a budget *B* (minutes × walking speed, or
network metres):

1. **Walk time of a compound.** The network distance from the compound's best gate (its
   representative point when gates are unknown) to the nearest service point of *T*,
   along the walking network, snap connectors included
   (:func:`geo.network.nearest.nearest_service`). A compound none of whose access
   points lies within ``max_snap_m`` of a street is *unknown*.
2. **Classification.** A compound is *inside* when its walk is ≤ *B*, *outside* when it
   is longer (or no point of *T* is reachable), *unknown* as above. Its residents and
   households count whole: inside, outside or unknown (never split by area).
3. **Walk time of other land.** A place outside every compound takes the walk time of
   its nearest street access point, if it lies within the trim distance ``trim_m``
   (:data:`geo.settings.DEFAULT_TRIM_M`) of a street; farther places have none. This is a
   network service area's "detailed polygon" (:mod:`geo.coverage.detailed`, drawn on a
   grid of ``cell_m`` cells).
4. **Circles.** The circle of a service point is the land of (3) reached from it within
   *B*, minus every compound, plus the inside compounds whose nearest service point of
   *T* it is (each inside compound is drawn in exactly one circle); it is drawn on the
   cells of (3), a compound being the cells whose centres it holds
   (:func:`coverage_circles`). The circle of *T* (the map's coverage layer) is the union
   of its points' circles with compound land made exact: the land of (3) within *B* of
   some point, minus every compound polygon, plus every inside compound polygon
   (:func:`type_circles`).
5. **Gaps.** One gap feature per outside compound, per type and threshold: its geometry
   is the part of the compound not covered by the circle of *T* (by (4) the whole
   compound, less any overlap with an inside compound), its people are the compound's
   residents and households outside. Inside and unknown compounds are never gaps. Hence
   residents in the gap layer = residents outside in the tables, per type and threshold.
6. **Units.** Communities and streets (街道) take whole compounds (``community_id`` /
   ``street_id``). A compound split across grids is apportioned by
   ``grid_compound.resident_share`` in **whole people**: each of its inside / outside /
   unknown counts is split by the largest-remainder (Hamilton) method — floors first,
   the people left over to the largest fractional parts (ties to the lower grid id) —
   so the parts are integers adding up to the compound's count times its total share,
   rounded half up (the count itself when the shares add up to 1). Every count of
   people is an integer; :func:`apportion` is the one rounding rule.
7. **Completeness** (of the life circle): the share of a required set of service types
   within 15 minutes of a compound. The default set follows the 15-minute life circle of
   GB 50180-2018 (community service, elderly care, children, convenience facilities) and
   the Complete Community Construction Guide (完整社区建设指南, MOHURD 2022: a
   comprehensive service station, elderly day care and canteen, after-school care,
   convenience shops, parcel pick-up): see :data:`REQUIRED_TYPES`. *Data* completeness
   (:func:`data_completeness`) is the share of compounds with residents (> 0) and with
   gates.
8. **Who walks, how fast.** Each type *T* serves a target group — all residents or an
   age group (0–14, 15–59, 60+) — walking at its speed
   (:data:`geo.domain.SERVICE_WALKERS`: elderly canteens and day care serve residents of
   60 and over at 60 m/min; every other type all residents at the network's speed); a run
   may set one group or one speed for every type. The budget of *T* in minutes is
   minutes × *T*'s speed, its minutes are metres / *T*'s speed (circles, classification
   and completeness alike). Beside residents and households, every count is also made in
   people of the target group (``target_*``): a compound whose group size is not known
   (an import without age groups) counts as *target unknown* — never guessed — and the
   units report how many such compounds they hold (``compounds_target_unknown``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage.circles import service_circles, union_by_type
from geo.domain import (
    GROUP_COLUMNS,
    LIFE_CIRCLE_MINUTES,
    POPULATION_GROUPS,
    WALK_MINUTES,
    OriginKind,
    ServiceType,
    service_walkers,
)
from geo.errors import InvalidInputError, Problem
from geo.io.geojson import feature_frame
from geo.network.graph import StreetNetwork
from geo.network.nearest import NearestResult, nearest_service
from geo.settings import DEFAULT_CELL_M, DEFAULT_TRIM_M

#: Service types a "complete" compound has within 15 minutes (GB 50180-2018 15-minute
#: life circle; 完整社区建设指南 2022). Courier rest stations serve riders, not residents,
#: and are left out; grid stations and red stations are governance posts, also left out.
REQUIRED_TYPES: tuple[str, ...] = (
    ServiceType.PARTY_MASS_CENTRE, ServiceType.ELDERLY_DAYCARE, ServiceType.ELDERLY_CANTEEN,
    ServiceType.AFTER_SCHOOL, ServiceType.CONVENIENCE_POINT, ServiceType.PARCEL_STATION,
)

Thresholds = list[tuple[float, float]]  # (minutes or NaN, budget metres)


@dataclass(frozen=True)
class TypeWalk:
    """Whom a service type's coverage counts (``group``, a
    :class:`geo.domain.PopulationGroup` code) and their walking speed in m/min."""

    group: str
    speed_m_per_min: float


def type_walkers(types: Sequence[str], *, default_speed_m_per_min: float,
                 target_group: str | None = None,
                 speed_m_per_min: float | None = None) -> dict[str, TypeWalk]:
    """Target group and walking speed of each type by (8) of the module's definition.

    The vocabulary's (:func:`geo.domain.service_walkers`), types without a speed of their
    own walking at ``default_speed_m_per_min``; ``target_group`` / ``speed_m_per_min``
    (m/min), when given, apply to every type.
    """
    problems = []
    if target_group is not None and target_group not in POPULATION_GROUPS:
        problems.append(Problem(f"unknown population group {target_group!r}; allowed: "
                                f"{', '.join(POPULATION_GROUPS)}", field="target_group"))
    for name, v in (("speed_m_per_min", speed_m_per_min),
                    ("default_speed_m_per_min", default_speed_m_per_min)):
        if v is not None and not (np.isfinite(v) and v > 0):
            problems.append(Problem("speed must be > 0 m/min", field=name))
    if problems:
        raise InvalidInputError("invalid walkers", problems)
    out = {}
    for t in types:
        w = service_walkers(str(t))
        out[str(t)] = TypeWalk(
            str(target_group or w.group),
            float(speed_m_per_min or w.speed_m_per_min or default_speed_m_per_min))
    return out


def _walk_of(walkers: Mapping[str, TypeWalk] | None, types: pd.Series,
             default_speed_m_per_min: float) -> tuple[np.ndarray, np.ndarray]:
    """(group, speed) per row of ``types``; types without walkers: all, the default speed."""
    walk = dict(walkers or {})
    codes = types.astype(str).to_numpy()
    group = np.array([walk[t].group if t in walk else "all" for t in codes], dtype=object)
    speed = np.array([walk[t].speed_m_per_min if t in walk else default_speed_m_per_min
                      for t in codes], dtype=float)
    return group, speed


def thresholds(net: StreetNetwork, *, minutes: Sequence[float] | None = WALK_MINUTES,
               metres: Sequence[float] | None = None) -> Thresholds:
    """(minutes, metres) pairs; minutes is NaN for thresholds given in metres."""
    if (minutes is None) == (metres is None):
        raise InvalidInputError("give thresholds in minutes or in metres",
                                [Problem("exactly one of minutes/metres", field="minutes")])
    if minutes is not None:
        return [(float(m), net.budget_m(minutes=m)) for m in minutes]
    return [(float("nan"), net.budget_m(metres=m)) for m in metres]  # type: ignore[union-attr]


def compound_origins(compounds: gpd.GeoDataFrame, *, id_col: str = "id",
                     gates_col: str = "gates",
                     inferred_col: str = "inferred_gates") -> gpd.GeoDataFrame:
    """Access points of compounds: the user's gates (MultiPoint), else gates inferred from
    OSM (:mod:`geo.network.gates`), else a representative point. Columns ``compound_id,
    origin_kind`` (:class:`geo.domain.OriginKind`)."""
    rep = compounds.geometry.representative_point().to_numpy()
    geom = np.asarray(rep, dtype=object)
    kind = np.full(len(compounds), str(OriginKind.INTERIOR_POINT), dtype=object)
    for col, name in ((inferred_col, OriginKind.INFERRED_GATE), (gates_col, OriginKind.GATE)):
        if col not in compounds.columns:
            continue
        g = gpd.GeoSeries(compounds[col].to_numpy(), crs=compounds.crs)
        has = ~(g.isna().to_numpy() | g.is_empty.to_numpy())
        geom = np.where(has, g.to_numpy(), geom)
        kind = np.where(has, str(name), kind)  # the user's gates come last: they win
    return gpd.GeoDataFrame({"compound_id": compounds[id_col].to_numpy(), "origin_kind": kind},
                            geometry=list(geom), crs=compounds.crs)


def compound_access(net: StreetNetwork, compounds: gpd.GeoDataFrame | dict[str, Any],
                    services: gpd.GeoDataFrame | dict[str, Any], *, id_col: str = "id",
                    types: Sequence[str] | None = None, max_snap_m: float = 250.0,
                    include_snap: bool = True,
                    walkers: Mapping[str, TypeWalk] | None = None) -> NearestResult:
    """Nearest and second-nearest service of each type for every compound (best gate);
    the table says which access point was used (``origin_kind``, :class:`~geo.domain.OriginKind`).

    Minutes are metres / the type's walking speed by (8) (``speed_m_per_min`` column;
    ``walkers`` default: :func:`type_walkers` of the vocabulary at the network's speed).
    ``compounds`` and ``services`` may be GeoJSON FeatureCollections as the API serves them
    (:func:`geo.io.feature_frame`)."""
    compounds = feature_frame(compounds, id_col=id_col, what="compounds")
    services = feature_frame(services, required=("type",), what="service points")
    origins = compound_origins(compounds, id_col=id_col)
    near = nearest_service(net, origins, services, origin_id_col="compound_id",
                           types=list(types) if types is not None else None,
                           max_snap_m=max_snap_m, include_snap=include_snap)
    kinds = dict(zip(origins["compound_id"], origins["origin_kind"], strict=True))
    t = near.table
    if walkers is None:
        walkers = type_walkers(sorted(set(t["type"].astype(str))),
                               default_speed_m_per_min=net.speed_m_per_min)
    _, speed = _walk_of(walkers, t["type"], net.speed_m_per_min)
    return replace(near, table=t.assign(
        origin_kind=t["origin"].map(kinds), nearest_min=t["nearest_m"] / speed,
        second_min=t["second_m"] / speed, speed_m_per_min=speed))


def coverage_by_compound(compounds: gpd.GeoDataFrame, nearest: pd.DataFrame,
                         levels: Thresholds, *, id_col: str = "id",
                         walkers: Mapping[str, TypeWalk] | None = None,
                         default_speed_m_per_min: float | None = None) -> pd.DataFrame:
    """Per compound, type and threshold: ``status`` and residents/households in/out.

    ``nearest`` is :attr:`NearestResult.table` with compounds as origins. ``status`` is
    ``inside``, ``outside`` or ``unknown`` (not snapped to a street); ``covered`` is the
    same as a nullable boolean. People are whole (integers): all of a compound's people
    are in exactly one of ``*_in``, ``*_out``, ``*_unknown``.

    By (8), a threshold in minutes is a budget of minutes × the type's speed (``walkers``,
    default :func:`type_walkers` of the vocabulary; types not in it walk at
    ``default_speed_m_per_min``, by default the speed the budgets of ``levels`` were made
    with); ``target_group``,
    ``speed_m_per_min``, ``target`` (the compound's people of the group; null when not
    known), ``target_known`` and ``target_in/out/unknown`` (0 when not known) count the
    type's target group.
    """
    minutes_levels = [(m, b) for m, b in levels if not np.isnan(m)]
    if default_speed_m_per_min is None:
        default_speed_m_per_min = (minutes_levels[0][1] / minutes_levels[0][0]
                                   if minutes_levels else 1.0)
    cols = [id_col, "residents", "households"]
    groups = {c: compounds[c] for c in set(GROUP_COLUMNS.values()) - {"residents"}
              if c in compounds.columns}
    people = compounds[cols].rename(columns={id_col: "origin"}).assign(
        **{f"_g_{k}": pd.array(v.to_numpy(), dtype="Float64") for k, v in groups.items()})
    base = nearest.merge(people, on="origin", how="left")
    if walkers is None:
        walkers = type_walkers(sorted(set(base["type"].astype(str))),
                               default_speed_m_per_min=default_speed_m_per_min)
    group, speed = _walk_of(walkers, base["type"], default_speed_m_per_min)
    target = np.full(len(base), np.nan)
    for g, col in GROUP_COLUMNS.items():
        rows = group == g
        if not rows.any():
            continue
        if col == "residents":
            target[rows] = base.loc[rows, "residents"].fillna(0).to_numpy(dtype=float)
        elif f"_g_{col}" in base.columns:
            target[rows] = base.loc[rows, f"_g_{col}"].to_numpy(dtype=float, na_value=np.nan)
    base["target_group"], base["speed_m_per_min"] = group, speed
    base["nearest_min"] = base["nearest_m"].to_numpy(dtype=float) / speed
    base["target"] = pd.array(np.where(np.isnan(target), pd.NA, target), dtype="Int64")
    frames = []
    for mins, budget in levels:
        f = base[["origin", "type", "nearest_id", "nearest_m", "nearest_min", "snapped",
                  "residents", "households", "target_group", "speed_m_per_min",
                  "target"]].copy()
        f["minutes"] = mins
        f["budget_m"] = budget if np.isnan(mins) else float(mins) * speed
        inside = (f["nearest_m"] <= f["budget_m"]).to_numpy()
        known = f["snapped"].to_numpy(dtype=bool)
        f["status"] = np.where(~known, "unknown", np.where(inside, "inside", "outside"))
        f["covered"] = pd.array(np.where(known, inside, False), dtype="boolean")
        f.loc[~known, "covered"] = pd.NA
        f["target_known"] = ~np.isnan(target)
        for col in ("residents", "households", "target"):
            v = f[col].fillna(0).to_numpy(dtype=np.int64)
            if col != "target":
                f[col] = v
            f[f"{col}_in"] = np.where(known & inside, v, 0)
            f[f"{col}_out"] = np.where(known & ~inside, v, 0)
            f[f"{col}_unknown"] = np.where(known, 0, v)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True).rename(columns={"origin": "compound_id"})
    return out


def apportion(count: np.ndarray, share: np.ndarray, group: np.ndarray,
              tiebreak: np.ndarray) -> np.ndarray:
    """Whole parts of ``count × share`` per row, by the largest-remainder method.

    Rows of one ``group`` (a compound's count split over units) get the floors of their
    quotas, then one more person each, by descending fractional part (ties to the
    smaller ``tiebreak``), until the group holds ``round(count × Σ share)`` (half up).
    ``count`` is the same on every row of a group. Returns int64.
    """
    q = count.astype(float) * share
    whole = np.floor(q + 1e-9)
    rest = q - whole
    g = pd.factorize(group)[0] if group.dtype == object else group
    _, gi = np.unique(g, return_inverse=True)
    total_share = np.bincount(gi, weights=share)[gi]
    target = np.floor(count * total_share + 0.5 + 1e-9)
    deficit = np.clip(target - np.bincount(gi, weights=whole)[gi], 0, None)
    order = np.lexsort((tiebreak, -rest, gi))
    sorted_gi = gi[order]
    first = np.searchsorted(sorted_gi, sorted_gi)  # start of each row's group (sorted)
    rank = np.empty(len(q), dtype=np.int64)
    rank[order] = np.arange(len(q)) - first
    return (whole + (rank < deficit)).astype(np.int64)


PEOPLE_COLUMNS = [f"{p}_{k}" for p in ("residents", "households")
                  for k in ("in", "out", "unknown")]
STATUSES = ("in", "out", "unknown")
#: People of the type's target group inside / outside / not computable, by (8).
TARGET_COLUMNS = [f"target_{k}" for k in STATUSES]


def coverage_by_unit(compound_cov: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Aggregate compound coverage to units (grid, community, street) in whole people.

    Parameters
    ----------
    links
        ``compound_id, unit_id, share``: the share of the compound's people in the unit
        (``grid_compound.resident_share`` for grids; 1 for communities and streets).

    Returns
    -------
    DataFrame
        ``unit_id, type, minutes, budget_m, compounds, compounds_in, compounds_out,
        compounds_unknown`` (compounds with people in the unit, by status),
        ``residents, residents_in, residents_out, residents_unknown, households*``
        (integers, split compounds apportioned by :func:`apportion`) and
        ``share_covered`` (residents inside / residents with known access; NaN when the
        unit has none); by (8) ``target_group, speed_m_per_min``, ``target,
        target_in, target_out, target_unknown`` (people of the group, apportioned alike,
        compounds of unknown group size left out), ``compounds_target_unknown`` (those
        compounds) and ``target_share_covered``.
    """
    m = compound_cov.merge(links[["compound_id", "unit_id", "share"]], on="compound_id")
    group = (m["compound_id"].astype(str) + "|" + m["type"].astype(str) + "|"
             + m["budget_m"].astype(str)).to_numpy(dtype=object)
    share = m["share"].to_numpy(dtype=float)
    tiebreak = m["unit_id"].to_numpy()
    for c in PEOPLE_COLUMNS + TARGET_COLUMNS:
        m[c] = apportion(m[c].to_numpy(dtype=np.int64), share, group, tiebreak)
    status = m["status"].map({"inside": "in", "outside": "out", "unknown": "unknown"})
    for k in STATUSES:
        m[f"compounds_{k}"] = (status == k).astype(np.int64)
    m["compounds_target_unknown"] = (~m["target_known"].to_numpy(dtype=bool)).astype(np.int64)
    key = ["unit_id", "type", "budget_m"]
    counts = [f"compounds_{k}" for k in STATUSES]
    summed = PEOPLE_COLUMNS + TARGET_COLUMNS + counts + ["compounds_target_unknown"]
    g = m.groupby(key, dropna=False).agg({**{c: "sum" for c in summed},
                                           "minutes": "first", "compound_id": "nunique",
                                           "target_group": "first",
                                           "speed_m_per_min": "first"}).reset_index()
    g = g.rename(columns={"compound_id": "compounds"})
    g["residents"] = g["residents_in"] + g["residents_out"] + g["residents_unknown"]
    g["households"] = g["households_in"] + g["households_out"] + g["households_unknown"]
    known = g["residents_in"] + g["residents_out"]
    g["share_covered"] = np.where(known > 0, g["residents_in"] / known.where(known > 0, 1), np.nan)
    g["target"] = g["target_in"] + g["target_out"] + g["target_unknown"]
    tknown = g["target_in"] + g["target_out"]
    g["target_share_covered"] = np.where(tknown > 0, g["target_in"] / tknown.where(tknown > 0, 1),
                                         np.nan)
    return g[["unit_id", "type", "minutes", "budget_m", "compounds", *counts, "residents",
              "households", *PEOPLE_COLUMNS, "share_covered", "target_group",
              "speed_m_per_min", "target", *TARGET_COLUMNS, "compounds_target_unknown",
              "target_share_covered"]]


def _metric_compounds(compounds: gpd.GeoDataFrame, metric_epsg: int) -> np.ndarray:
    return np.asarray(shapely.make_valid(compounds.to_crs(metric_epsg).geometry.to_numpy()),
                      dtype=object)


def coverage_circles(net: StreetNetwork, services: gpd.GeoDataFrame,
                     compounds: gpd.GeoDataFrame, compound_cov: pd.DataFrame, *,
                     minutes: Sequence[float] | None = WALK_MINUTES,
                     metres: Sequence[float] | None = None, trim_m: float = DEFAULT_TRIM_M,
                     cell_m: float = DEFAULT_CELL_M, id_col: str = "id",
                     max_snap_m: float = 250.0, workers: int = 1) -> gpd.GeoDataFrame:
    """Circles of the service points by (4) of the module's definition, on the cells:
    land within the budget, compound cells left out but for the inside compounds whose
    nearest point of the type each point is. Rows of
    :func:`~geo.coverage.circles.service_circles` (services' ``id``), network metric CRS."""
    inside = compound_cov[compound_cov["status"] == "inside"]
    served = pd.DataFrame({"service_id": inside["nearest_id"].to_numpy(),
                           "budget_m": inside["budget_m"].to_numpy(),
                           "compound_id": inside["compound_id"].to_numpy()})
    return service_circles(net, services, minutes=minutes, metres=metres, trim_m=trim_m,
                           cell_m=cell_m, max_snap_m=max_snap_m, crs=net.metric_epsg,
                           workers=workers, compounds=compounds, served=served,
                           compound_id_col=id_col)


def type_circles(circles: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
                 compound_cov: pd.DataFrame, *, id_col: str = "id", metric_epsg: int
                 ) -> gpd.GeoDataFrame:
    """Circles of the types by (4): the union of their points' circles, with compound
    land exact — every compound taken out, the inside compounds of the type put back
    whole. Rows of :func:`~geo.coverage.circles.union_by_type`, ``metric_epsg``."""
    uni = union_by_type(circles.to_crs(metric_epsg))
    cgeom = _metric_compounds(compounds, metric_epsg)
    if len(uni) == 0 or len(cgeom) == 0:
        return uni
    every = shapely.union_all(cgeom)
    pos = pd.Series(np.arange(len(compounds)), index=compounds[id_col].to_numpy())
    inside = compound_cov[compound_cov["status"] == "inside"]
    geoms = np.asarray(uni.geometry.to_numpy(), dtype=object).copy()
    for i, (typ, budget) in enumerate(zip(uni["type"].astype(str), uni["budget_m"],
                                          strict=True)):
        ids = inside.loc[(inside["type"].astype(str) == typ)
                         & (inside["budget_m"] == budget), "compound_id"].to_numpy()
        whole = cgeom[pos.reindex(ids).dropna().to_numpy(dtype=np.int64)]
        land = geoms[i] if geoms[i] is not None else shapely.Polygon()
        geoms[i] = shapely.union_all(np.array([shapely.difference(land, every), *whole],
                                              dtype=object))
    out = uni.copy()
    out["geometry"] = geoms
    return out


def coverage_gaps(compounds: gpd.GeoDataFrame, compound_cov: pd.DataFrame,
                  unions: gpd.GeoDataFrame, *, id_col: str = "id", metric_epsg: int
                  ) -> gpd.GeoDataFrame:
    """Gaps of (5) in the module's definition: one row per outside compound, type and
    threshold.

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``compound_id, type, minutes, budget_m, nearest_min, residents, households``
        (the compound's people outside: integers), ``target_group, speed_m_per_min,
        target`` (its people of the type's target group, null when not known, by (8)),
        ``gap_area_m2`` and the part of the
        compound outside the circle of the type (the whole compound when an overlapping
        inside compound would leave nothing, so no outside compound goes undrawn).
    """
    out = compound_cov[compound_cov["status"] == "outside"]
    cols = ["compound_id", "type", "minutes", "budget_m", "nearest_min", "residents",
            "households", "target_group", "speed_m_per_min", "target", "gap_area_m2",
            "geometry"]
    if len(out) == 0:
        return gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry="geometry", crs=4326)
    cgeom = _metric_compounds(compounds, metric_epsg)
    idx = pd.Series(np.arange(len(compounds)), index=compounds[id_col].to_numpy())
    geom = cgeom[idx.reindex(out["compound_id"].to_numpy()).to_numpy()]
    uni = unions.to_crs(metric_epsg)
    circle = {(t, float(b)): g for t, b, g in zip(uni["type"].astype(str), uni["budget_m"],
                                                   uni.geometry.to_numpy(), strict=True)}
    cover = np.array([circle.get((t, float(b))) for t, b in
                      zip(out["type"].astype(str), out["budget_m"], strict=True)], dtype=object)
    gap = geom.copy()
    some = ~shapely.is_missing(cover)
    if some.any():
        gap[some] = shapely.difference(geom[some], cover[some])
    area = shapely.area(gap)
    gap = np.where(area > 1e-6, gap, geom)
    frame = pd.DataFrame({"compound_id": out["compound_id"].to_numpy(),
                          "type": out["type"].astype(str).to_numpy(),
                          "minutes": out["minutes"].to_numpy(),
                          "budget_m": out["budget_m"].to_numpy(),
                          "nearest_min": out["nearest_min"].to_numpy(),
                          "residents": out["residents_out"].to_numpy(dtype=np.int64),
                          "households": out["households_out"].to_numpy(dtype=np.int64),
                          "target_group": out["target_group"].to_numpy(),
                          "speed_m_per_min": out["speed_m_per_min"].to_numpy(dtype=float),
                          "target": pd.array(np.where(out["target_known"].to_numpy(dtype=bool),
                                                      out["target_out"].to_numpy(), pd.NA),
                                             dtype="Int64"),
                          "gap_area_m2": shapely.area(gap), "geometry": gap})
    res = gpd.GeoDataFrame(frame, geometry="geometry", crs=metric_epsg).to_crs(4326)
    res["geometry"] = res.geometry.make_valid()
    return res


def data_completeness(compounds: gpd.GeoDataFrame, *, gates_col: str = "gates"
                      ) -> dict[str, float | int]:
    """How complete the compound data are: counts and shares of compounds with residents
    (> 0) and with gates (shares NaN without compounds)."""
    n = len(compounds)
    with_res = int((compounds["residents"].fillna(0) > 0).sum())
    if gates_col in compounds.columns:
        g = gpd.GeoSeries(compounds[gates_col].to_numpy(), crs=compounds.crs)
        with_gates = int((~(g.isna().to_numpy() | g.is_empty.to_numpy())).sum())
    else:
        with_gates = 0
    return {"compounds": n, "compounds_with_residents": with_res,
            "compounds_with_gates": with_gates,
            "share_with_residents": with_res / n if n else float("nan"),
            "share_with_gates": with_gates / n if n else float("nan")}


def completeness(nearest: pd.DataFrame, *, required_types: Sequence[str] = REQUIRED_TYPES,
                 budget_m: float | np.ndarray) -> pd.DataFrame:
    """Per compound: how many of ``required_types`` lie within ``budget_m`` network metres
    (one budget, or one per row of ``nearest``: minutes × the row's type's speed by (8)).

    Returns ``compound_id, n_required, n_within, score`` (n_within / n_required; NaN for
    compounds not snapped) and ``missing`` (comma-separated type codes).
    """
    req = list(dict.fromkeys(str(t) for t in required_types))
    ids = nearest["origin"].drop_duplicates().to_numpy()
    snapped = nearest.groupby("origin")["snapped"].first().reindex(ids).to_numpy(dtype=bool)
    rows = nearest["type"].isin(req).to_numpy()
    t = nearest[rows]
    limit = budget_m[rows] if isinstance(budget_m, np.ndarray) else budget_m
    within = (t["nearest_m"] <= limit).groupby([t["origin"], t["type"]]).any().unstack()
    within = within.reindex(index=ids, columns=req).astype("boolean").fillna(False).astype(bool)
    n_within = within.sum(axis=1).to_numpy()
    missing = [",".join(c for c in req if not row[c]) for _, row in within.iterrows()]
    return pd.DataFrame({"compound_id": ids, "n_required": len(req), "n_within": n_within,
                         "score": np.where(snapped, n_within / max(len(req), 1), np.nan),
                         "missing": missing})


def life_circle_completeness(nearest: pd.DataFrame, levels: Thresholds, *,
                             required_types: Sequence[str] = REQUIRED_TYPES) -> pd.DataFrame:
    """:func:`completeness` within the 15-minute life circle
    (:data:`geo.domain.LIFE_CIRCLE_MINUTES` at each row's ``speed_m_per_min``, m/min) or,
    for thresholds in metres (``levels`` minutes NaN), within the largest one."""
    speed = nearest["speed_m_per_min"].to_numpy(dtype=float)
    by_minutes = not np.isnan(levels[0][0])
    complete_m = (LIFE_CIRCLE_MINUTES * speed if by_minutes
                  else np.full(len(speed), max(b for _, b in levels)))
    return completeness(nearest, required_types=required_types, budget_m=complete_m)


@dataclass(frozen=True)
class CoverageResult:
    """Everything :func:`analyze_coverage` computes (frames keyed by the callers' ids)."""

    nearest: NearestResult
    compounds: pd.DataFrame  # coverage_by_compound
    circles: gpd.GeoDataFrame  # coverage_circles: per service point and threshold, EPSG:4326
    unions: gpd.GeoDataFrame  # per type and threshold, EPSG:4326
    gaps: gpd.GeoDataFrame  # coverage_gaps, EPSG:4326
    completeness: pd.DataFrame
    data: dict[str, float | int]  # data_completeness
    levels: Thresholds  # at the network's speed; a type's own speed: ``walkers``
    walkers: dict[str, TypeWalk]
    trim_m: float
    cell_m: float
    metric_epsg: int


def _valid_4326(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 with geometries made valid (projecting may pinch rings)."""
    out = gdf.to_crs(4326)
    geoms = np.asarray(out.geometry.to_numpy(), dtype=object)
    bad = ~(shapely.is_missing(geoms) | shapely.is_valid(geoms))
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure")
        out["geometry"] = geoms
    return out


def merge_coverage(parts: Sequence[CoverageResult], *,
                   required_types: Sequence[str] = REQUIRED_TYPES) -> CoverageResult:
    """One result from ``parts`` computed by :func:`analyze_coverage` on the same network,
    compounds, service points and parameters for disjoint sets of service ``types`` (a
    large city split over several workers): every type's rows are its part's — nearest
    services, compound coverage, circles, unions and gaps of one type depend on no other
    type — and completeness, the one figure across types, is computed again over all of
    them. The rows equal those of one call with every type (tested), parts in the order
    given."""
    if not parts:
        raise ValueError("no parts to merge")
    first = parts[0]
    types = [set(p.nearest.table["type"].astype(str)) for p in parts]
    if sum(len(t) for t in types) != len(set().union(*types)):
        raise ValueError("the parts' service types overlap")

    def cat(frames: Sequence[pd.DataFrame]) -> Any:
        # a part's empty frame (a type without points draws no circles) adds no rows and
        # would only widen the column types
        out = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        return gpd.GeoDataFrame(out, crs=frames[0].crs) if isinstance(frames[0],
                                                                      gpd.GeoDataFrame) else out

    unsnapped = tuple(dict.fromkeys(i for p in parts for i in p.nearest.unsnapped_services))
    nearest = replace(first.nearest, table=cat([p.nearest.table for p in parts]),
                      unsnapped_services=unsnapped)
    walkers = {t: w for p in parts for t, w in p.walkers.items()}
    return replace(
        first, nearest=nearest, compounds=cat([p.compounds for p in parts]),
        circles=cat([p.circles for p in parts]), unions=cat([p.unions for p in parts]),
        gaps=cat([p.gaps for p in parts]), walkers=walkers,
        completeness=life_circle_completeness(nearest.table, first.levels,
                                              required_types=required_types))


def analyze_coverage(net: StreetNetwork, compounds: gpd.GeoDataFrame | dict[str, Any],
                     services: gpd.GeoDataFrame | dict[str, Any], *,
                     minutes: Sequence[float] | None = WALK_MINUTES,
                     metres: Sequence[float] | None = None, trim_m: float = DEFAULT_TRIM_M,
                     cell_m: float = DEFAULT_CELL_M, types: Sequence[str] | None = None,
                     id_col: str = "id", required_types: Sequence[str] = REQUIRED_TYPES,
                     max_snap_m: float = 250.0, target_group: str | None = None,
                     speed_m_per_min: float | None = None) -> CoverageResult:
    """The coverage of the module's definition in one go: nearest service, compound
    coverage, circles, gaps and completeness.

    Completeness uses the 15-minute life circle (:data:`geo.domain.LIFE_CIRCLE_MINUTES`;
    or, for metre thresholds, the largest one). ``compounds`` (id, ``residents``,
    ``households``, optional age groups ``age_0_14, age_15_59, age_60_plus``, polygon) and
    ``services`` (id, ``type``, point) may be GeoDataFrames or GeoJSON FeatureCollections
    as read from the API, ids in the features' ``id``. Each type counts its target group
    at its walking speed (:func:`type_walkers`: the vocabulary's, else all residents at
    the network's speed; ``target_group`` / ``speed_m_per_min`` in m/min set them for
    every type).
    """
    compounds = feature_frame(compounds, id_col=id_col, required=("residents", "households"),
                              what="compounds")
    services = feature_frame(services, required=("type",), what="service points")
    levels = thresholds(net, minutes=minutes, metres=metres)
    wanted = list(types) if types is not None else sorted(
        set(services["type"].astype(str)) | {str(t) for t in required_types})
    walkers = type_walkers(wanted, default_speed_m_per_min=net.speed_m_per_min,
                           target_group=target_group, speed_m_per_min=speed_m_per_min)
    near = compound_access(net, compounds, services, id_col=id_col, types=wanted,
                           max_snap_m=max_snap_m, walkers=walkers)
    cov = coverage_by_compound(compounds, near.table, levels, id_col=id_col, walkers=walkers,
                               default_speed_m_per_min=net.speed_m_per_min)
    parts = []
    for s in sorted({w.speed_m_per_min for w in walkers.values()}):
        ts = [t for t, w in walkers.items() if w.speed_m_per_min == s]
        svc = services[services["type"].astype(str).isin(ts)]
        if len(svc) == 0:
            continue
        parts.append(coverage_circles(replace(net, speed_m_per_min=s), svc, compounds, cov,
                                      minutes=minutes, metres=metres, trim_m=trim_m,
                                      cell_m=cell_m, id_col=id_col, max_snap_m=max_snap_m))
    circles = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=net.metric_epsg)
               if parts else coverage_circles(net, services.iloc[:0], compounds, cov,
                                              minutes=minutes, metres=metres, trim_m=trim_m,
                                              cell_m=cell_m, id_col=id_col,
                                              max_snap_m=max_snap_m))
    unions = type_circles(circles, compounds, cov, id_col=id_col, metric_epsg=net.metric_epsg)
    gaps = coverage_gaps(compounds, cov, unions, id_col=id_col, metric_epsg=net.metric_epsg)
    circles, unions = _valid_4326(circles), _valid_4326(unions)
    comp = life_circle_completeness(near.table, levels, required_types=required_types)
    return CoverageResult(nearest=near, compounds=cov, circles=circles, unions=unions,
                          gaps=gaps, completeness=comp, data=data_completeness(compounds),
                          levels=levels, walkers=walkers, trim_m=trim_m, cell_m=cell_m,
                          metric_epsg=net.metric_epsg)
