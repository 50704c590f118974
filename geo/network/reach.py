"""Network costs from many sources at once: virtual source nodes, cutoff distance blocks,
and the sparse origin × destination travel matrix.

Sources (service points, candidate sites) are snapped mid-edge and enter the graph as
virtual nodes with out-edges to both ends of their edge. Cutoff searches run in blocks of
sources; :func:`local_distance_blocks` keeps, per block, only the nodes of a window that
provably holds every node within the cutoff, so a city-scale network costs little memory.
Costs are network metres (plus snap distances with ``include_snap``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.network.graph import StreetNetwork, sparse_min
from geo.network.snapping import Snap, point_array, snap_single_points, snap_xy


def _ids(gdf: gpd.GeoDataFrame, col: str | None) -> np.ndarray:
    return gdf[col].to_numpy() if col else gdf.index.to_numpy()


def source_graph(net: StreetNetwork, s: Snap, *, include_snap: bool = True) -> csr_matrix:
    """The network plus one virtual node per snapped point (index ``n_nodes + i``).

    Virtual nodes only have out-edges (to both ends of their edge), so they never carry
    transit. Unsnapped points stay isolated. The base rows are reused as they are.
    """
    n, k = net.n_nodes, len(s.edge)
    ok = np.flatnonzero(s.snapped)
    e = s.edge[ok]
    extra = s.snap_m[ok] if include_snap else np.zeros(len(ok))
    a = np.concatenate([n + ok, n + ok])
    b = np.concatenate([net.edge_u[e], net.edge_v[e]])
    w = np.concatenate([s.offset_m[ok] + extra, net.edge_length_m[e] - s.offset_m[ok] + extra])
    return append_rows(net.graph, n + k, a, b, w)


def append_rows(base: csr_matrix, size: int, a: np.ndarray, b: np.ndarray, w: np.ndarray
                ) -> csr_matrix:
    """``base`` enlarged to ``size`` × ``size`` with entries (a, b, w) in rows ≥ its own
    (duplicates reduced to their minimum)."""
    n = base.shape[0]
    extra = sparse_min(size, a, b, w)
    indptr = np.concatenate([base.indptr[:n], base.nnz + extra.indptr[n:]])
    return csr_matrix((np.concatenate([base.data, extra.data]),
                       np.concatenate([base.indices, extra.indices]), indptr),
                      shape=(size, size))


def source_distance_blocks(net: StreetNetwork, s: Snap, *, limit_m: float,
                           include_snap: bool = True, chunk: int = 64
                           ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(source positions, distances)`` blocks: metres from each snapped source to
    every node (columns ``0..n_nodes-1``), ``inf`` beyond ``limit_m``."""
    g = source_graph(net, s, include_snap=include_snap)
    ok = np.flatnonzero(s.snapped)
    n = net.n_nodes
    for i in range(0, len(ok), chunk):
        pos = ok[i:i + chunk]
        d = dijkstra(g, directed=True, indices=n + pos, limit=limit_m)
        yield pos, d[:, :n]


@dataclass(frozen=True)
class DistanceBlock:
    """Cutoff distances (metres) from a block of sources to the nodes around them.

    ``d`` has one row per source (``pos``: positions in the snapped input) and one column
    per node of ``nodes`` (internal node indices) plus a last column of ``inf``;
    ``local`` maps every internal node index to its column (the ``inf`` one when the node
    lies outside the block's window, i.e. beyond the cutoff).
    """

    pos: np.ndarray
    nodes: np.ndarray
    d: np.ndarray
    local: np.ndarray

    def cols(self, nodes: np.ndarray) -> np.ndarray:
        """Distances (rows = sources) to the given internal nodes."""
        return self.d[:, self.local[nodes]]


def _morton(xy: np.ndarray, cell: float) -> np.ndarray:
    q = np.floor((xy - xy.min(axis=0)) / cell).astype(np.uint64)
    code = np.zeros(len(xy), dtype=np.uint64)
    for bit in range(20):
        one = np.uint64(1)
        code |= ((q[:, 0] >> np.uint64(bit)) & one) << np.uint64(2 * bit)
        code |= ((q[:, 1] >> np.uint64(bit)) & one) << np.uint64(2 * bit + 1)
    return code


def local_distance_blocks(net: StreetNetwork, s: Snap, *, limit_m: float,
                          include_snap: bool = True, chunk: int = 64
                          ) -> Iterator[DistanceBlock]:
    """Like :func:`source_distance_blocks`, but each block only holds the nodes inside a
    window around its sources (sources grouped by a Z-order curve).

    Exact: a node within ``limit_m`` along the streets lies within ``limit_m`` (divided
    by the smallest ratio of edge length to straight end-to-end distance, at most 1) of
    its source in a straight line, so the window (that plus 1 %) holds every path that
    counts. Much less memory and time than full rows on a large network.
    """
    ok = np.flatnonzero(s.snapped)
    if len(ok) == 0:
        return
    n = net.n_nodes
    straight = np.hypot(*(net.node_xy[net.edge_u] - net.node_xy[net.edge_v]).T)
    ratio = np.min(net.edge_length_m / np.maximum(straight, 1e-9), initial=1.0)
    reach = limit_m / min(1.0, max(ratio, 1e-6)) * 1.01 + 1.0
    ok = ok[np.argsort(_morton(s.xy[ok], max(limit_m, 1.0)), kind="stable")]
    x, y = net.node_xy[:, 0], net.node_xy[:, 1]
    for i in range(0, len(ok), chunk):
        pos = ok[i:i + chunk]
        (x0, y0), (x1, y1) = s.xy[pos].min(axis=0) - reach, s.xy[pos].max(axis=0) + reach
        nodes = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        m = len(nodes)
        local = np.full(n, m, dtype=np.int64)
        local[nodes] = np.arange(m)
        sub = net.graph[nodes][:, nodes]
        e = s.edge[pos]
        extra = s.snap_m[pos] if include_snap else np.zeros(len(pos))
        a = np.concatenate([m + np.arange(len(pos))] * 2)
        b = np.concatenate([local[net.edge_u[e]], local[net.edge_v[e]]])
        w = np.concatenate([s.offset_m[pos] + extra, net.edge_length_m[e] - s.offset_m[pos] + extra])
        inside = b < m
        g = append_rows(sub.tocsr(), m + len(pos), a[inside], b[inside], w[inside])
        d = dijkstra(g, directed=True, indices=m + np.arange(len(pos)), limit=limit_m)
        d[:, m] = np.inf  # the column past the window: "outside"
        yield DistanceBlock(pos=pos, nodes=nodes, d=d[:, :m + 1], local=local)


@dataclass(frozen=True)
class TravelMatrix:
    """Sparse origin × destination costs within a cutoff (COO triplets).

    Pairs absent from (``row``, ``col``) are farther than ``cutoff_m`` or unreachable
    (``to_dense`` gives them ``inf``); origins not snapped get ``NaN`` rows there.
    """

    origin_ids: np.ndarray
    destination_ids: np.ndarray
    row: np.ndarray
    col: np.ndarray
    metres: np.ndarray
    cutoff_m: float
    speed_m_per_min: float
    origin_snapped: np.ndarray

    @property
    def minutes(self) -> np.ndarray:
        return self.metres / self.speed_m_per_min

    def to_dense(self, *, unit: str = "minutes") -> np.ndarray:
        """Dense (origins × destinations) array in minutes or metres."""
        out = np.full((len(self.origin_ids), len(self.destination_ids)), np.inf)
        out[self.row, self.col] = self.minutes if unit == "minutes" else self.metres
        out[~self.origin_snapped] = np.nan
        return out


def travel_matrix(net: StreetNetwork, origins: gpd.GeoDataFrame,
                  destinations: gpd.GeoDataFrame, *, minutes: float | None = None,
                  metres: float | None = None, max_snap_m: float = 250.0,
                  include_snap: bool = True, origin_id_col: str | None = None,
                  destination_id_col: str | None = None) -> TravelMatrix:
    """Origin × destination network costs up to ``minutes`` (or ``metres``), sparse.

    Origins may be MultiPoints (gates; the best counts); destinations are Points (e.g.
    candidate sites). Runs one cutoff Dijkstra per destination in blocks.
    """
    cutoff = net.budget_m(minutes=minutes, metres=metres)
    opts, orow = point_array(net, origins, "origins")
    osn = snap_xy(net, opts, max_snap_m=max_snap_m)
    dsn = snap_single_points(net, destinations, "destinations", max_snap_m=max_snap_m)
    ok = np.flatnonzero(osn.snapped)
    e, off = osn.edge[ok], osn.offset_m[ok]
    oextra = osn.snap_m[ok] if include_snap else np.zeros(len(ok))
    u, v, length = net.edge_u[e], net.edge_v[e], net.edge_length_m[e]
    rows, cols, vals = [], [], []
    for blk in local_distance_blocks(net, dsn, limit_m=cutoff, include_snap=include_snap):
        pos = blk.pos
        cost = np.minimum(blk.cols(u) + off, blk.cols(v) + (length - off)) + oextra
        same = dsn.edge[pos][:, None] == e[None, :]
        if same.any():
            dextra = dsn.snap_m[pos] if include_snap else np.zeros(len(pos))
            direct = np.abs(dsn.offset_m[pos][:, None] - off[None, :]) + dextra[:, None] + oextra
            cost = np.where(same, np.minimum(cost, direct), cost)
        di, oi = np.nonzero(cost <= cutoff)
        rows.append(orow[ok][oi])
        cols.append(pos[di])
        vals.append(cost[di, oi])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    m = np.concatenate(vals) if vals else np.zeros(0)
    if len(r):  # best gate per origin
        df = pd.DataFrame({"r": r, "c": c, "m": m}).groupby(["r", "c"], sort=True)["m"].min()
        r = df.index.get_level_values(0).to_numpy()
        c = df.index.get_level_values(1).to_numpy()
        m = df.to_numpy()
    snapped = np.zeros(len(origins), dtype=bool)
    snapped[orow[osn.snapped]] = True
    return TravelMatrix(origin_ids=_ids(origins, origin_id_col),
                        destination_ids=_ids(destinations, destination_id_col), row=r, col=c,
                        metres=m, cutoff_m=cutoff, speed_m_per_min=net.speed_m_per_min,
                        origin_snapped=snapped)
