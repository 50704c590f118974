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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage.circles import service_circles, union_by_type
from geo.domain import LIFE_CIRCLE_MINUTES, WALK_MINUTES, OriginKind, ServiceType
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
                    include_snap: bool = True) -> NearestResult:
    """Nearest and second-nearest service of each type for every compound (best gate);
    the table says which access point was used (``origin_kind``, :class:`~geo.domain.OriginKind`).

    ``compounds`` and ``services`` may be GeoJSON FeatureCollections as the API serves them
    (:func:`geo.io.feature_frame`)."""
    compounds = feature_frame(compounds, id_col=id_col, what="compounds")
    services = feature_frame(services, required=("type",), what="service points")
    origins = compound_origins(compounds, id_col=id_col)
    near = nearest_service(net, origins, services, origin_id_col="compound_id",
                           types=list(types) if types is not None else None,
                           max_snap_m=max_snap_m, include_snap=include_snap)
    kinds = dict(zip(origins["compound_id"], origins["origin_kind"], strict=True))
    return replace(near, table=near.table.assign(origin_kind=near.table["origin"].map(kinds)))


def coverage_by_compound(compounds: gpd.GeoDataFrame, nearest: pd.DataFrame,
                         levels: Thresholds, *, id_col: str = "id") -> pd.DataFrame:
    """Per compound, type and threshold: ``status`` and residents/households in/out.

    ``nearest`` is :attr:`NearestResult.table` with compounds as origins. ``status`` is
    ``inside``, ``outside`` or ``unknown`` (not snapped to a street); ``covered`` is the
    same as a nullable boolean. People are whole (integers): all of a compound's people
    are in exactly one of ``*_in``, ``*_out``, ``*_unknown``.
    """
    people = compounds[[id_col, "residents", "households"]].rename(columns={id_col: "origin"})
    base = nearest.merge(people, on="origin", how="left")
    frames = []
    for mins, budget in levels:
        f = base[["origin", "type", "nearest_id", "nearest_m", "nearest_min", "snapped",
                  "residents", "households"]].copy()
        f["minutes"], f["budget_m"] = mins, budget
        inside = (f["nearest_m"] <= budget).to_numpy()
        known = f["snapped"].to_numpy(dtype=bool)
        f["status"] = np.where(~known, "unknown", np.where(inside, "inside", "outside"))
        f["covered"] = pd.array(np.where(known, inside, False), dtype="boolean")
        f.loc[~known, "covered"] = pd.NA
        for col in ("residents", "households"):
            v = f[col].fillna(0).to_numpy(dtype=np.int64)
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
        unit has none).
    """
    m = compound_cov.merge(links[["compound_id", "unit_id", "share"]], on="compound_id")
    group = (m["compound_id"].astype(str) + "|" + m["type"].astype(str) + "|"
             + m["budget_m"].astype(str)).to_numpy(dtype=object)
    share = m["share"].to_numpy(dtype=float)
    tiebreak = m["unit_id"].to_numpy()
    for c in PEOPLE_COLUMNS:
        m[c] = apportion(m[c].to_numpy(dtype=np.int64), share, group, tiebreak)
    status = m["status"].map({"inside": "in", "outside": "out", "unknown": "unknown"})
    for k in STATUSES:
        m[f"compounds_{k}"] = (status == k).astype(np.int64)
    key = ["unit_id", "type", "budget_m"]
    counts = [f"compounds_{k}" for k in STATUSES]
    g = m.groupby(key, dropna=False).agg({**{c: "sum" for c in PEOPLE_COLUMNS + counts},
                                           "minutes": "first", "compound_id": "nunique"}
                                          ).reset_index()
    g = g.rename(columns={"compound_id": "compounds"})
    g["residents"] = g["residents_in"] + g["residents_out"] + g["residents_unknown"]
    g["households"] = g["households_in"] + g["households_out"] + g["households_unknown"]
    known = g["residents_in"] + g["residents_out"]
    g["share_covered"] = np.where(known > 0, g["residents_in"] / known.where(known > 0, 1), np.nan)
    return g[["unit_id", "type", "minutes", "budget_m", "compounds", *counts, "residents",
              "households", *PEOPLE_COLUMNS, "share_covered"]]


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
        (the compound's people outside: integers), ``gap_area_m2`` and the part of the
        compound outside the circle of the type (the whole compound when an overlapping
        inside compound would leave nothing, so no outside compound goes undrawn).
    """
    out = compound_cov[compound_cov["status"] == "outside"]
    cols = ["compound_id", "type", "minutes", "budget_m", "nearest_min", "residents",
            "households", "gap_area_m2", "geometry"]
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
                 budget_m: float) -> pd.DataFrame:
    """Per compound: how many of ``required_types`` lie within ``budget_m`` network metres.

    Returns ``compound_id, n_required, n_within, score`` (n_within / n_required; NaN for
    compounds not snapped) and ``missing`` (comma-separated type codes).
    """
    req = list(dict.fromkeys(str(t) for t in required_types))
    ids = nearest["origin"].drop_duplicates().to_numpy()
    snapped = nearest.groupby("origin")["snapped"].first().reindex(ids).to_numpy(dtype=bool)
    t = nearest[nearest["type"].isin(req)]
    within = (t["nearest_m"] <= budget_m).groupby([t["origin"], t["type"]]).any().unstack()
    within = within.reindex(index=ids, columns=req).astype("boolean").fillna(False).astype(bool)
    n_within = within.sum(axis=1).to_numpy()
    missing = [",".join(c for c in req if not row[c]) for _, row in within.iterrows()]
    return pd.DataFrame({"compound_id": ids, "n_required": len(req), "n_within": n_within,
                         "score": np.where(snapped, n_within / max(len(req), 1), np.nan),
                         "missing": missing})


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
    levels: Thresholds
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


def analyze_coverage(net: StreetNetwork, compounds: gpd.GeoDataFrame | dict[str, Any],
                     services: gpd.GeoDataFrame | dict[str, Any], *,
                     minutes: Sequence[float] | None = WALK_MINUTES,
                     metres: Sequence[float] | None = None, trim_m: float = DEFAULT_TRIM_M,
                     cell_m: float = DEFAULT_CELL_M, types: Sequence[str] | None = None,
                     id_col: str = "id", required_types: Sequence[str] = REQUIRED_TYPES,
                     max_snap_m: float = 250.0) -> CoverageResult:
    """The coverage of the module's definition in one go: nearest service, compound
    coverage, circles, gaps and completeness.

    Completeness uses the 15-minute life circle (:data:`geo.domain.LIFE_CIRCLE_MINUTES`;
    or, for metre thresholds, the largest one). ``compounds`` (id, ``residents``,
    ``households``, polygon) and ``services`` (id, ``type``, point) may be GeoDataFrames or
    GeoJSON FeatureCollections as read from the API, ids in the features' ``id``.
    """
    compounds = feature_frame(compounds, id_col=id_col, required=("residents", "households"),
                              what="compounds")
    services = feature_frame(services, required=("type",), what="service points")
    levels = thresholds(net, minutes=minutes, metres=metres)
    wanted = list(types) if types is not None else sorted(
        set(services["type"].astype(str)) | {str(t) for t in required_types})
    near = compound_access(net, compounds, services, id_col=id_col, types=wanted,
                           max_snap_m=max_snap_m)
    cov = coverage_by_compound(compounds, near.table, levels, id_col=id_col)
    svc = services[services["type"].astype(str).isin(wanted)]
    circles = coverage_circles(net, svc, compounds, cov, minutes=minutes, metres=metres,
                               trim_m=trim_m, cell_m=cell_m, id_col=id_col,
                               max_snap_m=max_snap_m)
    unions = type_circles(circles, compounds, cov, id_col=id_col, metric_epsg=net.metric_epsg)
    gaps = coverage_gaps(compounds, cov, unions, id_col=id_col, metric_epsg=net.metric_epsg)
    circles, unions = _valid_4326(circles), _valid_4326(unions)
    complete_m = (net.budget_m(minutes=LIFE_CIRCLE_MINUTES) if minutes is not None
                  else max(b for _, b in levels))
    comp = completeness(near.table, required_types=required_types, budget_m=complete_m)
    return CoverageResult(nearest=near, compounds=cov, circles=circles, unions=unions,
                          gaps=gaps, completeness=comp, data=data_completeness(compounds),
                          levels=levels, trim_m=trim_m, cell_m=cell_m,
                          metric_epsg=net.metric_epsg)
