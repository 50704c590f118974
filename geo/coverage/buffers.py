"""Drawing service circles: the buffer of each point's reached street stretches.

Two ways, chosen by :func:`geo.coverage.circles.service_circles`'s ``method``:

* exact (:func:`nested_buffers`): GEOS buffers of the stretches, threshold by threshold,
  each circle the previous one united with the buffers of the stretches new at its
  threshold; lines whose round end caps cannot change the union get flat ends
  (:func:`flat_ends`), which is faster and gives the same polygon;
* raster (:func:`raster_spans`): the same buffer drawn on a grid of ``cell_m`` cells
  (boundary within about one cell of the exact one), for city-scale batches.

Coordinates are the network's metric CRS; lengths are metres.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from concurrent.futures import Executor

import numpy as np
import shapely
from scipy import ndimage

from geo.network.graph import StreetNetwork


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
