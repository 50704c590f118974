import numpy as np
import pytest

from geo.network.graph import StreetNetwork
from geo.network.nearest import nearest_service
from geo.network.reach import travel_matrix
from tests.support.netkit import grid_network, network, oracle, points


def _services(xy, types=None):
    return points(xy, id=[f"s{i}" for i in range(len(xy))],
                  type=types or ["red_station"] * len(xy))


def test_mid_edge_to_mid_edge_by_hand(line_net: StreetNetwork) -> None:
    # origin at (20, 0): 80 m to B; service at (150, 10): 50 m from B + 10 m snap
    r = nearest_service(line_net, points([(20.0, 0.0)]), _services([(150.0, 10.0)]))
    row = r.table.iloc[0]
    assert row["nearest_id"] == "s0"
    assert row["nearest_m"] == pytest.approx(140.0, abs=1e-6)
    assert row["nearest_min"] == pytest.approx(140.0 / 75.0, abs=1e-6)


def test_snap_distance_can_be_left_out(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(20.0, 0.0)]), _services([(150.0, 10.0)]),
                        include_snap=False)
    assert r.table["nearest_m"].iloc[0] == pytest.approx(130.0, abs=1e-6)


def test_same_edge_is_walked_directly(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(140.0, 0.0)]), _services([(160.0, 0.0)]))
    assert r.table["nearest_m"].iloc[0] == pytest.approx(20.0, abs=1e-6)


def test_service_exactly_on_a_node(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(30.0, 0.0)]), _services([(100.0, 0.0)]))
    assert r.table["nearest_m"].iloc[0] == pytest.approx(70.0, abs=1e-6)


def test_other_network_part_is_unreachable_inf(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(550.0, 0.0)]), _services([(50.0, 0.0)]))
    row = r.table.iloc[0]
    assert np.isinf(row["nearest_m"]) and not row["reachable"]
    assert row["nearest_id"] is None
    assert bool(row["snapped"])


def test_unsnapped_origin_is_nan_and_reported(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(50.0, 900.0)], cid=["far"]),
                        _services([(50.0, 0.0)]), origin_id_col="cid")
    assert np.isnan(r.table["nearest_m"].iloc[0])
    assert r.unsnapped_origins == ("far",)


def test_unsnapped_service_is_reported_and_not_used(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(20.0, 0.0)]), _services([(50.0, 700.0), (180.0, 0.0)]))
    assert r.unsnapped_services == ("s0",)
    assert r.table["nearest_id"].iloc[0] == "s1"


def test_second_nearest_is_a_different_point(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(20.0, 0.0)]),
                        _services([(60.0, 0.0), (190.0, 0.0), (10.0, 0.0)]))
    row = r.table.iloc[0]
    assert (row["nearest_id"], row["nearest_m"]) == ("s2", pytest.approx(10.0))
    assert (row["second_id"], row["second_m"]) == ("s0", pytest.approx(40.0))


def test_type_without_points_is_inf(line_net: StreetNetwork) -> None:
    r = nearest_service(line_net, points([(20.0, 0.0)]), _services([(60.0, 0.0)]),
                        types=["red_station", "elderly_canteen"])
    t = r.table.set_index("type")
    assert np.isinf(t.loc["elderly_canteen", "nearest_m"])


def test_multipoint_origin_uses_best_gate(line_net: StreetNetwork) -> None:
    import shapely

    gates = points([(0.0, 0.0), (190.0, 0.0)])
    origin = gates.dissolve()
    assert isinstance(origin.geometry.iloc[0], shapely.MultiPoint)
    r = nearest_service(line_net, origin, _services([(200.0, 0.0)]))
    assert r.table["nearest_m"].iloc[0] == pytest.approx(10.0, abs=1e-6)


def test_matches_networkx_oracle_on_a_grid() -> None:
    net = grid_network()
    rng = np.random.default_rng(11)
    sxy = [tuple(p) for p in rng.uniform(-50, 1250, size=(15, 2))]
    oxy = [tuple(p) for p in rng.uniform(-50, 1250, size=(80, 2))] + [(1600.0, 70.0)]
    services, origins = _services(sxy), points(oxy)
    ours = nearest_service(net, origins, services).table
    exp = oracle(net, origins, services)
    np.testing.assert_allclose(ours["nearest_min"], exp["nearest_m"] / 75.0, atol=1e-6)
    np.testing.assert_allclose(ours["second_min"], exp["second_m"] / 75.0, atol=1e-6)
    assert np.isinf(ours["nearest_m"].iloc[-1])


def test_travel_matrix_matches_nearest() -> None:
    net = grid_network()
    rng = np.random.default_rng(5)
    services = _services([tuple(p) for p in rng.uniform(0, 1100, size=(10, 2))])
    origins = points([tuple(p) for p in rng.uniform(0, 1100, size=(40, 2))])
    tm = travel_matrix(net, origins, services, minutes=60)
    dense = tm.to_dense()
    near = nearest_service(net, origins, services).table
    np.testing.assert_allclose(dense.min(axis=1), near["nearest_min"], atol=1e-6)


def test_travel_matrix_cutoff_leaves_far_pairs_out() -> None:
    net = network({1: (0, 0), 2: (1000, 0)}, [(1, 2)])
    tm = travel_matrix(net, points([(0.0, 0.0), (900.0, 0.0)]), _services([(950.0, 0.0)]),
                       metres=100)
    assert tm.to_dense(unit="metres")[:, 0].tolist() == [np.inf, pytest.approx(50.0)]


def test_oracle_with_many_points_per_edge() -> None:
    net = network({1: (0, 0), 2: (300, 0), 3: (300, 300), 4: (0, 300)},
                  [(1, 2), (2, 3), (3, 4), (4, 1)])
    services = _services([(50.0, 0.0), (120.0, 3.0), (290.0, 0.0), (0.0, 200.0)])
    origins = points([(60.0, 0.0), (100.0, 0.0), (300.0, 150.0), (5.0, 290.0), (300.0, 0.0)])
    ours = nearest_service(net, origins, services).table
    exp = oracle(net, origins, services)
    np.testing.assert_allclose(ours["nearest_m"], exp["nearest_m"], atol=1e-6)
    np.testing.assert_allclose(ours["second_m"], exp["second_m"], atol=1e-6)
    assert ours["nearest_id"].tolist() == [f"s{j}" for j in exp["nearest_j"]]


@pytest.mark.parametrize("name", ["guixi_2024", "wudaokou_2017"])
def test_matches_networkx_on_real_networks(name: str) -> None:
    from geo.settings import PROJECT_ROOT

    net = StreetNetwork.from_osm(PROJECT_ROOT / "data" / "osm" / f"{name}.osm")
    edges = net.edges_frame(crs=net.metric_epsg)
    minx, miny, maxx, maxy = edges.total_bounds
    rng = np.random.default_rng(2024)
    import geopandas as gpd
    import shapely

    from geo.network.snapping import snap_points  # noqa: F401  (oracle uses it)

    def rand(k: int) -> gpd.GeoDataFrame:
        xy = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        return gpd.GeoDataFrame(geometry=shapely.points(xy), crs=net.metric_epsg).to_crs(4326)

    services = rand(25)
    services["id"] = [f"s{i}" for i in range(25)]
    services["type"] = "parcel_station"
    origins = rand(150)
    ours = nearest_service(net, origins, services, max_snap_m=300).table
    exp = oracle(net, origins, services, max_snap_m=300)
    np.testing.assert_allclose(ours["nearest_min"], exp["nearest_m"] / 75.0, atol=1e-6)
    np.testing.assert_allclose(ours["second_min"], exp["second_m"] / 75.0, atol=1e-6)
    assert ours["snapped"].sum() > 100


def test_local_blocks_equal_full_rows_within_the_cutoff() -> None:
    from geo.network.reach import local_distance_blocks, source_distance_blocks
    from geo.network.snapping import point_array, snap_xy

    net = grid_network(n=20)
    rng = np.random.default_rng(9)
    pts, _ = point_array(net, _services([tuple(p) for p in rng.uniform(0, 1900, (30, 2))]))
    s = snap_xy(net, pts)
    full = {}
    for pos, d in source_distance_blocks(net, s, limit_m=400.0, chunk=7):
        for p, row in zip(pos, d, strict=True):
            full[p] = np.where(row <= 400.0, row, np.inf)
    seen = 0
    for blk in local_distance_blocks(net, s, limit_m=400.0, chunk=7):
        got = blk.cols(np.arange(net.n_nodes))
        for p, row in zip(blk.pos, got, strict=True):
            np.testing.assert_allclose(np.where(row <= 400.0, row, np.inf), full[p], atol=1e-9)
            seen += 1
    assert seen == 30
