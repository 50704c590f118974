"""Service circles: the streets reachable from a service point within a budget, buffered.

A circle is built from the street edges reached within the budget (minutes × speed, or
metres), **including partially reached edges cut at the remaining budget** from each
end, the stretch of the point's own edge walked directly, and the short connector from
the point to its street. These lines are buffered by ``buffer_m`` (default 40 m: a street
with the frontage plots either side, where a gate on that street is reached). Never a
straight-line radius and never a convex hull.
"""

from __future__ import annotations

import multiprocessing
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from scipy.sparse import csr_matrix

from geo.crs.utm import WGS84
from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.network.reach import DistanceBlock, local_distance_blocks
from geo.network.snapping import point_array, snap_xy

#: Default buffer (metres) around reached streets: a street and its frontage plots.
DEFAULT_BUFFER_M = 40.0


def _incidence(net: StreetNetwork) -> csr_matrix:
    e = np.arange(net.n_edges)
    rows = np.concatenate([net.edge_u, net.edge_v])
    cols = np.concatenate([e, e])
    return csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)),
                      shape=(net.n_nodes, net.n_edges))


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


def _pieces(net: StreetNetwork, blk: DistanceBlock, inc: csr_matrix, budget: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reached stretches (row, edge, start_m, end_m) for one block of distances."""
    d = blk.d
    ri, col = np.nonzero(d <= budget)
    node = blk.nodes[col]
    counts = np.diff(inc.indptr)[node]
    starts = np.repeat(inc.indptr[node], counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    edge = inc.indices[starts + within]
    ri = np.repeat(ri, counts)
    key = np.unique(ri.astype(np.int64) * net.n_edges + edge)
    ri, edge = key // net.n_edges, key % net.n_edges
    length = net.edge_length_m[edge]
    du, dv = d[ri, blk.local[net.edge_u[edge]]], d[ri, blk.local[net.edge_v[edge]]]
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


def _raster_cells(xy: np.ndarray, buffer_m: float, cell_m: float) -> object:
    """(Multi)Polygon of the grid cells whose centre lies within ``buffer_m`` of a cell
    holding one of the points ``xy`` (metric CRS)."""
    r = int(np.ceil(buffer_m / cell_m))
    x0, y0 = xy.min(axis=0) - (r + 1) * cell_m
    nx = int(np.ceil((xy[:, 0].max() - x0) / cell_m)) + r + 2
    ny = int(np.ceil((xy[:, 1].max() - y0) / cell_m)) + r + 2
    mask = np.zeros((ny, nx), dtype=bool)
    mask[((xy[:, 1] - y0) // cell_m).astype(int), ((xy[:, 0] - x0) // cell_m).astype(int)] = True
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    mask = ndimage.binary_dilation(mask, structure=(xx**2 + yy**2) * cell_m**2 <= buffer_m**2)
    edge = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rs, cs = np.nonzero(edge == 1)
    _, ce = np.nonzero(edge == -1)
    boxes = shapely.box(x0 + cs * cell_m, y0 + rs * cell_m, x0 + ce * cell_m,
                        y0 + (rs + 1) * cell_m)
    return shapely.coverage_union_all(boxes)


_SAMPLES: weakref.WeakKeyDictionary[StreetNetwork, dict[float, tuple[np.ndarray, ...]]] = \
    weakref.WeakKeyDictionary()


def _edge_samples(net: StreetNetwork, step_m: float) -> tuple[np.ndarray, ...]:
    """Points every ``step_m`` (or closer) along every edge, both ends included, computed
    once per network: ``(ptr, xy, along_m)`` with edge ``e``'s points in
    ``ptr[e]:ptr[e+1]`` and their network metres from the edge's start."""
    cache = _SAMPLES.setdefault(net, {})
    if step_m not in cache:
        count = np.ceil(net.edge_length_m / step_m).astype(np.int64) + 1
        ptr = np.zeros(net.n_edges + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(count)
        edge = np.repeat(np.arange(net.n_edges), count)
        frac = (np.arange(ptr[-1]) - ptr[edge]) / (count[edge] - 1)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(
            net.edge_geoms[edge], frac, normalized=True))
        cache[step_m] = (ptr, xy, frac * net.edge_length_m[edge])
    return cache[step_m]


def raster_spans(net: StreetNetwork, gid: np.ndarray, edges: np.ndarray, a: np.ndarray,
                 b: np.ndarray, extra_xy: np.ndarray, extra_gid: np.ndarray, buffer_m: float,
                 *, cell_m: float = 10.0, pool: Executor | None = None) -> dict[int, object]:
    """Raster buffers (see :func:`_raster_cells`) of the stretches [a, b] of ``edges``
    per group ``gid``, plus extra points (connectors) per group."""
    ptr, sxy, along = _edge_samples(net, cell_m)
    count = ptr[edges + 1] - ptr[edges]
    idx = np.repeat(ptr[edges] - np.cumsum(count) + count, count) + np.arange(count.sum())
    g = np.repeat(gid, count)
    keep = (along[idx] >= np.repeat(a, count) - 1e-9) & (along[idx] <= np.repeat(b, count) + 1e-9)
    # the cut ends of partial stretches
    part = (a > 0) | (b < net.edge_length_m[edges])
    geoms = net.edge_geoms[edges[part]]
    scale = shapely.length(geoms) / net.edge_length_m[edges[part]]
    ends = np.concatenate([shapely.line_interpolate_point(geoms, a[part] * scale),
                           shapely.line_interpolate_point(geoms, b[part] * scale)])
    xy = np.concatenate([sxy[idx[keep]], shapely.get_coordinates(ends), extra_xy])
    g = np.concatenate([g[keep], gid[part], gid[part], extra_gid])
    order = np.argsort(g, kind="stable")
    xy, g = xy[order], g[order]
    uniq, first = np.unique(g, return_index=True)
    bounds = np.append(first, len(g))
    tasks = [(xy[bounds[j]:bounds[j + 1]], buffer_m, cell_m) for j in range(len(uniq))]
    if pool is None:
        return dict(zip(uniq.tolist(), _raster_tasks(tasks), strict=True))
    # hand the drawing to the worker processes and go on with the next block
    futures = {}
    for i in range(0, len(tasks), 16):
        futures[tuple(uniq[i:i + 16].tolist())] = pool.submit(_raster_tasks, tasks[i:i + 16])
    return futures  # type: ignore[return-value]


def _raster_tasks(tasks: list[tuple[np.ndarray, float, float]]) -> list[object]:
    return [_raster_cells(*t) for t in tasks]


def _assemble(geom: np.ndarray, gid: np.ndarray, lines: np.ndarray) -> None:
    """Put each group's lines into ``geom`` as one MultiLineString."""
    if len(gid) == 0:
        return
    order = np.argsort(gid, kind="stable")
    gid, lines = gid[order], lines[order]
    uniq = np.unique(gid)
    geom[uniq] = shapely.multilinestrings(lines, indices=np.searchsorted(uniq, gid))


Level = tuple[int, np.ndarray, np.ndarray]  # (threshold index, point positions, lines)


def flat_ends(pos: np.ndarray, lines: np.ndarray, buffer_m: float) -> np.ndarray:
    """Which lines may be buffered with flat ends without changing their circle's union.

    A line's round end cap lies in the disk of radius ``buffer_m`` around its end. At a
    point where, in the same circle (``pos``), lines end whose end segments are at least
    ``buffer_m`` long and whose directions leave no gap over 180°, that disk is covered
    by those segments' flat buffers (each covers the half disk it points into), so every
    cap there is redundant. True for lines with both ends at such points.
    """
    n = len(lines)
    if n == 0:
        return np.zeros(0, dtype=bool)
    xy, gi = shapely.get_coordinates(lines, return_index=True)
    first = np.flatnonzero(np.r_[True, gi[1:] != gi[:-1]])
    last = np.r_[first[1:] - 1, len(xy) - 1]
    ok = last > first  # two vertices at least
    first, last, line = first[ok], last[ok], gi[first[ok]]
    end = np.concatenate([xy[first], xy[last]])
    d = np.concatenate([xy[first + 1], xy[last - 1]]) - end
    long_ = np.hypot(d[:, 0], d[:, 1]) >= buffer_m
    ang = np.arctan2(d[:, 1], d[:, 0])
    line = np.concatenate([line, line])
    # one group per (circle, end point)
    keys = np.column_stack([pos[line].astype(float), end])
    _, grp = np.unique(keys, axis=0, return_inverse=True)
    grp = grp.ravel()
    covered = np.zeros(grp.max() + 1, dtype=bool)
    g, a = grp[long_], ang[long_]
    if len(g):
        o = np.lexsort((a, g))
        g, a = g[o], a[o]
        start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        stop = np.r_[start[1:], len(g)] - 1
        gap = np.zeros(len(start))
        same = g[1:] == g[:-1]
        np.maximum.at(gap, np.searchsorted(start, np.flatnonzero(same), side="right") - 1,
                      np.diff(a)[same])
        gap = np.maximum(gap, a[start] + 2 * np.pi - a[stop])
        covered[g[start]] = gap <= np.pi + 1e-9
    both = np.zeros(n, dtype=bool)
    half = len(first)
    both[line[:half]] = covered[grp[:half]] & covered[grp[half:]]
    return both


def nested_buffers(levels: Sequence[Level], nb: int, buffer_m: float, quad_segs: int
                   ) -> dict[int, object]:
    """Exact buffers of each point's lines, threshold by threshold (ascending budgets).

    ``levels`` holds, per threshold, the lines *new* at that threshold (stretches not
    already a full edge of the point's previous threshold); a point's circle is the
    union of its previous circle and the buffers of its new lines, which equals the
    union of the buffers of all its lines because the reach is nested. Keys of the
    result are ``position * nb + threshold index``.
    """
    out: dict[int, object] = {}
    prev: dict[int, object] = {}
    for bi, pos, lines in levels:
        cur: dict[int, object] = {}
        if len(pos):
            # buffering the parts and uniting them is 2-3x faster than buffering the
            # MultiLineString (GEOS nodes all parts against each other first)
            flat = flat_ends(pos, lines, buffer_m)
            polys = np.empty(len(lines), dtype=object)
            polys[flat] = shapely.buffer(lines[flat], buffer_m, quad_segs=quad_segs,
                                         cap_style="flat")
            polys[~flat] = shapely.buffer(lines[~flat], buffer_m, quad_segs=quad_segs)
            order = np.argsort(pos, kind="stable")
            pos, polys = pos[order], polys[order]
            uniq, first = np.unique(pos, return_index=True)
            bounds = np.append(first, len(pos))
            for j, p in enumerate(uniq.tolist()):
                parts = polys[bounds[j]:bounds[j + 1]]
                if p in prev:
                    parts = np.concatenate([np.array([prev[p]], dtype=object), parts])
                cur[p] = shapely.union_all(parts)
        for p, poly in prev.items():
            cur.setdefault(p, poly)
        for p, poly in cur.items():
            out[p * nb + bi] = poly
        prev = cur
    return out


@contextmanager
def _pool(workers: int) -> Iterator[Executor | None]:
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool


def service_circles(net: StreetNetwork, services: gpd.GeoDataFrame, *,
                    minutes: Sequence[float] | None = (5, 10, 15),
                    metres: Sequence[float] | None = None,
                    buffer_m: float = DEFAULT_BUFFER_M, type_col: str = "type",
                    service_id_col: str | None = "id", max_snap_m: float = 250.0,
                    include_snap: bool = True, quad_segs: int = 2, crs: int = WGS84,
                    chunk: int = 64, polygons: bool = True,
                    method: Literal["buffer", "raster"] = "buffer",
                    cell_m: float = 10.0, workers: int = 1) -> gpd.GeoDataFrame:
    """Street-following circles of every service point for each threshold.

    Parameters
    ----------
    services
        Point geometries (any declared CRS) with ``type_col`` and ids (``service_id_col``
        or the index).
    minutes, metres
        Thresholds; give minutes (converted with the network's speed) or metres
        (pass ``minutes=None``), e.g. GB 50180-2018's 300 / 500 / 1,000 m.
    buffer_m
        Width either side of the reached streets, metres.
    crs
        EPSG code of the returned polygons (default 4326).
    polygons
        False returns the reached street stretches themselves (MultiLineString) instead
        of their buffer: the network part of the work, without the polygon union.
    quad_segs
        Segments per quarter circle of the buffers' round ends (default 2).
    method
        ``"buffer"`` (default): the exact GEOS buffer of the reached stretches — each
        stretch buffered on its own (``quad_segs`` segments per quarter circle) and the
        buffers united per circle; thresholds are done in ascending order and each circle
        is the previous threshold's circle united with the buffers of the stretches that
        were not already full edges there (the same polygon: the reach is nested).
        ``"raster"``: the same buffer drawn on a ``cell_m`` grid (boundary within about
        one cell of the exact one) — for city-scale batches.
    workers
        Processes drawing the polygons in parallel (forked, so leave 1 inside a threaded
        server); the main process finds the reach of the next block meanwhile.

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
    if not buffer_m > 0:
        raise InvalidInputError("buffer_m must be > 0", [Problem("> 0", field="buffer_m")])
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
    inc = _incidence(net)
    spans: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    geom = np.full(k * nb, None, dtype=object)
    blocks = local_distance_blocks(net, s, limit_m=float(budgets.max()),
                                   include_snap=include_snap, chunk=chunk)
    pending: dict[Any, Any] = {}
    futures: list[Any] = []
    exact = polygons and method == "buffer"
    with _pool(workers if polygons else 1) as pool:
        for blk in blocks:
            pos = blk.pos
            levels: list[Level] = []
            prev_full = np.zeros(0, dtype=np.int64)  # pos * n_edges + edge, full edges so far
            prev_conn = np.zeros(0, dtype=np.int64)
            for bi in np.argsort(budgets, kind="stable").tolist():
                budget = budgets[bi]
                rows, edges, a, b = _pieces(net, blk, inc, budget)
                # own edge walked directly, and the connector from the point to the street
                rest = budget - (s.snap_m[pos] if include_snap else 0.0)
                own = rest > 0
                oe = s.edge[pos][own]
                oa = np.clip(s.offset_m[pos][own] - rest[own], 0, net.edge_length_m[oe])
                ob = np.clip(s.offset_m[pos][own] + rest[own], 0, net.edge_length_m[oe])
                gid, edges, a, b = merge_spans(np.concatenate([pos[rows], pos[own]]) * nb + bi,
                                               np.concatenate([edges, oe]),
                                               np.concatenate([a, oa]), np.concatenate([b, ob]))
                spans.append((gid, edges, a, b))
                conn = pos[own & (s.snap_m[pos] > 0)]
                if polygons and method == "raster":
                    ends = np.concatenate([shapely.get_coordinates(pts[conn]), s.xy[conn]])
                    drawn = raster_spans(net, gid, edges, a, b, ends, np.tile(conn * nb + bi, 2),
                                         buffer_m, cell_m=cell_m, pool=pool)
                    if pool is None:
                        for g, poly in drawn.items():
                            geom[g] = poly
                    else:
                        pending.update(drawn)
                    continue
                if exact:
                    # only what the previous (smaller) threshold did not hold in full
                    p = gid // nb
                    key = p * net.n_edges + edges
                    full = (a <= 0) & (b >= net.edge_length_m[edges])
                    new = ~np.isin(key, prev_full)
                    prev_full = np.union1d(prev_full, key[full])
                    conn_new = conn[~np.isin(conn, prev_conn)]
                    prev_conn = np.union1d(prev_conn, conn)
                    p, edges, a, b, conn = p[new], edges[new], a[new], b[new], conn_new
                    gid = p * nb + bi
                connectors = (shapely.linestrings(np.stack(
                    [shapely.get_coordinates(pts[conn]), s.xy[conn]], axis=1))
                    if len(conn) else np.zeros(0, dtype=object))
                lines = np.concatenate([_lines(net, edges, a, b), connectors])
                if exact:
                    levels.append((bi, np.concatenate([gid // nb, conn]), lines))
                else:
                    _assemble(geom, np.concatenate([gid, conn * nb + bi]), lines)
            if exact:
                if pool is None:
                    for g, poly in nested_buffers(levels, nb, buffer_m, quad_segs).items():
                        geom[g] = poly
                else:  # hand the union to the workers and go on with the next block
                    futures.append(pool.submit(nested_buffers, levels, nb, buffer_m, quad_segs))
        for gids, fut in pending.items():
            geom[list(gids)] = fut.result()
        for fut in futures:
            for g, poly in fut.result().items():
                geom[g] = poly
    street = np.zeros(k * nb)
    for gid_, _, a_, b_ in spans:
        np.add.at(street, gid_, b_ - a_)
    ids = services[service_id_col].to_numpy() if service_id_col else services.index.to_numpy()
    out = pd.DataFrame({
        "service_id": np.repeat(ids, nb),
        "type": np.repeat(services[type_col].astype(str).to_numpy(), nb),
        "minutes": np.tile(np.array(values, dtype=float) if minutes is not None
                           else np.full(nb, np.nan), k),
        "budget_m": np.tile(budgets, k),
        "snapped": np.repeat(s.snapped, nb),
        "street_m": np.where(np.repeat(s.snapped, nb), street, np.nan),
    })
    return gpd.GeoDataFrame(out, geometry=geom, crs=net.metric_epsg).to_crs(crs)


def union_by_type(circles: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Union of the circles per (type, threshold): ``type, minutes, budget_m, n_points``.

    The result keeps ``circles``' CRS.
    """
    rows = []
    for (typ, budget), grp in circles.groupby(["type", "budget_m"], sort=True):
        g = grp.geometry.dropna().values
        rows.append({"type": typ, "minutes": grp["minutes"].iloc[0], "budget_m": budget,
                     "n_points": len(g),
                     "geometry": shapely.union_all(np.asarray(g, dtype=object))
                     if len(g) else None})
    cols = ["type", "minutes", "budget_m", "n_points", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry",
                            crs=circles.crs)
