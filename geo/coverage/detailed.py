"""Detailed service-area polygons: land takes the walk time of its nearest street access point.

The street part of the coverage definition (:mod:`geo.coverage.analysis` states the whole
of it). On a grid of square cells of ``cell_m`` metres laid over the network (its metric
CRS):

* **street samples** are points every ``cell_m`` metres or closer along every walkable
  edge, both ends included; a cell holding a sample is a *street cell*;
* the **access cell** of a cell is the street cell nearest to it (distance between cell
  centres; :func:`scipy.ndimage.distance_transform_edt`, ties broken by scipy's scan
  order). Cells farther than the **trim distance** ``trim_m`` from every street cell have
  none: they are never inside a circle;
* a street cell is **reached** when one of its samples lies on a reached stretch (the
  edges and partial edges walked within the budget, :func:`geo.coverage.circles`);
* a **circle** is the union of the cells whose access cell is reached (its outline traced
  along the cell edges, :mod:`geo.coverage.rings`).

So the land between two streets is split along the line half-way between them (each
side takes the time of its own street), and a block's interior counts as far as the trim
distance reaches — what a network service-area "detailed polygon" with a polygon trim
distance draws (ArcGIS Network Analyst: 100 m by default). Boundaries lie on the cell
grid (within one cell of the exact partition); the grid is computed once per network,
cell size and trim distance and reused by every circle.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy import ndimage

from geo.coverage.rings import corners, polygons
from geo.network.graph import StreetNetwork

#: Polygons a worker process draws at a time.
_BATCH = 32


@dataclass(frozen=True)
class AccessGrid:
    """The cell grid of a network: each cell's access (street) cell.

    ``access[row, col]`` is the number of the street cell nearest to the cell (rows from
    the lower-left corner ``x0, y0``), ``-1`` beyond the trim distance;
    ``sample_street[i]`` is the street cell number of street sample ``i`` and
    ``street_rc`` the (row, col) of every street cell.
    """

    x0: float
    y0: float
    cell_m: float
    trim_m: float
    access: np.ndarray
    street_rc: np.ndarray
    sample_street: np.ndarray
    sample_ptr: np.ndarray  # edge e's samples are sample_ptr[e]:sample_ptr[e+1]
    sample_along: np.ndarray  # network metres from the edge's start

    @property
    def n_streets(self) -> int:
        return len(self.street_rc)


_GRIDS: weakref.WeakKeyDictionary[StreetNetwork, dict[tuple[float, float], AccessGrid]] = \
    weakref.WeakKeyDictionary()


def _samples(net: StreetNetwork, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``step_m`` (or closer) along every edge, both ends included:
    ``(ptr, xy, along_m)``, edge ``e``'s points in ``ptr[e]:ptr[e+1]`` (linear
    interpolation along the edges' vertices, vectorised)."""
    count = np.ceil(net.edge_length_m / step_m).astype(np.int64) + 1
    ptr = np.zeros(net.n_edges + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(count)
    edge = np.repeat(np.arange(net.n_edges), count)
    frac = (np.arange(ptr[-1]) - ptr[edge]) / (count[edge] - 1)
    xy, gi = shapely.get_coordinates(net.edge_geoms, return_index=True)
    seg = np.zeros(len(xy))
    seg[1:] = np.hypot(*np.diff(xy, axis=0).T)
    first = np.r_[True, gi[1:] != gi[:-1]]
    seg[first] = 0.0
    cum = np.cumsum(seg)  # global, increasing; each edge starts where the last ended
    start = cum[np.flatnonzero(first)]
    glen = np.r_[start[1:], cum[-1]] - start
    pos = start[edge] + frac * glen[edge]
    j = np.clip(np.searchsorted(cum, pos, side="right"), 1, len(cum) - 1)
    j = np.where(gi[j] != edge, j - 1, j)  # never step past the edge's last vertex
    j = np.maximum(j, np.flatnonzero(first)[edge] + 1)
    t = np.divide(pos - cum[j - 1], seg[j], out=np.zeros(len(pos)), where=seg[j] > 0)
    t = np.clip(t, 0.0, 1.0)[:, None]
    pts = xy[j - 1] * (1 - t) + xy[j] * t
    return ptr, pts, frac * net.edge_length_m[edge]


def access_grid(net: StreetNetwork, *, cell_m: float, trim_m: float) -> AccessGrid:
    """The :class:`AccessGrid` of ``net`` (computed once per network, cell and trim)."""
    cache = _GRIDS.setdefault(net, {})
    key = (float(cell_m), float(trim_m))
    if key in cache:
        return cache[key]
    sptr, sxy, along = _samples(net, cell_m)
    pad = trim_m + 2 * cell_m
    x0, y0 = sxy.min(axis=0) - pad
    nx = int(np.ceil((sxy[:, 0].max() + pad - x0) / cell_m))
    ny = int(np.ceil((sxy[:, 1].max() + pad - y0) / cell_m))
    flat = (((sxy[:, 1] - y0) // cell_m).astype(np.int64) * nx
            + ((sxy[:, 0] - x0) // cell_m).astype(np.int64))
    street_flat, sample_street = np.unique(flat, return_inverse=True)
    free = np.ones(ny * nx, dtype=bool)
    free[street_flat] = False
    iy, ix = ndimage.distance_transform_edt(free.reshape(ny, nx), return_distances=False,
                                            return_indices=True)
    del free
    lut = np.full(ny * nx, -1, dtype=np.int32)
    lut[street_flat] = np.arange(len(street_flat), dtype=np.int32)
    index = np.int64 if ny * nx >= 2**31 else np.int32
    access = lut[iy.astype(index, copy=False) * nx + ix]
    del lut
    # squared distance (in cells) to the access cell, in place: beyond the trim, none
    if 2 * max(ny, nx) ** 2 >= 2**31:
        iy, ix = iy.astype(np.int64), ix.astype(np.int64)
    iy -= np.arange(ny, dtype=iy.dtype)[:, None]
    iy *= iy
    ix -= np.arange(nx, dtype=ix.dtype)[None, :]
    ix *= ix
    iy += ix
    access[iy > (trim_m / cell_m) ** 2] = -1
    del iy, ix
    grid = AccessGrid(x0=float(x0), y0=float(y0), cell_m=float(cell_m), trim_m=float(trim_m),
                      access=access,
                      street_rc=np.column_stack(np.divmod(street_flat, nx)).astype(np.int64),
                      sample_street=sample_street.ravel(), sample_ptr=sptr,
                      sample_along=along)
    cache[key] = grid
    return grid


def reached_streets(grid: AccessGrid, gid: np.ndarray, edges: np.ndarray, a: np.ndarray,
                    b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Street cells reached by the stretches [a, b] (network metres) of ``edges`` per
    group ``gid``: ``(group, street cell)`` pairs sorted by group (a pair may repeat)."""
    count = grid.sample_ptr[edges + 1] - grid.sample_ptr[edges]
    first = np.repeat(grid.sample_ptr[edges] - np.cumsum(count) + count, count)
    idx = first + np.arange(count.sum())
    g = np.repeat(gid, count)
    keep = ((grid.sample_along[idx] >= np.repeat(a, count) - 1e-9)
            & (grid.sample_along[idx] <= np.repeat(b, count) + 1e-9))
    g, street = g[keep], grid.sample_street[idx[keep]]
    if len(g) > 1 and (g[1:] < g[:-1]).any():
        order = np.argsort(g, kind="stable")
        g, street = g[order], street[order]
    return g, street


@dataclass(frozen=True)
class CompoundCells:
    """Compounds on an :class:`AccessGrid`: ``cells[row, col]`` is the position of the
    compound holding the cell's centre (``-1``: none), ``box[k]`` the (row0, col0, row1,
    col1) cell range of compound ``k`` (inclusive), ``access`` the grid's access cells
    with compound cells cleared (``-1``) and ``flat[ptr[k]:ptr[k+1]]`` the flat numbers
    of compound ``k``'s cells."""

    cells: np.ndarray
    box: np.ndarray
    access: np.ndarray
    flat: np.ndarray
    ptr: np.ndarray

    @property
    def n(self) -> int:
        return len(self.box)


def compound_cells(grid: AccessGrid, polygons: np.ndarray) -> CompoundCells:
    """Rasterise compound polygons (network metric CRS) onto ``grid`` by cell centres."""
    ny, nx = grid.access.shape
    s = grid.cell_m
    n = len(polygons)
    b = shapely.bounds(polygons)
    c0 = np.clip(np.floor((b[:, 0] - grid.x0) / s), 0, nx - 1).astype(np.int64)
    c1 = np.clip(np.floor((b[:, 2] - grid.x0) / s), 0, nx - 1).astype(np.int64)
    r0 = np.clip(np.floor((b[:, 1] - grid.y0) / s), 0, ny - 1).astype(np.int64)
    r1 = np.clip(np.floor((b[:, 3] - grid.y0) / s), 0, ny - 1).astype(np.int64)
    cells = np.full((ny, nx), -1, dtype=np.int32)
    w = c1 - c0 + 1
    count = (r1 - r0 + 1) * w
    if n:
        k = np.repeat(np.arange(n), count)
        i = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        r, c = r0[k] + i // w[k], c0[k] + i % w[k]
        hit = shapely.contains_xy(polygons[k], grid.x0 + (c + 0.5) * s, grid.y0 + (r + 0.5) * s)
        cells[r[hit], c[hit]] = k[hit]
    flat = np.flatnonzero(cells.ravel() >= 0)
    owner = cells.ravel()[flat]
    order = np.argsort(owner, kind="stable")
    return CompoundCells(cells=cells, box=np.column_stack([r0, c0, r1, c1]),
                         access=np.where(cells >= 0, np.int32(-1), grid.access),
                         flat=flat[order], ptr=np.searchsorted(owner[order], np.arange(n + 1)))


#: One polygon to draw: its reached street cells, its served compounds (positions, or
#: None) and its window of rows and columns [r0, r1) × [c0, c1).
Task = tuple[np.ndarray, np.ndarray | None, tuple[int, int, int, int]]


def _tasks(grid: AccessGrid, g: np.ndarray, street: np.ndarray, comp: CompoundCells | None,
           served: dict[int, np.ndarray]) -> tuple[list[int], list[Task]]:
    """The groups of ``g`` (sorted) and their :data:`Task`: each window holds every cell
    within the trim distance of its street cells, and its served compounds."""
    start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    rc = grid.street_rc[street]
    reach = int(np.ceil(grid.trim_m / grid.cell_m)) + 1
    lo = np.maximum(np.minimum.reduceat(rc, start, axis=0) - reach, 0)
    hi = np.maximum.reduceat(rc, start, axis=0) + reach + 1
    groups = g[start].tolist()
    tasks: list[Task] = []
    for k, (group, streets) in enumerate(zip(groups, np.split(street, start[1:]), strict=True)):
        r0, c0, r1, c1 = int(lo[k, 0]), int(lo[k, 1]), int(hi[k, 0]), int(hi[k, 1])
        sv = served.get(group)
        if comp is not None and sv is not None and len(sv):
            bx = comp.box[sv]
            r0, c0 = min(r0, int(bx[:, 0].min())), min(c0, int(bx[:, 1].min()))
            r1, c1 = max(r1, int(bx[:, 2].max()) + 1), max(c1, int(bx[:, 3].max()) + 1)
        tasks.append((streets, sv, (r0, c0, r1, c1)))
    return groups, tasks


def _mask(grid: AccessGrid, task: Task, reached: np.ndarray, comp: CompoundCells | None
          ) -> np.ndarray:
    """The cells of one polygon in its window, with a border of one empty cell: cells
    whose access cell is one of the task's streets (with ``comp``: not in a compound, or
    in one of its served compounds). ``reached`` is scratch (False, one more than the
    street cells)."""
    streets, served, (r0, c0, r1, c1) = task
    access = grid.access if comp is None else comp.access
    padded = np.zeros((r1 - r0 + 2, c1 - c0 + 2), dtype=bool)
    reached[streets] = True
    padded[1:-1, 1:-1] = reached[access[r0:r1, c0:c1]]  # -1 (none) reads the last: False
    reached[streets] = False
    if comp is not None and served is not None and len(served):
        lo, hi = comp.ptr[served], comp.ptr[served + 1]
        n = hi - lo
        flat = comp.flat[np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())]
        r, c = np.divmod(flat, grid.access.shape[1])
        padded[r - r0 + 1, c - c0 + 1] = True
    return padded


def draw(grid: AccessGrid, comp: CompoundCells | None, tasks: Sequence[Task]) -> np.ndarray:
    """Polygons (network metric CRS) of ``tasks``, traced in one go
    (:mod:`geo.coverage.rings`): each the union of the cells whose access cell is one of
    its street cells, compound cells left out but for those of its served compounds."""
    reached = np.zeros(grid.n_streets + 1, dtype=bool)
    found = []
    for task in tasks:
        i, j, code = corners(_mask(grid, task, reached, comp))
        found.append((i + task[2][0], j + task[2][1], code))
    return polygons(np.repeat(np.arange(len(tasks)), [len(f[0]) for f in found]),
                    np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]),
                    np.concatenate([f[2] for f in found]), len(tasks),
                    x0=grid.x0, y0=grid.y0, cell_m=grid.cell_m)


#: Grids (and compound cells) handed to forked worker processes by key (set before the
#: pool forks).
_SHARED: dict[int, tuple[AccessGrid, CompoundCells | None]] = {}


def share(grid: AccessGrid, comp: CompoundCells | None = None) -> int:
    """Make ``grid`` and ``comp`` visible to worker processes forked after this call;
    returns their key."""
    key = id(grid) ^ (id(comp) << 1)
    _SHARED[key] = (grid, comp)
    return key


def _draw(key: int, tasks: Sequence[Task]) -> np.ndarray:
    grid, comp = _SHARED[key]
    return draw(grid, comp, tasks)


def detailed_polygons(grid: AccessGrid, gid: np.ndarray, edges: np.ndarray, a: np.ndarray,
                      b: np.ndarray, *, comp: CompoundCells | None = None,
                      served: dict[int, np.ndarray] | None = None, key: int = 0,
                      pool: Executor | None = None) -> dict[Any, Any]:
    """Detailed polygons of the stretches [a, b] of ``edges`` per group ``gid``: keys are
    the groups, values (Multi)Polygons in the network's metric CRS, or futures of lists of
    them (batches of ``_BATCH`` groups, keyed by a tuple of groups) when ``pool`` is given (forked
    after :func:`share`, whose ``key`` to pass). With ``comp``, compound cells are left
    out of every polygon except those of the compounds ``served[group]`` (positions)."""
    g, street = reached_streets(grid, gid, edges, a, b)
    if len(g) == 0:
        return {}
    groups, tasks = _tasks(grid, g, street, comp, served or {})
    if pool is None:
        return dict(zip(groups, draw(grid, comp, tasks), strict=True))
    return {tuple(groups[i:i + _BATCH]): pool.submit(_draw, key, tasks[i:i + _BATCH])
            for i in range(0, len(groups), _BATCH)}
