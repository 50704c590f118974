"""The finder's core against an independent heapq Dijkstra (written here) and brute force.

The oracle snaps points itself (the nearest edge by brute force, the projected point on
it), cuts the edges at the snapped points, links each point to its street by its snap
distance and runs a plain binary-heap Dijkstra from the start: every station's metres,
the k nearest by brute force over all stations, and the route's length."""

from __future__ import annotations

import heapq
import itertools
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.errors import InvalidInputError
from geo.finder import EdgeLookup, StationSet, address_names, nearest_stations
from geo.network.graph import StreetNetwork
from tests.support.netkit import UTM, X0, Y0, grid_network, network, points


def heap_dijkstra(adj: dict[Any, list[tuple[Any, float]]], source: Any) -> dict[Any, float]:
    """Plain Dijkstra with a binary heap: metres from ``source`` to every reached node."""
    dist = {source: 0.0}
    heap = [(0.0, 0, source)]
    tie = itertools.count(1)
    done = set()
    while heap:
        d, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        for nxt, w in adj.get(node, []):
            nd = d + w
            if nd < dist.get(nxt, np.inf):
                dist[nxt] = nd
                heapq.heappush(heap, (nd, next(tie), nxt))
    return dist


def oracle(net: StreetNetwork, start: shapely.Point, stations: gpd.GeoDataFrame,
           max_snap_m: float = 250.0) -> dict[int, float]:
    """Metres from ``start`` (metric CRS) to every station reached (by row position)."""
    edges = net.edges_frame(crs=net.metric_epsg)
    lines = list(edges.geometry)

    def snap(p: shapely.Point) -> tuple[int, float, float] | None:
        d = [ln.distance(p) for ln in lines]
        e = int(np.argmin(d))
        if d[e] > max_snap_m:
            return None
        frac = lines[e].line_locate_point(p, normalized=True)
        return e, frac * float(edges["length_m"].iloc[e]), d[e]

    cuts: dict[int, list[tuple[float, Any]]] = {}
    adj: dict[Any, list[tuple[Any, float]]] = {}

    def link(a: Any, b: Any, w: float) -> None:
        adj.setdefault(a, []).append((b, w))
        adj.setdefault(b, []).append((a, w))

    pts = [("o", start)] + [(("s", j), g) for j, g in
                            enumerate(stations.to_crs(net.metric_epsg).geometry)]
    for name, p in pts:
        s = snap(p)
        if s is None:
            continue
        e, off, d = s
        cuts.setdefault(e, []).append((off, ("at", name)))
        link(name, ("at", name), d)
    for e, r in enumerate(edges.itertuples()):
        chain = [(0.0, ("n", r.u))] + sorted(cuts.get(e, []), key=lambda c: c[0]) + \
            [(r.length_m, ("n", r.v))]
        for (oa, a), (ob, b) in itertools.pairwise(chain):
            if a != b:
                link(a, b, ob - oa)
    dist = heap_dijkstra(adj, "o")
    return {j: dist[("s", j)] for j in range(len(stations)) if ("s", j) in dist}


def _stations(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    st = points(xy, id=list(range(100, 100 + len(xy))),
                name=[f"站{i}" for i in range(len(xy))])
    st["opening_hours"] = "Mo-Su 00:00-24:00"
    st["services"] = [["充电", "饮水"]] * len(xy)
    return st


def _lonlat(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y)], crs=UTM).to_crs(4326).iloc[0]
    return p.x, p.y


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_k_nearest_equals_brute_force_over_a_heap_dijkstra(seed: int) -> None:
    net = grid_network(n=10, spacing=100.0, seed=seed)
    rng = np.random.default_rng(seed)
    st = _stations([tuple(v) for v in rng.uniform(-20, 920, (12, 2))])
    stations = StationSet.from_frame(net, st)
    checked = 0
    for x, y in rng.uniform(0, 900, (8, 2)):
        lon, lat = _lonlat(x, y)
        want = oracle(net, shapely.Point(X0 + x, Y0 + y), st)
        assert want, "the oracle reached no station"
        brute = sorted(want.items(), key=lambda kv: (kv[1], kv[0]))[:4]
        got = nearest_stations(stations, lon, lat, k=4)
        assert len(got.stations) == len(brute)
        for found, (j, metres) in zip(got.stations, brute, strict=True):
            assert found.metres == pytest.approx(metres, abs=1.0)
            assert found.metres == pytest.approx(want[st["id"].tolist().index(
                found.station_id)], abs=1e-6)
        assert [s.metres for s in got.stations] == sorted(s.metres for s in got.stations)
        assert got.n_reachable == len(want)
        checked += 1
    assert checked == 8


def test_route_runs_along_the_streets_from_the_snapped_start_to_the_station() -> None:
    net = grid_network(n=8, spacing=100.0, seed=5)
    st = _stations([(640, 430), (120, 690), (705, 40)])
    stations = StationSet.from_frame(net, st)
    lon, lat = _lonlat(230, 160)
    got = nearest_stations(stations, lon, lat, k=3)
    streets = shapely.union_all(net.edges_frame().geometry.values).buffer(1e-7)
    for s in got.stations:
        line = s.route
        assert line.geom_type == "LineString"
        # starts at the snapped start, ends at the station itself (EPSG:4326)
        assert shapely.Point(line.coords[0]).distance(got.start) < 1e-9
        assert shapely.Point(line.coords[-1]).distance(s.location) < 1e-9
        # all but the last straight leg lies on the streets
        assert streets.covers(shapely.LineString(line.coords[:-1]))
        # its length is the network metres without the straight start leg
        assert s.route_m == pytest.approx(s.metres - got.snap_m, abs=1e-6)


def test_hand_made_network_answers_are_hand_checkable() -> None:
    """A(1)(0,0) — B(2)(100,0) — C(3)(200,0), B — D(4)(100,100); a station on AB and one
    at D; the start at (30, 10): 10 m off AB, 30 m from A."""
    net = network({1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (100, 100)},
                  [(1, 2), (2, 3), (2, 4)])
    st = _stations([(80, -5), (100, 110), (190, 0)])
    stations = StationSet.from_frame(net, st)
    got = nearest_stations(stations, *_lonlat(30, 10), k=3)
    assert [s.station_id for s in got.stations] == [100, 102, 101]
    # along AB directly: 10 (snap) + 50 + 5 (snap)
    assert got.stations[0].metres == pytest.approx(65.0, abs=1e-6)
    # to C: 10 + 70 + 90
    assert got.stations[1].metres == pytest.approx(170.0, abs=1e-6)
    # to D: 10 + 70 + 100 + 10
    assert got.stations[2].metres == pytest.approx(190.0, abs=1e-6)
    assert got.stations[2].minutes == pytest.approx(190.0 / 75.0)
    assert got.snap_m == pytest.approx(10.0)
    assert got.stations[0].services == ("充电", "饮水")
    assert got.stations[0].opening_hours == "Mo-Su 00:00-24:00"


def test_station_on_another_part_of_the_network_is_not_reachable() -> None:
    net = network({1: (0, 0), 2: (100, 0), 3: (500, 0), 4: (600, 0)}, [(1, 2), (3, 4)])
    stations = StationSet.from_frame(net, _stations([(550, 5), (90, 5)]))
    got = nearest_stations(stations, *_lonlat(10, 0), k=2)
    assert [s.station_id for s in got.stations] == [101]
    assert got.n_reachable == 1 and got.n_stations == 2


def test_far_station_is_reported_unsnapped() -> None:
    net = network({1: (0, 0), 2: (100, 0)}, [(1, 2)])
    stations = StationSet.from_frame(net, _stations([(50, 5), (50, 900)]))
    got = nearest_stations(stations, *_lonlat(0, 0), k=2)
    assert got.unsnapped_station_ids == (101,)
    assert [s.station_id for s in got.stations] == [100]


def test_a_point_far_from_every_street_is_a_clear_error() -> None:
    net = network({1: (0, 0), 2: (100, 0)}, [(1, 2)])
    stations = StationSet.from_frame(net, _stations([(50, 5)]))
    with pytest.raises(InvalidInputError, match="more than 250 m from every street") as exc:
        nearest_stations(stations, *_lonlat(50, 800))
    assert exc.value.code == "off-network"
    assert {p.field for p in exc.value.errors} == {"lon", "lat"}


@pytest.mark.parametrize("k", [0, 11])
def test_k_out_of_bounds_is_an_error(k: int) -> None:
    net = network({1: (0, 0), 2: (100, 0)}, [(1, 2)])
    stations = StationSet.from_frame(net, _stations([(50, 5)]))
    with pytest.raises(InvalidInputError, match="k must be"):
        nearest_stations(stations, *_lonlat(0, 0), k=k)


def test_parallel_edges_route_along_the_shorter_one() -> None:
    """Two ways from A to B: a straight 100 m street and a 300 m detour north."""
    nodes = gpd.GeoDataFrame({"node_id": [1, 2]}, geometry=[
        shapely.Point(X0, Y0), shapely.Point(X0 + 100, Y0)], crs=UTM)
    detour = shapely.LineString([(X0, Y0), (X0, Y0 + 100), (X0 + 100, Y0 + 100),
                                 (X0 + 100, Y0)])
    straight = shapely.LineString([(X0, Y0), (X0 + 100, Y0)])
    edges = gpd.GeoDataFrame({"edge_id": [1, 2], "u": [1, 1], "v": [2, 2],
                              "length_m": [300.0, 100.0]}, geometry=[detour, straight],
                             crs=UTM)
    net = StreetNetwork.from_edges(nodes.to_crs(4326), edges.to_crs(4326), metric_epsg=UTM)
    lookup = EdgeLookup.from_network(net)
    assert lookup.edge(np.array([0, 1]), np.array([1, 0])).tolist() == [1, 1]
    # the start beyond A on a stub west, the station beyond B on a stub east
    nodes2 = gpd.GeoDataFrame({"node_id": [1, 2, 3, 4]}, geometry=[
        shapely.Point(X0, Y0), shapely.Point(X0 + 100, Y0), shapely.Point(X0 - 50, Y0),
        shapely.Point(X0 + 150, Y0)], crs=UTM)
    edges2 = gpd.GeoDataFrame(
        {"edge_id": [1, 2, 3, 4], "u": [1, 1, 3, 2], "v": [2, 2, 1, 4],
         "length_m": [300.0, 100.0, 50.0, 50.0]},
        geometry=[detour, straight, shapely.LineString([(X0 - 50, Y0), (X0, Y0)]),
                  shapely.LineString([(X0 + 100, Y0), (X0 + 150, Y0)])], crs=UTM)
    net2 = StreetNetwork.from_edges(nodes2.to_crs(4326), edges2.to_crs(4326), metric_epsg=UTM)
    got = nearest_stations(StationSet.from_frame(net2, _stations([(140, 0)])), *_lonlat(-40, 0))
    s = got.stations[0]
    assert s.metres == pytest.approx(180.0, abs=1e-6)
    assert s.route_m == pytest.approx(180.0, abs=1e-6)


@pytest.mark.parametrize(("typed", "names"), [
    ("建设路12号", ("建设路12号", "建设路")),
    ("春晖家园3栋2单元", ("春晖家园3栋2单元", "春晖家园")),
    ("贵溪市建设路", ("贵溪市建设路", "建设路")),
    ("北京市海淀区成府路", ("北京市海淀区成府路", "成府路")),
    ("锦江公寓", ("锦江公寓",)),
    ("新区花园", ("新区花园",)),
    ("   ", ()),
])
def test_address_names(typed: str, names: tuple[str, ...]) -> None:
    assert address_names(typed) == names


def test_every_demo_station_service_has_both_labels() -> None:
    """The finder shows each service in Chinese and English: the demo's all have a term."""
    from geo.demo.services import PROFILES
    from geo.domain import STATION_SERVICES, station_service_term

    offered = {v for _, services, _, _ in PROFILES.values() for v in services}
    terms = {station_service_term(v) for v in offered}
    assert all(t.builtin and t.en != t.zh for t in terms)
    assert len(terms) == len(offered) <= len(STATION_SERVICES)
    assert station_service_term("Charging").zh == "充电"
    assert station_service_term("charging").zh == "充电"
    assert station_service_term("自定义服务").en == "自定义服务"
