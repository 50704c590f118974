import itertools

import numpy as np
import pytest
import shapely

from geo.coverage.circles import service_circles, substrings, union_by_type
from geo.network.graph import StreetNetwork
from tests.support.netkit import X0, Y0, network, points


def _svc(xy, types=None):
    return points(xy, id=[f"s{i}" for i in range(len(xy))],
                  type=types or ["red_station"] * len(xy))


def _local(geom):
    return shapely.affinity.translate(geom, -X0, -Y0)


def test_circle_follows_the_street_to_the_budget(line_net: StreetNetwork) -> None:
    c = service_circles(line_net, _svc([(50.0, 0.0)]), minutes=None, metres=[100],
                        trim_m=30, cell_m=5, crs=32650)
    g = _local(c.geometry.iloc[0])
    assert c["street_m"].iloc[0] == pytest.approx(150.0, abs=1e-6)  # x from 0 to 150
    assert g.contains(shapely.Point(145, 20)) and g.contains(shapely.Point(-5, 0))
    assert not g.contains(shapely.Point(160, 0)) and not g.contains(shapely.Point(100, 40))
    # a band 2 × 30 m wide (+ the 5 m street cell: distances run between cell centres)
    # cut square where the reach ends, a half disk beyond the end node
    assert g.area == pytest.approx(150 * 65 + np.pi * 32.5**2 / 2, rel=0.03)


def test_partially_reached_bent_edge_is_cut_along_its_geometry() -> None:
    import geopandas as gpd

    nodes = points([(0.0, 0.0), (100.0, 100.0)], node_id=[1, 2])
    line = shapely.LineString([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100)])
    edges = gpd.GeoDataFrame({"edge_id": [1], "u": [1], "v": [2], "length_m": [200.0]},
                             geometry=[line], crs=32650).to_crs(4326)
    net = StreetNetwork.from_edges(nodes, edges, metric_epsg=32650)
    c = service_circles(net, _svc([(0.0, 0.0)]), minutes=[2.0], trim_m=20, cell_m=5,
                        crs=32650)
    g = _local(c.geometry.iloc[0])  # 2 min × 75 m/min = 150 m: up to (100, 50)
    assert g.contains(shapely.Point(100, 40))
    assert not g.contains(shapely.Point(100, 60))
    assert c["street_m"].iloc[0] == pytest.approx(150.0, abs=1e-6)


def test_land_between_streets_takes_its_nearest_street() -> None:
    # two parallel streets 60 m apart, joined only 500 m away: the land between them is
    # split half-way, each half taking the walk of its own street
    net = network({1: (0, 0), 2: (500, 0), 3: (500, 60), 4: (0, 60)},
                  [(1, 2), (2, 3), (3, 4)])
    c = service_circles(net, _svc([(0.0, 0.0)]), minutes=None, metres=[300], trim_m=100,
                        cell_m=5, crs=32650)
    g = _local(c.geometry.iloc[0])
    assert g.contains(shapely.Point(250, 0)) and g.contains(shapely.Point(100, 22))
    assert not g.contains(shapely.Point(100, 38))  # nearer the unreached street
    assert not g.contains(shapely.Point(0, 60))  # 60 m away in a straight line
    assert g.contains(shapely.Point(100, -90)) and not g.contains(shapely.Point(100, -110))


def test_other_network_part_is_never_covered(line_net: StreetNetwork) -> None:
    c = service_circles(line_net, _svc([(150.0, 0.0)]), minutes=[15], trim_m=20, crs=32650)
    g = _local(c.geometry.iloc[0])
    assert not g.intersects(shapely.Point(550, 0))


def test_thresholds_nest(line_net: StreetNetwork) -> None:
    c = service_circles(line_net, _svc([(20.0, 0.0)]), minutes=[1, 2], crs=32650)
    a1, a2 = c.geometry.area.tolist()
    assert a1 < a2
    assert c["budget_m"].tolist() == [75.0, 150.0]


def test_unsnapped_service_gives_a_row_without_geometry(line_net: StreetNetwork) -> None:
    c = service_circles(line_net, _svc([(50.0, 900.0)]), minutes=[5])
    assert len(c) == 1 and not c["snapped"].iloc[0] and c.geometry.iloc[0] is None


def test_union_per_type(line_net: StreetNetwork) -> None:
    c = service_circles(line_net, _svc([(20.0, 0.0), (180.0, 0.0), (550.0, 0.0)],
                                       ["a", "a", "b"]), minutes=[1], crs=32650)
    u = union_by_type(c)
    assert u["n_points"].tolist() == [2, 1]
    a = u.set_index("type").geometry
    assert a["a"].area == pytest.approx(c.geometry.iloc[:2].union_all().area)


def test_substrings_cut_between_vertices() -> None:
    line = shapely.LineString([(0, 0), (10, 0), (10, 10)])
    out = substrings(np.array([line]), np.array([5.0]), np.array([15.0]))
    assert shapely.get_coordinates(out[0]).tolist() == [[5, 0], [10, 0], [10, 5]]


def test_reach_without_polygons_returns_street_stretches(line_net: StreetNetwork) -> None:
    c = service_circles(line_net, _svc([(50.0, 0.0)]), minutes=None, metres=[100],
                        polygons=False, crs=32650)
    g = c.geometry.iloc[0]
    assert g.geom_type == "MultiLineString"
    assert g.length == pytest.approx(150.0, abs=1e-6)


def test_merge_spans_joins_overlaps_per_group_and_edge() -> None:
    from geo.coverage.circles import merge_spans

    g, e, a, b = merge_spans(np.array([0, 0, 0, 1]), np.array([5, 5, 5, 5]),
                             np.array([0.0, 30.0, 80.0, 10.0]), np.array([40.0, 50.0, 90.0, 20.0]))
    assert list(zip(g, e, a, b)) == [(0, 5, 0.0, 50.0), (0, 5, 80.0, 90.0), (1, 5, 10.0, 20.0)]


def test_two_processes_draw_the_same_circles() -> None:
    from tests.support.netkit import grid_network

    net = grid_network()
    svc = _svc([(430.0, 520.0), (100.0, 900.0), (800.0, 200.0)])
    one = service_circles(net, svc, minutes=[5, 10], crs=32650)
    two = service_circles(net, svc, minutes=[5, 10], crs=32650, workers=2)
    assert all(a.equals(b) for a, b in zip(one.geometry, two.geometry, strict=True))


def test_threshold_order_does_not_change_the_circles() -> None:
    from tests.support.netkit import grid_network

    net = grid_network()
    svc = _svc([(430.0, 520.0), (100.0, 900.0)])
    up = service_circles(net, svc, minutes=[5, 10, 15], crs=net.metric_epsg)
    mixed = service_circles(net, svc, minutes=[15, 5, 10], crs=net.metric_epsg)
    by = {(r.service_id, r.minutes): r.geometry for r in mixed.itertuples()}
    assert all(r.geometry.equals(by[(r.service_id, r.minutes)]) for r in up.itertuples())


@pytest.mark.parametrize("index", [0, 1])
def test_circles_are_valid_and_nested_on_the_demo_cities(index: int) -> None:
    from geo.demo import demo_cities

    city = demo_cities()[index]
    net = StreetNetwork.from_edges(city.nodes, city.edges, mode="walk",
                                   metric_epsg=city.metric_epsg)
    svc = city.layers["service_point"].iloc[:40]
    c = service_circles(net, svc, minutes=[5, 10, 15], service_id_col="external_id",
                        crs=net.metric_epsg)
    assert c.geometry.dropna().is_valid.all()
    for _, grp in c.dropna(subset=["geometry"]).groupby("service_id"):
        g = grp.sort_values("budget_m").geometry.tolist()
        assert all(a.difference(b).area < 1e-6 for a, b in itertools.pairwise(g))
