"""Courier-station reach: the compounds, residents and grids each station reaches.

Courier rest stations (小哥驿站, 暖"新"加油吧) serve riders on e-bikes; parcel stations
(快递驿站, 菜鸟驿站) serve residents who walk to them. A station *reaches* a compound when
the trip along the street network of the mode between the station and the compound's
best gate (or, gates unknown, its representative point) is within the budget — minutes ×
speed, or metres. The seeds' "1-kilometre service circle" (1公里服务圈) of courier
stations is the preset ``courier_1km``: 1,000 network metres on the rideable network.

Method: one cutoff Dijkstra per station (:func:`geo.network.reach.travel_matrix`) gives the
sparse station × compound pairs; everything else is counting on those pairs. Grids take
compounds by ``grid_compound.resident_share`` (a compound split across grids counts in
each by its share). Overlap of two stations is the weight of the compounds (or demand
points) both reach; its *share* is the overlap over the smaller catchment's weight, so a
share of 1 means one catchment lies wholly inside the other (a candidate to merge or
move). The weight is the residents unless per-compound demand estimates (parcels or
orders a day) or rider-demand points are given.

Compounds and stations farther than ``max_snap_m`` from every street of the mode are
reported (``unsnapped_*``) and never silently dropped; their ``reached`` is NA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.courier.aggregate import check_columns, grid_reach, overlap_pairs, overlap_table
from geo.coverage.analysis import compound_origins
from geo.coverage.circles import DEFAULT_BUFFER_M, service_circles
from geo.domain import COURIER_CIRCLE_M, ServiceType
from geo.errors import InvalidInputError, Problem
from geo.network.graph import Mode, StreetNetwork
from geo.network.reach import travel_matrix
from geo.network.snapping import snap_single_points

#: Default share of the smaller catchment two stations must share to be flagged.
DEFAULT_OVERLAP_SHARE = 0.5


@dataclass(frozen=True)
class ReachPreset:
    """A named reach setting: service type, travel mode and budget (minutes or metres)."""

    name: str
    service_type: str
    mode: Mode
    minutes: float | None = None
    metres: float | None = None
    note: str = ""


#: Presets. ``courier_1km``: the seeds' 1-kilometre service circle of courier stations
#: (network metres, riding). Parcel stations: GB 50180-2018 lists parcel delivery
#: facilities (邮件和快递送达设施) among the facilities of the residential block
#: (居住街坊), i.e. within the 5-minute walk; the 10-minute walk is the lenient variant.
PRESETS: dict[str, ReachPreset] = {
    p.name: p for p in (
        ReachPreset("courier_1km", ServiceType.COURIER_STATION, "ride", metres=COURIER_CIRCLE_M,
                    note="1公里服务圈: 1,000 m along rideable streets"),
        ReachPreset("courier_ride_5min", ServiceType.COURIER_STATION, "ride", minutes=5.0,
                    note="5 minutes by e-bike at the default riding speed"),
        ReachPreset("parcel_walk_5min", ServiceType.PARCEL_STATION, "walk", minutes=5.0,
                    note="5-minute walk (GB 50180-2018 residential block)"),
        ReachPreset("parcel_walk_10min", ServiceType.PARCEL_STATION, "walk", minutes=10.0,
                    note="10-minute walk"),
    )
}


def preset(name: str) -> ReachPreset:
    """The preset ``name``; :class:`InvalidInputError` listing the known ones."""
    if name not in PRESETS:
        raise InvalidInputError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}",
                                [Problem("unknown preset", field="preset")])
    return PRESETS[name]


@dataclass(frozen=True)
class CourierReach:
    """Reach of every station of one type (frames keyed by the callers' ids).

    ``stations``: ``station_id, snapped, compounds, residents, households, grids,
    demand, catchment_street_m``. ``compounds``: ``compound_id, residents, households,
    demand, snapped, n_stations, station_ids`` (tuple), ``best_station_id, best_m,
    best_min`` (within the budget; inf when no station reaches it, NaN when not snapped),
    ``reached`` (boolean, NA when not snapped). ``grids``: ``grid_id, residents,
    residents_reached, residents_unknown`` (compounds not snapped), ``share_reached``
    (of residents with known access), `` compounds, compounds_reached, n_stations, reached``.
    ``station_grids``: ``station_id, grid_id, residents`` (apportioned by resident share).
    ``pairs``: ``station_id, compound_id, metres, minutes``. ``overlaps``: every pair of
    stations sharing weight, ``station_a, station_b, compounds, residents, demand,
    share_a, share_b, share, jaccard, beyond`` (share ≥ ``overlap_min_share``).
    ``catchments``: per station the street-following polygon (EPSG:4326) or None.
    """

    stations: pd.DataFrame
    compounds: pd.DataFrame
    grids: pd.DataFrame
    station_grids: pd.DataFrame
    pairs: pd.DataFrame
    overlaps: pd.DataFrame
    catchments: gpd.GeoDataFrame | None
    mode: str
    speed_m_per_min: float
    budget_m: float
    minutes: float | None
    metric_epsg: int
    weight: str
    overlap_min_share: float
    unsnapped_stations: tuple[Any, ...] = ()
    unsnapped_compounds: tuple[Any, ...] = ()
    unsnapped_demand_points: tuple[Any, ...] = ()
    compounds_without_demand: tuple[Any, ...] = ()

    @property
    def unreached_compounds(self) -> pd.DataFrame:
        """Snapped compounds no station reaches."""
        c = self.compounds
        return c[c["reached"].eq(False).fillna(False).to_numpy(dtype=bool)]

    @property
    def unreached_grids(self) -> pd.DataFrame:
        """Grids of which no compound is reached (with residents of known access > 0)."""
        g = self.grids
        known = (g["residents"] - g["residents_unknown"]).to_numpy(dtype=float)
        return g[~g["reached"].to_numpy(dtype=bool) & (known > 0)]

    @property
    def merge_candidates(self) -> pd.DataFrame:
        """Station pairs whose overlap share reaches ``overlap_min_share``."""
        return self.overlaps[self.overlaps["beyond"].to_numpy(dtype=bool)]

    def summary(self) -> dict[str, Any]:
        """Headline figures (JSON-ready)."""
        c, s = self.compounds, self.stations
        known = c["snapped"].to_numpy(dtype=bool)
        reached = c["reached"].eq(True).fillna(False).to_numpy(dtype=bool)
        res = c["residents"].to_numpy(dtype=float)
        return {"stations": len(s), "compounds": len(c),
                "compounds_reached": int(reached.sum()),
                "compounds_unreached": int((known & ~reached).sum()),
                "residents": float(res.sum()), "residents_reached": float(res[reached].sum()),
                "residents_unreached": float(res[known & ~reached].sum()),
                "grids_unreached": len(self.unreached_grids),
                "overlap_pairs": len(self.overlaps),
                "merge_candidates": len(self.merge_candidates),
                "unsnapped_stations": len(self.unsnapped_stations),
                "unsnapped_compounds": len(self.unsnapped_compounds),
                "unsnapped_demand_points": len(self.unsnapped_demand_points),
                "compounds_without_demand": len(self.compounds_without_demand)}


def _compound_demand(ids: np.ndarray, demand: pd.Series | None
                     ) -> tuple[np.ndarray | None, tuple[Any, ...]]:
    """Per-compound demand aligned with ``ids``; unknown ids are an error, missing → 0."""
    if demand is None:
        return None, ()
    index = pd.Index(ids)
    pos = index.get_indexer(demand.index)
    problems = [Problem(f"demand for unknown compound {k!r}", field="compound")
                for k in demand.index[pos < 0][:20]]
    values = pd.to_numeric(demand, errors="coerce").to_numpy(dtype=float)
    problems += [Problem(f"demand of compound {k!r} must be a number ≥ 0", field="demand")
                 for k in demand.index[~(values >= 0)][:20]]
    if problems:
        raise InvalidInputError("invalid compound demand", problems)
    out = np.zeros(len(ids))
    has = np.zeros(len(ids), dtype=bool)
    out[pos] = values
    has[pos] = True
    return out, tuple(ids[~has].tolist())


def station_reach(net: StreetNetwork, stations: gpd.GeoDataFrame,
                  compounds: gpd.GeoDataFrame, *, minutes: float | None = None,
                  metres: float | None = None, grid_links: pd.DataFrame | None = None,
                  demand: pd.Series | None = None,
                  demand_points: gpd.GeoDataFrame | None = None,
                  overlap_min_share: float = DEFAULT_OVERLAP_SHARE,
                  station_id_col: str = "id", compound_id_col: str = "id",
                  demand_id_col: str = "id", demand_weight_col: str = "weight",
                  max_snap_m: float = 250.0, include_snap: bool = True,
                  catchments: bool = True, buffer_m: float = DEFAULT_BUFFER_M) -> CourierReach:
    """Which compounds, residents, households and grids each station reaches.

    Parameters
    ----------
    net
        Street network of the mode: ``"ride"`` for couriers on e-bikes (default speed
        :data:`geo.settings.DEFAULT_RIDE_SPEED_M_PER_MIN`), ``"walk"`` for residents.
    stations
        Station Points (any declared CRS, usually EPSG:4326) with ids in ``station_id_col``.
    compounds
        Compound polygons with ``residents``, ``households`` and optional ``gates``
        (MultiPoint); ids in ``compound_id_col``.
    minutes, metres
        The budget: exactly one (minutes at the network's speed, or network metres;
        1,000 m is the seeds' courier circle, :data:`geo.network.COURIER_CIRCLE_M`).
    grid_links
        ``compound_id, grid_id, share`` (``grid_compound.resident_share``); without it
        the grid tables are empty.
    demand
        Per-compound demand estimates (parcels or orders a day), indexed by compound id;
        compounds without one count 0 and are listed in ``compounds_without_demand``.
    demand_points
        Rider-demand Points with weights (``demand_weight_col``); they replace the
        compounds as the demand of stations and overlaps. Give at most one of
        ``demand`` / ``demand_points``; without both, residents are the weight.
    overlap_min_share
        Share (0–1) of the smaller catchment's weight two stations must share to be
        flagged in ``overlaps.beyond``.
    max_snap_m
        Metres; farther points are reported, not used.
    catchments
        Also build each station's street-following catchment polygon (buffer ``buffer_m``
        metres, :func:`geo.coverage.circles.service_circles`).
    """
    if demand is not None and demand_points is not None:
        raise InvalidInputError("give per-compound demand or demand points, not both",
                                [Problem("both given", field="demand")])
    if not 0 <= overlap_min_share <= 1:
        raise InvalidInputError("overlap_min_share must lie in [0, 1]",
                                [Problem("out of range", field="overlap_min_share")])
    check_columns(stations, (station_id_col,), "stations")
    check_columns(compounds, (compound_id_col, "residents", "households"), "compounds")
    budget = net.budget_m(minutes=minutes, metres=metres)
    sid = stations[station_id_col].to_numpy()
    cid = compounds[compound_id_col].to_numpy()
    dup = [Problem(f"duplicate id {v!r}", field=col)
           for col, ids in ((station_id_col, sid), (compound_id_col, cid))
           for v in pd.Index(ids)[pd.Index(ids).duplicated()].unique()[:20]]
    if dup:
        raise InvalidInputError("station and compound ids must be unique", dup)
    s_snapped = snap_single_points(net, stations, "stations", max_snap_m=max_snap_m).snapped
    origins = compound_origins(compounds, id_col=compound_id_col)
    tm = travel_matrix(net, origins, stations, metres=budget, max_snap_m=max_snap_m,
                       include_snap=include_snap)
    ns, nc = len(sid), len(cid)
    residents = compounds["residents"].to_numpy(dtype=float)
    households = compounds["households"].to_numpy(dtype=float)
    cdem, without = _compound_demand(cid, demand)
    weight = "residents" if demand is None and demand_points is None else \
        ("compound_demand" if demand is not None else "demand_points")
    wvec = residents if cdem is None else cdem
    r, c, m = tm.row, tm.col, tm.metres
    pairs = pd.DataFrame({"station_id": sid[c], "compound_id": cid[r], "metres": m,
                          "minutes": m / net.speed_m_per_min})

    # per compound
    n_st = np.bincount(r, minlength=nc)
    best = np.full(nc, np.inf)
    best_s = np.full(nc, -1, dtype=np.int64)
    if len(r):
        order = np.lexsort((c, m, r))
        head = np.ones(len(order), dtype=bool)
        head[1:] = r[order][1:] != r[order][:-1]
        best[r[order][head]] = m[order][head]
        best_s[r[order][head]] = c[order][head]
    snapped = tm.origin_snapped
    best[~snapped] = np.nan
    rank = np.argsort(np.argsort(sid, kind="stable"), kind="stable")  # station sort order
    order = np.lexsort((rank[c], r))
    parts = np.split(sid[c[order]], np.cumsum(n_st)[:-1]) if nc else []
    station_ids = [tuple(p.tolist()) for p in parts]
    reached = pd.array(np.where(snapped, n_st > 0, False), dtype="boolean")
    reached[~snapped] = pd.NA
    comp = pd.DataFrame({
        "compound_id": cid, "residents": residents, "households": households,
        "demand": wvec if demand_points is None else np.full(nc, np.nan),
        "snapped": snapped, "n_stations": n_st, "station_ids": station_ids,
        "best_station_id": pd.Series([sid[j] if j >= 0 else None for j in best_s], dtype=object),
        "best_m": best, "best_min": best / net.speed_m_per_min, "reached": reached})

    # demand points (optional)
    unsnapped_dp: tuple[Any, ...] = ()
    if demand_points is not None:
        check_columns(demand_points, (demand_id_col, demand_weight_col), "demand points")
        dw = pd.to_numeric(demand_points[demand_weight_col], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~(dw >= 0))
        if len(bad):
            raise InvalidInputError("demand weights must be numbers ≥ 0", [
                Problem("weight must be ≥ 0", row=int(i) + 1, field=demand_weight_col)
                for i in bad[:20]])
        dm = travel_matrix(net, demand_points, stations, metres=budget, max_snap_m=max_snap_m,
                           include_snap=include_snap)
        unsnapped_dp = tuple(demand_points[demand_id_col].to_numpy()[~dm.origin_snapped]
                             .tolist())
        dem_pairs = (dm.row, dm.col, dw, len(dw))
    else:
        dem_pairs = (r, c, wvec, nc)

    # per station
    st_res = np.bincount(c, weights=residents[r], minlength=ns)
    st_hh = np.bincount(c, weights=households[r], minlength=ns)
    dr, dc, dwv, _ = dem_pairs
    st_dem = np.bincount(dc, weights=dwv[dr], minlength=ns)
    st = pd.DataFrame({"station_id": sid, "snapped": s_snapped,
                       "compounds": np.bincount(c, minlength=ns), "residents": st_res,
                       "households": st_hh, "demand": st_dem})

    # grids via the grid-compound overlay shares
    grids, station_grids, n_grids = grid_reach(grid_links, pairs, comp, sid)
    st["grids"] = n_grids

    # overlaps
    comp_o = overlap_pairs(r, c, residents, nc, ns)
    dem_o = overlap_pairs(dr, dc, dwv, dem_pairs[3], ns)
    overlaps = overlap_table(sid, comp_o, dem_o, overlap_min_share)
    cnt = overlap_pairs(r, c, np.ones(nc), nc, ns)
    shared_n = pd.Series(cnt[2], index=pd.MultiIndex.from_arrays([cnt[0], cnt[1]]))
    overlaps.insert(4, "compounds", shared_n.reindex(
        pd.MultiIndex.from_arrays([overlaps["a"], overlaps["b"]])).fillna(0).astype(int)
        .to_numpy())
    overlaps = overlaps.drop(columns=["a", "b"])

    circles = None
    st["catchment_street_m"] = np.nan
    if catchments:
        svc = gpd.GeoDataFrame({"id": sid, "type": "station"}, geometry=stations.geometry.values,
                               crs=stations.crs)
        circles = service_circles(net, svc, minutes=None, metres=[budget], buffer_m=buffer_m,
                                  max_snap_m=max_snap_m, include_snap=include_snap)
        circles = circles.rename(columns={"service_id": "station_id"}).drop(columns=["type"])
        st["catchment_street_m"] = circles["street_m"].to_numpy()
    return CourierReach(
        stations=st, compounds=comp, grids=grids, station_grids=station_grids, pairs=pairs,
        overlaps=overlaps, catchments=circles, mode=net.mode,
        speed_m_per_min=net.speed_m_per_min, budget_m=budget,
        minutes=float(minutes) if minutes is not None else None, metric_epsg=net.metric_epsg,
        weight=weight, overlap_min_share=float(overlap_min_share),
        unsnapped_stations=tuple(sid[~s_snapped].tolist()),
        unsnapped_compounds=tuple(cid[~snapped].tolist()),
        unsnapped_demand_points=unsnapped_dp, compounds_without_demand=without)
