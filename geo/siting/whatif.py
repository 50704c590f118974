"""Instant what-if: coverage before and after user-proposed sites, from precomputed reach.

:class:`Reach` runs one cutoff Dijkstra per demand access point (compound gate) *once* and
keeps, for every street node, the demand within the walking budget and its distance
(network metres, the snap distance of the gate included). A site anywhere on the streets
is then evaluated without a graph search: it is snapped onto an edge ``(u, v)`` at
``offset`` and its cost to demand ``i`` is
``min(d(i, u) + offset, d(i, v) + length - offset) + snap`` (or the direct distance along
the edge to gates on the same edge) — the same value the engine's
:func:`geo.network.reach.travel_matrix` gives, because walking is undirected.

:class:`WhatIf` adds the demand's existing coverage (existing stations of the type,
evaluated the same way) and answers :meth:`WhatIf.evaluate` for a list of proposed sites
in milliseconds. All geometries are EPSG:4326 in and out; distances are metres.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.network.reach import local_distance_blocks
from geo.network.snapping import Snap, point_array, snap_single_points, snap_xy


@dataclass(frozen=True, eq=False)
class Reach:
    """Demand × street-node walking distances within ``budget_m`` (metres).

    ``demand_ids`` are the callers' ids; ``snapped`` marks demand with at least one access
    point within ``max_snap_m`` of a street (the others reach nothing and are reported).
    """

    net: StreetNetwork = field(repr=False)
    demand_ids: np.ndarray
    snapped: np.ndarray
    budget_m: float
    max_snap_m: float
    node_ptr: np.ndarray = field(repr=False)  # CSC over nodes: slice per node
    node_row: np.ndarray = field(repr=False)  # demand row
    node_m: np.ndarray = field(repr=False)  # metres
    gate_edge: np.ndarray = field(repr=False)  # per access point, sorted by edge
    gate_row: np.ndarray = field(repr=False)
    gate_offset: np.ndarray = field(repr=False)
    gate_snap: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, net: StreetNetwork, demand: gpd.GeoDataFrame, *, budget_m: float,
              id_col: str | None = "id", max_snap_m: float = 250.0) -> Reach:
        """Precompute reach of ``demand`` (Point/MultiPoint access points, any declared CRS)."""
        if not budget_m > 0:
            raise InvalidInputError("invalid budget", [Problem("must be > 0", field="budget_m")])
        pts, orow = point_array(net, demand, "demand")
        s = snap_xy(net, pts, max_snap_m=max_snap_m)
        rows, nodes, dist = [], [], []
        for blk in local_distance_blocks(net, s, limit_m=budget_m):
            d = blk.d[:, :-1]  # the last column stands for nodes outside the block's window
            r, c = np.nonzero(np.isfinite(d))
            rows.append(orow[blk.pos][r])
            nodes.append(blk.nodes[c])
            dist.append(d[r, c])
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
        m = np.concatenate(dist) if dist else np.zeros(0)
        order = np.lexsort((m, r, c))  # by node, demand, distance: first = best gate
        r, c, m = r[order], c[order], m[order]
        first = np.ones(r.size, bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        r, c, m = r[first], c[first], m[first]
        ptr = np.searchsorted(c, np.arange(net.n_nodes + 1))
        ok = np.flatnonzero(s.snapped)
        g = ok[np.argsort(s.edge[ok], kind="stable")]
        snapped = np.zeros(len(demand), bool)
        snapped[orow[ok]] = True
        ids = demand[id_col].to_numpy() if id_col else demand.index.to_numpy()
        return cls(net=net, demand_ids=ids, snapped=snapped, budget_m=float(budget_m),
                   max_snap_m=float(max_snap_m), node_ptr=ptr, node_row=r, node_m=m,
                   gate_edge=s.edge[g], gate_row=orow[g], gate_offset=s.offset_m[g],
                   gate_snap=s.snap_m[g])

    @property
    def n_demand(self) -> int:
        return len(self.demand_ids)

    def snap_sites(self, sites: gpd.GeoDataFrame) -> Snap:
        """Snap site Points (any declared CRS) onto the streets."""
        return snap_single_points(self.net, sites, "sites", max_snap_m=self.max_snap_m)

    def site_costs(self, s: Snap, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(demand rows, metres) within the budget of snapped site ``k``."""
        if not s.snapped[k]:
            return np.zeros(0, np.int64), np.zeros(0)
        e = int(s.edge[k])
        off, extra = float(s.offset_m[k]), float(s.snap_m[k])
        length = float(self.net.edge_length_m[e])
        parts_r, parts_m = [], []
        for node, add in ((self.net.edge_u[e], off), (self.net.edge_v[e], length - off)):
            a, b = self.node_ptr[node], self.node_ptr[node + 1]
            parts_r.append(self.node_row[a:b])
            parts_m.append(self.node_m[a:b] + add + extra)
        a, b = np.searchsorted(self.gate_edge, [e, e + 1])
        if b > a:  # gates on the same edge, reached directly along it
            parts_r.append(self.gate_row[a:b])
            parts_m.append(np.abs(self.gate_offset[a:b] - off) + self.gate_snap[a:b] + extra)
        r, m = np.concatenate(parts_r), np.concatenate(parts_m)
        best = np.full(self.n_demand, np.inf)
        np.minimum.at(best, r, m)
        rows = np.flatnonzero(best <= self.budget_m)
        return rows, best[rows]

    def matrix(self, s: Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """COO triplets (demand row, site position, metres) of every snapped site."""
        rows, cols, vals = [], [], []
        for k in range(len(s.edge)):
            r, m = self.site_costs(s, k)
            rows.append(r)
            cols.append(np.full(r.size, k))
            vals.append(m)
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


@dataclass(frozen=True)
class WhatIfResult:
    """Coverage before/after proposed sites (weights, e.g. residents).

    ``sites`` has one row per proposed site, in the given order: ``site`` (position),
    ``lon``, ``lat``, ``snapped``, ``snap_m``, ``gain`` (newly covered weight, marginal in
    the given order), ``gain_alone`` (if only this site were added), ``demand_inside``
    (number of demand units — compounds — this site brings inside, marginal).
    ``newly_covered`` lists the ids of demand brought inside and ``brought_by`` the
    position of the site that brought each in (the first in the given order that reaches
    it). ``unknown_weight`` is demand not snapped to any street (never counted as covered).
    """

    before_weight: float
    after_weight: float
    total_weight: float
    unknown_weight: float
    sites: pd.DataFrame
    newly_covered: tuple[Hashable, ...]
    runtime_ms: float
    brought_by: tuple[int, ...] = ()

    @property
    def gain(self) -> float:
        return self.after_weight - self.before_weight


class WhatIf:
    """Precomputed coverage of one demand layer and one service type; see module doc."""

    def __init__(self, reach: Reach, weights: np.ndarray, *,
                 existing: gpd.GeoDataFrame | None = None) -> None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (reach.n_demand,) or not (np.isfinite(w) & (w >= 0)).all():
            raise InvalidInputError("invalid weights", [Problem(
                f"expected {reach.n_demand} finite weights >= 0", field="weights")])
        self.reach = reach
        self.weights = w
        self.existing_m = np.full(reach.n_demand, np.inf)
        if existing is not None and len(existing):
            s = reach.snap_sites(existing)
            r, _c, m = reach.matrix(s)
            np.minimum.at(self.existing_m, r, m)
        self.covered = self.existing_m <= reach.budget_m

    @classmethod
    def build(cls, net: StreetNetwork, demand: gpd.GeoDataFrame, *, budget_m: float,
              weight_col: str = "residents", id_col: str | None = "id",
              existing: gpd.GeoDataFrame | None = None, max_snap_m: float = 250.0) -> WhatIf:
        """Precompute for ``demand`` (access points + ``weight_col``) and ``existing`` sites."""
        if weight_col not in demand.columns:
            raise InvalidInputError("missing weight column", [Problem(
                f"no column {weight_col!r}", field=weight_col)])
        reach = Reach.build(net, demand, budget_m=budget_m, id_col=id_col, max_snap_m=max_snap_m)
        return cls(reach, demand[weight_col].to_numpy(dtype=float), existing=existing)

    def evaluate(self, sites: gpd.GeoDataFrame | Sequence[tuple[float, float]]) -> WhatIfResult:
        """Coverage before and after adding ``sites`` (Points, or (lon, lat) pairs in
        EPSG:4326); each site's marginal gain in the given order."""
        t0 = time.perf_counter()
        if not isinstance(sites, gpd.GeoDataFrame):
            xy = np.asarray(list(sites), dtype=float).reshape(-1, 2)
            sites = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=4326)
        s = self.reach.snap_sites(sites)
        w = self.weights
        known = self.reach.snapped
        covered = self.covered.copy()
        by = np.full(self.reach.n_demand, -1)
        rows = []
        lonlat = shapely.get_coordinates(sites.to_crs(4326).geometry.values)
        for k in range(len(sites)):
            r, _m = self.reach.site_costs(s, k)
            alone = r[~self.covered[r]]
            new = r[~covered[r]]
            covered[new] = True
            by[new] = k
            rows.append({"site": k, "lon": float(lonlat[k, 0]), "lat": float(lonlat[k, 1]),
                         "snapped": bool(s.snapped[k]), "snap_m": float(s.snap_m[k]),
                         "gain": float(w[new].sum()), "gain_alone": float(w[alone].sum()),
                         "demand_inside": int(new.size)})
        newly = np.flatnonzero(covered & ~self.covered)
        table = pd.DataFrame(rows, columns=["site", "lon", "lat", "snapped", "snap_m", "gain",
                                            "gain_alone", "demand_inside"])
        return WhatIfResult(before_weight=float(w[self.covered & known].sum()),
                            after_weight=float(w[covered & known].sum()),
                            total_weight=float(w.sum()), unknown_weight=float(w[~known].sum()),
                            sites=table, newly_covered=tuple(self.reach.demand_ids[newly]),
                            runtime_ms=(time.perf_counter() - t0) * 1000.0,
                            brought_by=tuple(int(b) for b in by[newly]))
