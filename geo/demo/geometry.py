"""Geometry helpers for demo generation; all inputs and outputs in a metric CRS (metres)."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points


def voronoi_partition(seeds: np.ndarray, region: BaseGeometry) -> list[BaseGeometry]:
    """Voronoi cells of ``seeds`` (n×2, metres) clipped to ``region``, in seed order.

    The cells cover ``region`` without overlaps. A single seed gets the whole region.
    """
    if len(seeds) == 1:
        return [region]
    cells = shapely.voronoi_polygons(MultiPoint([tuple(p) for p in seeds]),
                                     extend_to=region.envelope.buffer(1000))
    out: list[BaseGeometry] = []
    parts = list(cells.geoms)
    tree = shapely.STRtree(parts)
    for p in seeds:
        idx = tree.query(Point(p), predicate="intersects")
        cell = parts[int(idx[0])] if len(idx) else Polygon()
        out.append(_polygonal(cell.intersection(region)))
    return out


def _polygonal(g: BaseGeometry) -> BaseGeometry:
    """Keep only the polygon parts of ``g`` (drops slivers of lower dimension)."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    polys = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else Polygon()


def weighted_kmeans(points: np.ndarray, weights: np.ndarray, k: int, *,
                    rng: np.random.Generator, iterations: int = 25) -> np.ndarray:
    """Centres (k×2) of a weighted k-means clustering of ``points`` (n×2); deterministic for ``rng``."""
    k = max(1, min(k, len(points)))
    p = weights / weights.sum()
    centres = points[rng.choice(len(points), size=k, replace=False, p=p)].astype(float)
    for _ in range(iterations):
        d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = d.argmin(axis=1)
        for j in range(k):
            m = label == j
            if m.any():
                centres[j] = np.average(points[m], axis=0, weights=weights[m])
    return centres


def random_points_in(polys: list[BaseGeometry], counts: np.ndarray, *,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``counts[i]`` uniform random points inside ``polys[i]`` (rejection sampling).

    Returns (xy n×2, polygon index n) in polygon order.
    """
    xy: list[np.ndarray] = []
    idx: list[np.ndarray] = []
    for i, (poly, n) in enumerate(zip(polys, counts, strict=True)):
        if n <= 0:
            continue
        minx, miny, maxx, maxy = poly.bounds
        got = np.empty((0, 2))
        shapely.prepare(poly)
        while len(got) < n:
            need = max(16, int((n - len(got)) * 2.5))
            cand = np.column_stack([rng.uniform(minx, maxx, need), rng.uniform(miny, maxy, need)])
            cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
            got = np.vstack([got, cand])
        xy.append(got[:n])
        idx.append(np.full(n, i))
    if not xy:
        return np.empty((0, 2)), np.empty(0, dtype=int)
    return np.vstack(xy), np.concatenate(idx)


def gates_facing(poly: Polygon, streets: shapely.STRtree, street_geoms: np.ndarray, n: int
                 ) -> list[Point]:
    """``n`` (1–3) gate points on ``poly``'s boundary, on the side facing the nearest street.

    The first gate is the boundary point closest to the nearest street; further gates are
    30–40 % of the facing side's length to either side of it along the boundary.
    """
    ring = poly.exterior
    j = int(streets.nearest(poly.centroid))
    street = street_geoms[j]
    first = nearest_points(ring, street)[0]
    d0 = ring.project(first)
    gates = [first]
    step = min(ring.length * 0.12, 60.0)
    for k in range(1, n):
        offset = step if k == 1 else -step
        gates.append(ring.interpolate((d0 + offset) % ring.length))
    return gates
