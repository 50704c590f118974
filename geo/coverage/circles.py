"""Service circles: the streets reachable from a service point within a budget, buffered.

A circle starts from the street edges reached within the budget (minutes × speed, or
metres), **including partially reached edges cut at the remaining budget** from each
end, and the stretch of the point's own edge walked directly. The land around them is
drawn as a detailed service-area polygon (:mod:`geo.coverage.detailed`): every place
within the trim distance of a street takes the walk time of its nearest street access
point. Never a straight-line radius and never a convex hull. How compounds enter the
circles is stated in :mod:`geo.coverage.analysis`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage.detailed import access_grid, compound_cells, detailed_polygons, share
from geo.crs.utm import WGS84
from geo.domain import WALK_MINUTES
from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.network.reach import DistanceBlock, local_distance_blocks
from geo.network.snapping import point_array, snap_xy
from geo.settings import DEFAULT_CELL_M, DEFAULT_TRIM_M


def substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised substrings of LineStrings between ``start`` and ``end`` (CRS units)."""
    if len(geoms) == 0:
        return np.zeros(0, dtype=object)
    coords, gi = shapely.get_coordinates(geoms, return_index=True)
    seg = np.zeros(len(coords))
    seg[1:] = np.hypot(*np.diff(coords, axis=0).T)
    newgroup = np.ones(len(coords), dtype=bool)
    newgroup[1:] = gi[1:] != gi[:-1]
    seg[newgroup] = 0.0
    cum = np.cumsum(seg)
    cum -= cum[np.flatnonzero(newgroup)][np.cumsum(newgroup) - 1]
    inner = (cum > start[gi]) & (cum < end[gi])
    n = len(geoms)
    sp = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    ep = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    xy = np.concatenate([sp, coords[inner], ep])
    piece = np.concatenate([np.arange(n), gi[inner], np.arange(n)])
    key = np.concatenate([np.full(n, -np.inf), cum[inner], np.full(n, np.inf)])
    order = np.lexsort((key, piece))
    return shapely.linestrings(xy[order], indices=piece[order])


def _pieces(net: StreetNetwork, blk: DistanceBlock, budget: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reached stretches (row, edge, start_m, end_m) for one block of distances: the edges
    with an end within ``budget``, sorted by row and edge."""
    outside = blk.d.shape[1] - 1  # the column of nodes beyond the block's window
    lu, lv = blk.local[net.edge_u], blk.local[net.edge_v]
    near = np.flatnonzero((lu < outside) | (lv < outside))
    d_u, d_v = blk.d[:, lu[near]], blk.d[:, lv[near]]
    ri, k = np.nonzero((d_u <= budget) | (d_v <= budget))
    edge = near[k]
    du, dv = d_u[ri, k], d_v[ri, k]
    length = net.edge_length_m[edge]
    a_end = np.clip(budget - du, 0.0, length)  # reached from u: [0, a_end]
    b_start = np.clip(length - (budget - dv), 0.0, length)  # reached from v: [b_start, L]
    a_ok, b_ok = du <= budget, dv <= budget
    full = a_ok & b_ok & (a_end >= b_start)
    a_part = a_ok & ~full & (a_end > 0)
    b_part = b_ok & ~full & (b_start < length)
    rows = np.concatenate([ri[full], ri[a_part], ri[b_part]])
    edges = np.concatenate([edge[full], edge[a_part], edge[b_part]])
    s = np.concatenate([np.zeros(full.sum()), np.zeros(a_part.sum()), b_start[b_part]])
    e = np.concatenate([length[full], a_end[a_part], length[b_part]])
    return rows, edges, s, e


def _lines(net: StreetNetwork, edges: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Geometries of edge stretches [s, e] (network metres along the edge)."""
    geoms = net.edge_geoms[edges]
    length = net.edge_length_m[edges]
    full = (s <= 0) & (e >= length)
    out = geoms.copy()
    cut = ~full
    if cut.any():
        scale = shapely.length(geoms[cut]) / length[cut]
        out[cut] = substrings(geoms[cut], s[cut] * scale, e[cut] * scale)
    return out


def merge_spans(gid: np.ndarray, edge: np.ndarray, a: np.ndarray, b: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge overlapping stretches [a, b] of the same (group, edge) into disjoint ones."""
    if len(gid) == 0:
        return gid, edge, a, b
    order = np.lexsort((a, edge, gid))
    gid, edge, a, b = gid[order], edge[order], a[order], b[order]
    same = np.zeros(len(gid), dtype=bool)
    same[1:] = (gid[1:] == gid[:-1]) & (edge[1:] == edge[:-1])
    # running max of b within each (group, edge) run
    run = np.cumsum(~same) - 1
    offset = run * 2.0 * (b.max() - min(a.min(), 0.0) + 1.0)  # lifts each run above the last
    prev = np.maximum.accumulate(b + offset) - offset
    new = ~same
    new[1:] |= a[1:] > prev[:-1]
    starts = np.flatnonzero(new)
    return gid[starts], edge[starts], a[starts], np.maximum.reduceat(b, starts)


def _assemble(geom: np.ndarray, gid: np.ndarray, lines: np.ndarray) -> None:
    """Put each group's lines into ``geom`` as one MultiLineString."""
    if len(gid) == 0:
        return
    order = np.argsort(gid, kind="stable")
    gid, lines = gid[order], lines[order]
    uniq = np.unique(gid)
    geom[uniq] = shapely.multilinestrings(lines, indices=np.searchsorted(uniq, gid))


@contextmanager
def _pool(workers: int) -> Iterator[Executor | None]:
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool


def service_circles(net: StreetNetwork, services: gpd.GeoDataFrame, *,
                    minutes: Sequence[float] | None = WALK_MINUTES,
                    metres: Sequence[float] | None = None,
                    trim_m: float = DEFAULT_TRIM_M, cell_m: float = DEFAULT_CELL_M,
                    type_col: str = "type", service_id_col: str | None = "id",
                    max_snap_m: float = 250.0, include_snap: bool = True, crs: int = WGS84,
                    chunk: int = 64, polygons: bool = True, workers: int = 1,
                    compounds: gpd.GeoDataFrame | None = None,
                    served: pd.DataFrame | None = None, compound_id_col: str = "id"
                    ) -> gpd.GeoDataFrame:
    """Street-following circles (detailed service-area polygons) of every service point.

    Parameters
    ----------
    services
        Point geometries (any declared CRS) with ``type_col`` and ids (``service_id_col``
        or the index).
    minutes, metres
        Thresholds; give minutes (converted with the network's speed) or metres
        (pass ``minutes=None``), e.g. GB 50180-2018's 300 / 500 / 1,000 m.
    trim_m
        Polygon trim distance, metres: land farther than this from every street is in
        no circle (:mod:`geo.coverage.detailed`).
    cell_m
        Cell size of the access grid, metres (boundaries lie within one cell).
    crs
        EPSG code of the returned polygons (default 4326).
    polygons
        False returns the reached street stretches themselves (MultiLineString) instead
        of their polygons: the network part of the work.
    workers
        Processes drawing the polygons in parallel (forked, so leave 1 inside a threaded
        server); the main process finds the reach of the next block meanwhile.
    compounds, served
        Compound polygons: their land is left out of every circle (cells by their centres)
        except in the circles ``served`` names: rows ``service_id, budget_m, compound_id``
        (the compound drawn whole in that point's circle at that budget; see
        :func:`geo.coverage.analysis.coverage_circles`).

    Returns
    -------
    GeoDataFrame
        One row per (service point, threshold): ``service_id, type, minutes`` (NaN for
        metre thresholds), ``budget_m``, ``snapped``, ``street_m`` (length of street
        stretches reached, metres), geometry (Polygon/MultiPolygon; None when the point is
        farther than ``max_snap_m`` from every street).
    """
    if (minutes is None) == (metres is None):
        raise InvalidInputError("give thresholds in minutes or in metres",
                                [Problem("exactly one of minutes/metres", field="minutes")])
    bad = [Problem("> 0", field=f) for f, v in (("trim_m", trim_m), ("cell_m", cell_m))
           if not v > 0]
    if bad:
        raise InvalidInputError("trim_m and cell_m must be > 0", bad)
    if type_col not in services.columns:
        raise InvalidInputError("services have no type column", [Problem("missing", field=type_col)])
    values = list(minutes if minutes is not None else metres)  # type: ignore[arg-type]
    budgets = np.array([net.budget_m(minutes=v) if minutes is not None else net.budget_m(metres=v)
                        for v in values])
    pts, _ = point_array(net, services, "services")
    if len(pts) != len(services):
        raise InvalidInputError("service points must be single Points",
                                [Problem("MultiPoint", field="geometry")])
    s = snap_xy(net, pts, max_snap_m=max_snap_m)
    k, nb = len(pts), len(budgets)
    grid = access_grid(net, cell_m=cell_m, trim_m=trim_m) if polygons and net.n_edges else None
    comp = None
    by_group: dict[int, np.ndarray] = {}
    ids = services[service_id_col].to_numpy() if service_id_col else services.index.to_numpy()
    if grid is not None and compounds is not None and len(compounds):
        comp = compound_cells(grid, np.asarray(shapely.make_valid(
            net.to_metric(compounds, "compounds").geometry.to_numpy()), dtype=object))
        if served is not None and len(served):
            pos = pd.Series(np.arange(k), index=ids)
            pos = pos[~pos.index.duplicated()]
            cpos = pd.Series(np.arange(len(compounds)),
                             index=compounds[compound_id_col].to_numpy())
            bpos = pd.Series(np.arange(nb), index=budgets)
            grp = (pos.reindex(served["service_id"].to_numpy()).to_numpy() * nb
                   + bpos.reindex(served["budget_m"].to_numpy()).to_numpy())
            cp = cpos.reindex(served["compound_id"].to_numpy()).to_numpy()
            ok = ~(np.isnan(grp) | np.isnan(cp))
            frame = pd.DataFrame({"g": grp[ok].astype(np.int64), "c": cp[ok].astype(np.int64)})
            by_group = {int(g_): c_.to_numpy() for g_, c_ in frame.groupby("g")["c"]}
    key = share(grid, comp) if grid is not None else 0
    street = np.zeros(k * nb)
    geom = np.full(k * nb, None, dtype=object)
    pending: dict[Any, Any] = {}
    blocks = local_distance_blocks(net, s, limit_m=float(budgets.max()),
                                   include_snap=include_snap, chunk=chunk)
    with _pool(workers if grid is not None else 1) as pool:
        for blk in blocks:
            pos = blk.pos
            for bi in range(nb):
                budget = budgets[bi]
                rows, edges, a, b = _pieces(net, blk, budget)
                # own edge walked directly from the snapped point
                rest = budget - (s.snap_m[pos] if include_snap else 0.0)
                own = rest > 0
                oe = s.edge[pos][own]
                oa = np.clip(s.offset_m[pos][own] - rest[own], 0, net.edge_length_m[oe])
                ob = np.clip(s.offset_m[pos][own] + rest[own], 0, net.edge_length_m[oe])
                gid, edges, a, b = merge_spans(np.concatenate([pos[rows], pos[own]]) * nb + bi,
                                               np.concatenate([edges, oe]),
                                               np.concatenate([a, oa]), np.concatenate([b, ob]))
                np.add.at(street, gid, b - a)
                if grid is not None:
                    drawn = detailed_polygons(grid, gid, edges, a, b, comp=comp,
                                              served=by_group, key=key, pool=pool)
                    if pool is None:
                        for g, poly in drawn.items():
                            geom[g] = poly
                    else:
                        pending.update(drawn)
                else:
                    _assemble(geom, gid, _lines(net, edges, a, b))
        for gids, fut in pending.items():
            geom[list(gids)] = fut.result()
    snapped = np.repeat(s.snapped, nb)
    if grid is not None:  # a snapped point reaching no cell still has an (empty) circle
        empty = snapped & shapely.is_missing(geom)
        geom[empty] = shapely.Polygon()
    out = pd.DataFrame({
        "service_id": np.repeat(ids, nb),
        "type": np.repeat(services[type_col].astype(str).to_numpy(), nb),
        "minutes": np.tile(np.array(values, dtype=float) if minutes is not None
                           else np.full(nb, np.nan), k),
        "budget_m": np.tile(budgets, k),
        "snapped": snapped,
        "street_m": np.where(snapped, street, np.nan),
    })
    return gpd.GeoDataFrame(out, geometry=geom, crs=net.metric_epsg).to_crs(crs)


def _union(geoms: np.ndarray) -> object:
    try:
        return shapely.union_all(geoms)
    except shapely.errors.GEOSException:  # nearly coincident edges: snap to 1 mm
        return shapely.union_all(shapely.make_valid(geoms), grid_size=1e-3)


def union_by_type(circles: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Union of the circles per (type, threshold): ``type, minutes, budget_m, n_points``.

    The result keeps ``circles``' CRS (unite in a metric CRS: the cells of the circles
    share their corners exactly there).
    """
    rows = []
    for (typ, budget), grp in circles.groupby(["type", "budget_m"], sort=True):
        g = np.asarray(grp.geometry.dropna().values, dtype=object)
        rows.append({"type": typ, "minutes": grp["minutes"].iloc[0], "budget_m": budget,
                     "n_points": len(g), "geometry": _union(g) if len(g) else None})
    cols = ["type", "minutes", "budget_m", "n_points", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry",
                            crs=circles.crs)
