"""Detailed service-area polygons against a brute-force computation of their rule.

The rule (geo/coverage/detailed.py): a place within the trim distance of a street takes
the walk time of its nearest street point; it is inside the circle when that time is
within the budget. The reference below finds every probe's nearest street point exactly
(shapely, edge by edge), walks there with a plain Dijkstra (heapq, written here) from the
service point's own place on its street, and decides. Probes whose answer depends on
where a boundary falls within about one cell (near the trim distance, near the budget,
or between two streets of different status) are left out; enough remain in each class.
"""

from __future__ import annotations

import heapq

import numpy as np
import shapely

from geo.coverage.circles import service_circles
from tests.support.netkit import X0, Y0, network, points

CELL = 5.0
TRIM = 40.0
BUDGET = 260.0


def _streets() -> tuple[dict[int, tuple[float, float]], list[tuple[int, int]]]:
    """Irregular blocks 60–140 m across, a diagonal, a dead end and a loose part."""
    coords = {1: (0, 0), 2: (120, 0), 3: (200, 0), 4: (0, 90), 5: (120, 100), 6: (200, 130),
              7: (0, 200), 8: (60, 200), 9: (200, 200), 10: (260, 60), 11: (400, 300),
              12: (460, 300)}
    pairs = [(1, 2), (2, 3), (1, 4), (2, 5), (3, 6), (4, 5), (5, 6), (4, 7), (7, 8),
             (8, 9), (6, 9), (5, 8), (3, 10), (11, 12)]
    return coords, pairs


def _dijkstra(adj: dict[int, list[tuple[int, float]]], start: dict[int, float]
              ) -> dict[int, float]:
    dist = dict(start)
    heap = [(d, n) for n, d in start.items()]
    heapq.heapify(heap)
    while heap:
        d, n = heapq.heappop(heap)
        if d > dist.get(n, np.inf):
            continue
        for m, w in adj.get(n, []):
            if d + w < dist.get(m, np.inf):
                dist[m] = d + w
                heapq.heappush(heap, (d + w, m))
    return dist


def test_detailed_polygon_follows_the_trim_rule() -> None:
    coords, pairs = _streets()
    net = network(coords, pairs)
    service = (150.0, 4.0)  # near edge 2–3, 4 m off the street
    svc = points([service], id=["s"], type=["red_station"])
    circle = service_circles(net, svc, minutes=None, metres=[BUDGET], trim_m=TRIM,
                             cell_m=CELL, crs=net.metric_epsg).geometry.iloc[0]
    circle = shapely.affinity.translate(circle, -X0, -Y0)

    lines = [shapely.LineString([coords[u], coords[v]]) for u, v in pairs]
    adj: dict[int, list[tuple[int, float]]] = {}
    for (u, v), line in zip(pairs, lines, strict=True):
        adj.setdefault(u, []).append((v, line.length))
        adj.setdefault(v, []).append((u, line.length))
    # the service point enters its street where it is nearest to it
    sp = shapely.Point(service)
    own = int(np.argmin([line.distance(sp) for line in lines]))
    snap = lines[own].distance(sp)
    off = lines[own].project(sp)
    u0, v0 = pairs[own]
    dist = _dijkstra(adj, {u0: snap + off, v0: snap + lines[own].length - off})

    def time_at(k: int, along: float) -> float:
        u, v = pairs[k]
        t = min(dist.get(u, np.inf) + along, dist.get(v, np.inf) + lines[k].length - along)
        if k == own:
            t = min(t, snap + abs(along - off))
        return t

    rng = np.random.default_rng(11)
    probes = rng.uniform([-80, -80], [540, 380], size=(4000, 2))
    kept = {"inside": 0, "beyond_budget": 0, "beyond_trim": 0}
    for x, y in probes:
        p = shapely.Point(x, y)
        d = np.array([line.distance(p) for line in lines])
        near = float(d.min())
        if abs(near - TRIM) < 2 * CELL:
            continue
        if near > TRIM:
            assert not circle.contains(p), (x, y)
            kept["beyond_trim"] += 1
            continue
        # every street point about as near as the nearest must agree on the answer
        cand = np.flatnonzero(d <= near + 2 * CELL)
        times = [time_at(int(k), lines[k].project(p)) for k in cand]
        if any(abs(t - BUDGET) < 3 * CELL for t in times):
            continue
        inside = {t <= BUDGET for t in times}
        if len(inside) > 1:
            continue
        expected = inside.pop()
        assert circle.contains(p) == expected, (x, y, near, times)
        kept["inside" if expected else "beyond_budget"] += 1
    assert min(kept.values()) >= 200, kept
