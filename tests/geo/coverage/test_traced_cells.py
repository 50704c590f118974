"""Circles traced along cell edges equal the union of their cells, cell by cell.

The references here are written independently of geo/coverage/rings.py: the
checkerboard rule as a plain loop over whole arrays (the construction the circles used
before the tracer), the union of the cells as GEOS' coverage union of one square per
cell, and — on a demo city and a small street network — the reached street cells from a
plain Dijkstra (scipy, from both ends of the service point's edge) tested sample by
sample, every cell of the whole grid then tested against its access cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from geo.coverage.analysis import (
    compound_access,
    coverage_by_compound,
    coverage_circles,
    thresholds,
)
from geo.coverage.detailed import access_grid, compound_cells
from geo.coverage.rings import corners, polygons
from geo.network.graph import StreetNetwork
from geo.network.snapping import point_array, snap_xy

X0, Y0, CELL = 1000.0, 2000.0, 10.0


def _fill_checkerboards(mask: np.ndarray) -> np.ndarray:
    """Reference: fill one empty cell of every 2 × 2 checkerboard, all at once, again
    until none is left (lower right when lower left is taken, else lower left)."""
    m = np.pad(mask, 1)
    while True:
        a, b, c, d = m[:-1, :-1], m[:-1, 1:], m[1:, :-1], m[1:, 1:]
        diag, anti = a & d & ~b & ~c, b & c & ~a & ~d
        if not (diag.any() or anti.any()):
            return m[1:-1, 1:-1]
        m[:-1, 1:] |= diag
        m[:-1, :-1] |= anti


def _cell_union(mask: np.ndarray, x0: float, y0: float, cell: float) -> object:
    """Reference: the coverage union of one square per cell (row 0 at ``y0``)."""
    r, c = np.nonzero(mask)
    if len(r) == 0:
        return shapely.Polygon()
    return shapely.coverage_union_all(shapely.box(x0 + c * cell, y0 + r * cell,
                                                  x0 + (c + 1) * cell, y0 + (r + 1) * cell))


def _traced(masks: list[np.ndarray], offsets: list[tuple[int, int]]
            ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The tracer's polygons of ``masks`` placed at (row, col) ``offsets`` of one grid,
    in one batch, and the masks as filled by :func:`corners`."""
    parts, filled = [], []
    for m, (r0, c0) in zip(masks, offsets, strict=True):
        padded = np.pad(m, 1)
        i, j, code = corners(padded)
        parts.append((i + r0, j + c0, code))
        filled.append(padded[1:-1, 1:-1])
    out = polygons(np.repeat(np.arange(len(masks)), [len(p[0]) for p in parts]),
                   np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                   np.concatenate([p[2] for p in parts]), len(masks), x0=X0, y0=Y0, cell_m=CELL)
    return out, filled


def _assert_same(poly: object, mask: np.ndarray, x0: float, y0: float) -> None:
    ref = _cell_union(mask, x0, y0, CELL)
    assert shapely.is_valid(poly), shapely.is_valid_reason(poly)
    assert shapely.area(poly) == pytest.approx(mask.sum() * CELL**2, abs=1e-6)
    assert shapely.area(shapely.symmetric_difference(poly, ref)) < 1e-6
    rows, cols = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    inside = shapely.contains_xy(poly, x0 + (cols + 0.5) * CELL, y0 + (rows + 0.5) * CELL)
    assert (inside == mask).all()


@pytest.mark.parametrize("seed", range(4))
def test_traced_masks_equal_the_union_of_their_cells(seed: int) -> None:
    rng = np.random.default_rng(seed)
    masks = [rng.random(tuple(rng.integers(1, 50, 2))) < rng.uniform(0.05, 0.95)
             for _ in range(30)]
    masks += [np.zeros((4, 6), dtype=bool), np.ones((3, 3), dtype=bool)]
    # nested parts: a ring of cells holding a hole holding an island holding a hole
    nest = np.zeros((11, 11), dtype=bool)
    for k in range(0, 5, 2):
        nest[k:11 - k, k:11 - k] = True
        nest[k + 1:10 - k, k + 1:10 - k] = False
    masks.append(nest)
    offsets = [tuple(int(v) for v in rng.integers(0, 200, 2)) for _ in masks]
    out, filled = _traced(masks, offsets)  # type: ignore[arg-type]
    assert any(g.geom_type == "MultiPolygon" for g in out)
    assert any(shapely.get_num_interior_rings(shapely.get_parts(g)).sum() > 0 for g in out)
    for g, m, f, (r0, c0) in zip(out, masks, filled, offsets, strict=True):
        assert (f == _fill_checkerboards(m)).all()  # the fill rule as before
        _assert_same(g, f, X0 + c0 * CELL, Y0 + r0 * CELL)
    assert out[-2].geom_type == "Polygon" and out[-3].is_empty


def _reached_streets(net: StreetNetwork, grid, xy: tuple[float, float], budget: float
                     ) -> np.ndarray:
    """Street cells with a sample within ``budget`` of the point (Dijkstra from both ends
    of its edge, the snap distance included, its own edge walked directly)."""
    s = snap_xy(net, shapely.points([xy]))
    e, off, snap = int(s.edge[0]), float(s.offset_m[0]), float(s.snap_m[0])
    length = net.edge_length_m[e]
    du, dv = dijkstra(net.graph, directed=False, indices=[net.edge_u[e], net.edge_v[e]])
    d = np.minimum(snap + off + du, snap + length - off + dv)
    edge = np.repeat(np.arange(net.n_edges), np.diff(grid.sample_ptr))
    along = grid.sample_along
    t = np.minimum(d[net.edge_u[edge]] + along,
                   d[net.edge_v[edge]] + net.edge_length_m[edge] - along)
    t = np.where(edge == e, np.minimum(t, snap + np.abs(along - off)), t)
    return np.unique(grid.sample_street[t <= budget + 1e-9])


def _check_circles(net: StreetNetwork, services, compounds, id_col: str, minutes: float,
                   sample: int) -> int:
    """Every one of ``sample`` circles against the per-cell rule on the whole grid."""
    cov = coverage_by_compound(compounds, compound_access(net, compounds, services,
                                                          id_col=id_col).table,
                               thresholds(net, minutes=[minutes]), id_col=id_col)
    circles = coverage_circles(net, services, compounds, cov, minutes=[minutes], id_col=id_col)
    grid = access_grid(net, cell_m=10.0, trim_m=100.0)
    comp = compound_cells(grid, np.asarray(shapely.make_valid(
        net.to_metric(compounds, "compounds").geometry.to_numpy()), dtype=object))
    pos = pd.Series(np.arange(len(compounds)), index=compounds[id_col].to_numpy())
    inside = cov[cov["status"] == "inside"]
    pts, _ = point_array(net, services, "services")
    checked = 0
    for k in range(min(sample, len(services))):
        row = circles.iloc[k]
        if not row["snapped"]:
            continue
        xy = shapely.get_coordinates(pts[k])[0]
        streets = _reached_streets(net, grid, (xy[0], xy[1]), row["budget_m"])
        served = pos.reindex(inside.loc[inside["nearest_id"] == row["service_id"],
                                        "compound_id"]).dropna().to_numpy(dtype=np.int64)
        mask = ((np.isin(grid.access, streets) & (comp.cells < 0))
                | np.isin(comp.cells, served))
        _assert_same(row.geometry, _fill_checkerboards(mask), grid.x0, grid.y0)
        checked += 1
    return checked


def test_demo_circles_equal_their_cells_by_brute_force() -> None:
    from geo.demo import demo_cities

    city = demo_cities()[0]
    net = StreetNetwork.from_edges(city.nodes, city.edges, mode="walk",
                                   metric_epsg=city.metric_epsg)
    svc = city.layers["service_point"].rename(columns={"external_id": "id"})
    comp = city.layers["compound"].rename(columns={"external_id": "id"})
    assert _check_circles(net, svc, comp, "id", 15, sample=6) >= 5


def test_small_city_circles_equal_their_cells_by_brute_force() -> None:
    from benchmarks.common import UTM, generated_city
    from benchmarks.coverage import _compound_polygons

    nodes, edges, services, points = generated_city(side=20, n_services=6, n_compounds=60)
    net = StreetNetwork.from_edges(nodes, edges, mode="walk", metric_epsg=UTM)
    assert _check_circles(net, services, _compound_polygons(points), "id", 5, sample=6) == 6
