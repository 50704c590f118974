"""Nearest and second-nearest service point of each type along the street network.

Method: service points are snapped mid-edge and enter the graph as virtual source nodes
(one per point, with out-edges to both ends of its edge). One multi-source Dijkstra
(``scipy.sparse.csgraph.dijkstra(min_only=True)``) gives every node its nearest point
("cell"). The second-nearest *distinct* point is a second multi-source Dijkstra seeded
across cell borders and propagated only inside cells — exact, because the best path from
the second-nearest point to a node enters the node's cell only once. Origins (compound
gates) sit mid-edge too: their cost is the best of both edge ends plus points on the same
edge reached directly along it.

Costs are network metres (plus the straight snap distances of both ends when
``include_snap``) and minutes at the network's speed. Unreachable (another network part,
or no point of the type) is ``inf``; an origin too far from every street is ``NaN``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.network.reach import append_rows, source_graph
from geo.network.snapping import Snap, point_array, snap_single_points, snap_xy


def _labels(src: np.ndarray, n: int) -> np.ndarray:
    return np.where(src >= 0, src - n, -1).astype(np.int64)


def two_nearest_nodes(net: StreetNetwork, s: Snap, *, include_snap: bool = True,
                      second: bool = True
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per node (incl. virtual ones): nearest and second-nearest distinct source.

    Returns ``(d1, lab1, d2, lab2)``: metres (inf when none) and the source position
    (-1 when none). With ``second=False`` the second pass is skipped (d2 = inf).
    """
    n, k = net.n_nodes, len(s.edge)
    g = source_graph(net, s, include_snap=include_snap)
    virt = n + np.flatnonzero(s.snapped)
    if len(virt) == 0:
        inf = np.full(n + k, np.inf)
        none = np.full(n + k, -1, dtype=np.int64)
        return inf, none, inf.copy(), none.copy()
    d1, _, src = dijkstra(g, directed=True, indices=virt, min_only=True,
                          return_predecessors=True)
    lab1 = _labels(src, n)
    if not second:
        return d1, lab1, np.full(n + k, np.inf), np.full(n + k, -1, dtype=np.int64)
    r = np.repeat(np.arange(n + k), np.diff(g.indptr))
    c, w = g.indices, g.data
    lr, lc = lab1[r], lab1[c]
    inside = (lr == lc) & (lr >= 0) & (r < n)  # rows stay sorted: CSR kept as is
    border = (lr != lc) & (lr >= 0)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(r[inside], minlength=n + k)[:n])
    g_in = csr_matrix((w[inside], c[inside], indptr), shape=(n, n))
    g2 = append_rows(g_in, n + k, n + lr[border], c[border], d1[r[border]] + w[border])
    d2, _, src2 = dijkstra(g2, directed=True, indices=virt, min_only=True,
                           return_predecessors=True)
    lab2 = _labels(src2, n)
    d2[lab2 < 0] = np.inf
    return d1, lab1, d2, lab2


def _candidates(net: StreetNetwork, t: Snap, group: np.ndarray, s: Snap,
                node_best: list[tuple[np.ndarray, np.ndarray]], *, include_snap: bool
                ) -> pd.DataFrame:
    """Long table (group, metres, label) of candidate sources for each snapped target."""
    ok = np.flatnonzero(t.snapped)
    e = t.edge[ok]
    off = t.offset_m[ok]
    extra = t.snap_m[ok] if include_snap else np.zeros(len(ok))
    parts = []
    for end, cost in ((net.edge_u[e], off), (net.edge_v[e], net.edge_length_m[e] - off)):
        for d, lab in node_best:
            parts.append(pd.DataFrame({"g": group[ok], "m": d[end] + cost + extra,
                                       "lab": lab[end]}))
    # sources on the same edge, reached directly along it
    sok = np.flatnonzero(s.snapped)
    left = pd.DataFrame({"edge": e, "g": group[ok], "off": off, "extra": extra})
    right = pd.DataFrame({"edge": s.edge[sok], "lab": sok, "soff": s.offset_m[sok],
                          "sextra": s.snap_m[sok] if include_snap else 0.0})
    same = left.merge(right, on="edge")
    if len(same):
        parts.append(pd.DataFrame({"g": same["g"], "m": (same["off"] - same["soff"]).abs()
                                   + same["extra"] + same["sextra"], "lab": same["lab"]}))
    cand = pd.concat(parts, ignore_index=True)
    return cand[np.isfinite(cand["m"].to_numpy()) & (cand["lab"].to_numpy() >= 0)]


def best_two(cand: pd.DataFrame, n_groups: int) -> tuple[np.ndarray, ...]:
    """Best and second-best distinct label per group: (lab1, m1, lab2, m2)."""
    lab1 = np.full(n_groups, -1, dtype=np.int64)
    lab2 = lab1.copy()
    m1 = np.full(n_groups, np.inf)
    m2 = m1.copy()
    if len(cand):
        g = cand["g"].to_numpy()
        m = cand["m"].to_numpy()
        lab = cand["lab"].to_numpy()
        order = np.lexsort((lab, m, g))
        g, m, lab = g[order], m[order], lab[order]
        head = np.ones(len(g), dtype=bool)
        head[1:] = g[1:] != g[:-1]
        lab1[g[head]], m1[g[head]] = lab[head], m[head]
        rest = lab != lab1[g]
        g, m, lab = g[rest], m[rest], lab[rest]
        head = np.ones(len(g), dtype=bool)
        head[1:] = g[1:] != g[:-1]
        lab2[g[head]], m2[g[head]] = lab[head], m[head]
    return lab1, m1, lab2, m2


@dataclass(frozen=True)
class NearestResult:
    """Nearest services per origin and type.

    ``table`` has one row per (origin, type): ``origin`` (the origin id), ``type``,
    ``nearest_id``, ``nearest_m``, ``nearest_min``, ``second_id``, ``second_m``,
    ``second_min``, ``snapped`` (origin reached a street), ``reachable``. Metres/minutes are
    ``inf`` when no point of the type is reachable and ``NaN`` when the origin is not
    snapped. ``unsnapped_origins`` / ``unsnapped_services`` list ids farther than
    ``max_snap_m`` from every street (kept in ``table``, excluded as sources).
    """

    table: pd.DataFrame
    unsnapped_origins: tuple[object, ...]
    unsnapped_services: tuple[object, ...]
    mode: str
    speed_m_per_min: float
    max_snap_m: float


def _ids(gdf: gpd.GeoDataFrame, col: str | None) -> np.ndarray:
    return gdf[col].to_numpy() if col else gdf.index.to_numpy()


def nearest_service(net: StreetNetwork, origins: gpd.GeoDataFrame,
                    services: gpd.GeoDataFrame, *, type_col: str = "type",
                    service_id_col: str | None = "id", origin_id_col: str | None = None,
                    types: list[str] | None = None, max_snap_m: float = 250.0,
                    include_snap: bool = True, second: bool = True) -> NearestResult:
    """Walking (or riding) cost from every origin to its nearest and second-nearest
    service point of each type.

    Parameters
    ----------
    origins
        Point or MultiPoint geometries (e.g. compound gates; the best gate counts), any
        declared CRS. Ids from ``origin_id_col`` or the index.
    services
        Point geometries with a ``type_col`` column; ids from ``service_id_col`` (or the
        index when None).
    types
        Types to report (default: every type present in ``services``); a requested type
        without points gives ``inf`` rows.
    max_snap_m
        Metres; points farther from every street are reported and not used.
    include_snap
        Add the straight distance from each point to its street (both ends) to the cost.
    second
        Also find the second-nearest point (a second Dijkstra per type); else its columns
        are None / inf.
    """
    if type_col not in services.columns:
        raise InvalidInputError("services have no type column", [Problem("missing", field=type_col)])
    opts, orow = point_array(net, origins, "origins")
    ospan = snap_xy(net, opts, max_snap_m=max_snap_m)
    ssnap = snap_single_points(net, services, "services", max_snap_m=max_snap_m)
    oid, sid = _ids(origins, origin_id_col), _ids(services, service_id_col)
    o_snapped = np.zeros(len(origins), dtype=bool)
    o_snapped[orow[ospan.snapped]] = True
    stype = services[type_col].astype(str).to_numpy()
    wanted = list(types) if types is not None else sorted(set(stype.tolist()))
    frames = []
    for typ in wanted:
        pick = np.flatnonzero(stype == typ)
        sub = Snap(edge=ssnap.edge[pick], offset_m=ssnap.offset_m[pick],
                   snap_m=ssnap.snap_m[pick], snapped=ssnap.snapped[pick], xy=ssnap.xy[pick],
                   max_snap_m=max_snap_m)
        d1, l1, d2, l2 = two_nearest_nodes(net, sub, include_snap=include_snap,
                                           second=second)
        cand = _candidates(net, ospan, orow, sub, [(d1, l1), (d2, l2)],
                           include_snap=include_snap)
        lab1, m1, lab2, m2 = best_two(cand, len(origins))
        m1[~o_snapped], m2[~o_snapped] = np.nan, np.nan
        frames.append(pd.DataFrame({
            "origin": oid, "type": typ,
            "nearest_id": _pick(sid[pick], lab1), "nearest_m": m1,
            "nearest_min": net.minutes(m1),
            "second_id": _pick(sid[pick], lab2), "second_m": m2,
            "second_min": net.minutes(m2),
            "snapped": o_snapped, "reachable": np.isfinite(m1)}))
    table = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[
        "origin", "type", "nearest_id", "nearest_m", "nearest_min", "second_id", "second_m",
        "second_min", "snapped", "reachable"]))
    return NearestResult(
        table=table, unsnapped_origins=tuple(oid[~o_snapped].tolist()),
        unsnapped_services=tuple(sid[~ssnap.snapped].tolist()), mode=net.mode,
        speed_m_per_min=net.speed_m_per_min, max_snap_m=float(max_snap_m))


def _pick(ids: np.ndarray, lab: np.ndarray) -> pd.Series:
    out = pd.Series([None] * len(lab), dtype=object)
    has = lab >= 0
    out[has] = ids[lab[has]]
    return out


