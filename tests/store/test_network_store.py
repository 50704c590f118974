"""Writing and reading the street network and cities."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box
from sqlalchemy import text

from geo.errors import CRSError, InvalidInputError, NotFoundError
from geo.store.cities import create_city, data_version, get_city, list_cities
from geo.store.network import read_network, read_network_frames, write_network

BOUNDS = box(116.30, 39.99, 116.31, 40.00)


def _network() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    pts = {1: (116.300, 39.990), 2: (116.301, 39.990), 3: (116.301, 39.991)}
    nodes = gpd.GeoDataFrame({"node_id": [1, 2, 3], "osm_id": [11, 12, None]},
                             geometry=[Point(p) for p in pts.values()], crs=4326)
    edges = gpd.GeoDataFrame(
        {"edge_id": [1, 2], "u": [1, 2], "v": [2, 3], "osm_way_id": [100, 101],
         "length_m": [85.3, 111.0], "highway": ["residential", "footway"], "name": ["成府路", None],
         "walk": [True, True], "ride": [True, False]},
        geometry=[LineString([pts[1], pts[2]]), LineString([pts[2], pts[3]])], crs=4326)
    return nodes, edges


def test_create_city_defaults_metric_crs_to_utm_zone(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    assert city.metric_epsg == 32650  # 116.3°E is UTM zone 50N


def test_create_city_is_an_upsert_by_code(conn):
    a = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    b = create_city(conn, "t-city", name_zh="测试二", name_en="Test 2", bounds=BOUNDS,
                    metric_epsg=4547)
    assert (b.id, b.name_zh, b.metric_epsg) == (a.id, "测试二", 4547)
    assert get_city(conn, "t-city") == b
    assert [c.code for c in list_cities(conn)].count("t-city") == 1


def test_create_city_rejects_bad_code(conn):
    with pytest.raises(InvalidInputError):
        create_city(conn, "Bad Code", name_zh="x", name_en="x", bounds=BOUNDS)


def test_get_city_unknown_lists_known_codes(conn):
    create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    with pytest.raises(NotFoundError, match="t-city"):
        get_city(conn, "nowhere")


def test_network_round_trip(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    nodes, edges = _network()
    write_network(conn, city.id, nodes, edges)
    n2, e2 = read_network_frames(conn, city.id)
    assert n2["node_id"].tolist() == [1, 2, 3]
    assert n2["osm_id"].tolist()[:2] == [11, 12] and n2["osm_id"].isna().tolist()[2]
    assert e2[["u", "v", "osm_way_id"]].values.tolist() == [[1, 2, 100], [2, 3, 101]]
    assert e2["length_m"].tolist() == [85.3, 111.0]
    assert e2["name"].tolist() == ["成府路", None]
    assert e2.geometry.iloc[1].equals(edges.geometry.iloc[1])
    assert e2.crs.to_epsg() == 4326


def test_read_network_by_mode_filters_edges_and_nodes(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    write_network(conn, city.id, *_network())
    nodes, edges = read_network_frames(conn, city.id, mode="ride")
    assert edges["edge_id"].tolist() == [1]
    assert nodes["node_id"].tolist() == [1, 2]


def test_read_network_builds_the_street_network_of_the_mode(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    write_network(conn, city.id, *_network())
    walk = read_network(conn, city.id, mode="walk", metric_epsg=32650)
    ride = read_network(conn, city.id, mode="ride", speed_m_per_min=200.0)
    assert (walk.mode, walk.n_edges, walk.metric_epsg) == ("walk", 2, 32650)
    assert (ride.mode, ride.n_edges, ride.speed_m_per_min) == ("ride", 1, 200.0)


def test_read_network_of_a_city_without_streets_is_an_error(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    with pytest.raises(InvalidInputError, match="no walk street network"):
        read_network(conn, city.id)


def test_write_network_replaces_previous_rows(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    nodes, edges = _network()
    write_network(conn, city.id, nodes, edges)
    write_network(conn, city.id, nodes, edges.iloc[:1])
    assert len(read_network_frames(conn, city.id)[1]) == 1


def test_write_network_bumps_data_version(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    before = data_version(conn, ["street_edge"])["street_edge"]
    write_network(conn, city.id, *_network())
    assert data_version(conn, ["street_edge"])["street_edge"] > before


def test_write_network_reports_every_problem(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    nodes, edges = _network()
    edges.loc[0, "v"] = 99
    edges.loc[1, ["walk", "ride"]] = [False, False]
    with pytest.raises(InvalidInputError) as info:
        write_network(conn, city.id, nodes, edges)
    assert {p.field for p in info.value.errors} == {"v", "walk"}


def test_write_network_requires_wgs84(conn):
    city = create_city(conn, "t-city", name_zh="测试", name_en="Test", bounds=BOUNDS)
    nodes, edges = _network()
    with pytest.raises(CRSError):
        write_network(conn, city.id, nodes.to_crs(32650), edges)


def test_data_version_unknown_table(conn):
    with pytest.raises(NotFoundError):
        data_version(conn, ["no_such_table"])


def test_data_version_of_a_table_never_changed_is_zero(conn):
    conn.execute(text("CREATE TEMP TABLE never_changed (x int)"))
    assert data_version(conn, ["never_changed"]) == {"never_changed": 0}
