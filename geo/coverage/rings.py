"""Polygons of cell masks, traced along the cells' edges (no polygon overlay).

A *mask* is a boolean raster of square cells, row 0 at the bottom. Its union of cells is
bounded by rings running along cell edges; every ring turns only at a *corner*: a grid
vertex whose 2 × 2 cells hold one or three cells of the mask (an odd count). With no
*checkerboard* (two cells, or two holes, touching only at a vertex — filled first by
:func:`corners`), every vertex lies on at most one ring, so the rings are simple
and disjoint: the union is a valid (Multi)Polygon with exactly these rings.

Tracing, vectorised over many masks at once: along a row of vertices the boundary is
switched on and off by each corner in turn, so corners pair up left to right (and along
a column bottom to top); each corner leaves along its row or its column, so that the
mask lies on the left (shells counter-clockwise, holes clockwise); list ranking by
pointer doubling orders each ring. A hole belongs to the smallest shell of its mask that
holds one of its vertices. The result is the same point set as the union of the cells
(``shapely.coverage_union_all`` of their squares), with no vertex but the corners.
"""

from __future__ import annotations

import numpy as np
import shapely

#: 2 × 2 code of a vertex: 1 lower left, 2 lower right, 4 upper left, 8 upper right cell.
#: Corners leaving along their row (the others leave along their column).
_ALONG_ROW = np.zeros(16, dtype=bool)
_ALONG_ROW[[1, 8, 11, 13]] = True


def corners(padded: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corners of a mask given with a border of one empty cell (``padded``, bool, C
    order): ``(i, j, code)`` with vertex (i, j) the lower-left corner of mask cell
    (i, j), in row-major order.

    Checkerboards are filled first, in place, until none is left: at each (all at once,
    then again) the lower-right cell when the lower-left and upper-right ones are taken,
    else the lower-left one — so no two cells (or two holes) touch only at a vertex and
    the union of the cells is a valid polygon.
    """
    w = padded.shape[1]
    f = padded.reshape(-1)
    while True:
        col = f[:-w] ^ f[w:]  # each vertex: lower left ^ upper left
        n = len(col) - 1
        checker = np.flatnonzero(col[:-1] & col[1:] & (f[:n] ^ f[1:n + 1]))
        if len(checker) == 0:
            break
        f[checker + f[checker]] = True  # lower left taken: fill lower right, else it
    k = np.flatnonzero(col[:-1] ^ col[1:])  # an odd number of the four cells
    code = (f[k].view(np.uint8) | (f[k + 1].view(np.uint8) << 1)
            | (f[k + w].view(np.uint8) << 2) | (f[k + w + 1].view(np.uint8) << 3))
    i, j = np.divmod(k, w)
    return i, j, code


def _rank(succ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a permutation ``succ``: each element's cycle head (its smallest element) and
    the steps from the element forward to it (pointer doubling)."""
    n = len(succ)
    head = np.arange(n)
    steps = np.zeros(n, dtype=np.int64)
    nxt = succ.copy()
    span = 1
    while True:
        ahead = head[nxt]
        better = ahead < head
        if not better.any():  # nothing changed: every window holds its whole cycle
            return head, steps
        head = np.where(better, ahead, head)
        steps = np.where(better, span + steps[nxt], steps)
        nxt = nxt[nxt]
        span *= 2


def polygons(mask_of: np.ndarray, i: np.ndarray, j: np.ndarray, code: np.ndarray, n: int,
             *, x0: float, y0: float, cell_m: float) -> np.ndarray:
    """The (Multi)Polygon of each of ``n`` masks from their corners (:func:`corners`,
    vertex numbers of one grid whose vertex (0, 0) is at ``x0, y0``, ``cell_m`` apart),
    grouped by mask (``mask_of``, ascending) and row-major within each; masks without
    corners are empty Polygons."""
    out = np.array([shapely.Polygon() for _ in range(n)], dtype=object)
    m = len(i)
    if m == 0:
        return out
    i, j = i.astype(np.int64), j.astype(np.int64)
    pair = np.arange(m) ^ 1  # along a row: corners pair up left to right
    by_col = np.argsort(mask_of.astype(np.int64) * (int(j.max()) + 1) + j, kind="stable")
    up = np.empty(m, dtype=np.int64)
    up[by_col[0::2]], up[by_col[1::2]] = by_col[1::2], by_col[0::2]
    head, steps = _rank(np.where(_ALONG_ROW[code], pair, up))
    length = np.bincount(head, minlength=m)
    heads = np.flatnonzero(length)
    first = np.zeros(m, dtype=np.int64)
    first[heads] = np.cumsum(length[heads]) - length[heads]
    order = np.empty(m, dtype=np.int64)
    order[first[head] + length[head] - 1 - steps] = np.arange(m)  # ring by ring, in turn
    ii, jj = i[order], j[order]
    ring = np.repeat(np.arange(len(heads)), length[heads])
    start = first[heads]
    nxt = np.arange(1, m + 1)
    nxt[start + length[heads] - 1] = start
    area2 = np.add.reduceat(jj * ii[nxt] - jj[nxt] * ii, start)  # twice the signed area
    shell = area2 > 0
    owner = mask_of[heads]
    xy = np.column_stack([x0 + jj * cell_m, y0 + ii * cell_m])
    rings = shapely.linearrings(xy, indices=ring)
    # a hole's polygon: its mask's shell, or (several shells) the smallest holding it
    shells_of = np.bincount(owner[shell], minlength=n)
    poly = np.cumsum(shell) - 1  # shells numbered in ring order; a mask's first is a shell
    many = ~shell & (shells_of[owner] > 1)
    if many.any():
        poly[many] = poly[_owning_shell(np.flatnonzero(many), np.flatnonzero(shell), owner,
                                        rings, xy[start])]
    by_poly = np.lexsort((~shell, poly))
    polys = shapely.polygons(rings[by_poly], indices=poly[by_poly])
    mask_poly = owner[shell]
    count = np.bincount(mask_poly, minlength=n)
    single = count[mask_poly] == 1
    out[mask_poly[single]] = polys[single]
    if (~single).any():
        multi = np.flatnonzero(count > 1)
        out[multi] = shapely.multipolygons(polys[~single], indices=np.searchsorted(
            multi, mask_poly[~single]))
    return out


def _owning_shell(holes: np.ndarray, shells: np.ndarray, owner: np.ndarray,
                  rings: np.ndarray, first_xy: np.ndarray) -> np.ndarray:
    """The shells (ring numbers) of ``holes`` in masks of several shells: the smallest
    shell of the hole's mask holding its first vertex (which lies on no other ring)."""
    cand = shells[np.isin(owner[shells], owner[holes])]
    cand = cand[np.argsort(owner[cand], kind="stable")]
    lo = np.searchsorted(owner[cand], owner[holes], side="left")
    count = np.searchsorted(owner[cand], owner[holes], side="right") - lo
    h = np.repeat(holes, count)
    s = cand[np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())]
    geom = shapely.polygons(rings[s])
    inside = shapely.contains_xy(geom, first_xy[h, 0], first_xy[h, 1])
    pick = np.lexsort((shapely.area(geom), ~inside, h))
    h, s = h[pick], s[pick]
    return s[np.r_[True, h[1:] != h[:-1]]]
