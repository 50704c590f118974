"""The finder run layer on the Guixi demo: routes equal an independent NetworkX Dijkstra
on the stored network to 1 m (walking and riding), k nearest equal brute force, the
nearest agrees with the coverage engine's, the cache follows the data."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import Connection, text

from geo.errors import InvalidInputError, NotFoundError
from geo.network.nearest import nearest_service
from geo.runs import FinderCache, FinderParams, run_find, run_search
from geo.settings import Settings
from geo.store.cities import get_city
from geo.store.finder import read_stations
from geo.store.network import read_network, read_network_frames

N_POINTS = 6



def _oracle(conn: Connection, mode: str, start: shapely.Point, stations: gpd.GeoDataFrame
            ) -> dict[int, float]:
    """Metres (snap distances included) from ``start`` (EPSG:4326) to every station by id:
    NetworkX Dijkstra on the stored edges of ``mode``, cut at the snapped points."""
    city = get_city(conn, "guixi")
    _, edges = read_network_frames(conn, city.id, mode=mode)  # type: ignore[arg-type]
    em = edges.to_crs(city.metric_epsg)
    lines = np.asarray(em.geometry.values, dtype=object)
    tree = shapely.STRtree(lines)
    g = nx.Graph()
    cuts: dict[int, list[tuple[float, object]]] = {}
    pts = gpd.GeoSeries([start, *stations.geometry], crs=4326).to_crs(city.metric_epsg)
    names = ["o", *stations["id"].tolist()]
    for name, p in zip(names, pts, strict=True):
        e = int(tree.query_nearest(p, all_matches=False)[0])
        d = float(lines[e].distance(p))
        if d > 250:
            continue
        frac = lines[e].line_locate_point(p, normalized=True)
        cuts.setdefault(e, []).append((frac * float(em["length_m"].iloc[e]), ("at", name)))
        g.add_edge(name, ("at", name), weight=d)
    for e, r in enumerate(em.itertuples()):
        if r.u == r.v:
            continue
        chain = [(0.0, r.u)] + sorted(cuts.get(e, []), key=lambda c: c[0]) + [(r.length_m, r.v)]
        for (oa, a), (ob, b) in itertools.pairwise(chain):
            w = ob - oa
            if g.has_edge(a, b):
                w = min(w, g[a][b]["weight"])
            g.add_edge(a, b, weight=w)
    dist = nx.single_source_dijkstra_path_length(g, "o", weight="weight")
    return {int(i): float(dist[i]) for i in stations["id"] if i in dist}


def _starts(conn: Connection, mode: str, n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` seeded points 0–40 m beside the stored streets of ``mode`` (EPSG:4326)."""
    city = get_city(conn, "guixi")
    _, edges = read_network_frames(conn, city.id, mode=mode)  # type: ignore[arg-type]
    em = edges.to_crs(city.metric_epsg)
    rng = np.random.default_rng(seed)
    out = []
    for e in rng.choice(len(em), n, replace=False):
        p = em.geometry.iloc[e].interpolate(rng.uniform(0.1, 0.9), normalized=True)
        q = shapely.Point(p.x + rng.uniform(-40, 40), p.y + rng.uniform(-40, 40))
        ll = gpd.GeoSeries([q], crs=city.metric_epsg).to_crs(4326).iloc[0]
        out.append((ll.x, ll.y))
    return out


@pytest.mark.parametrize("mode", ["walk", "ride"])
def test_demo_routes_equal_an_independent_dijkstra_to_one_metre(demo: Connection,
                                                                mode: str) -> None:
    city = get_city(demo, "guixi")
    stations = read_stations(demo, city.id, "courier_station")
    assert len(stations) >= 3
    geod = Geod(ellps="WGS84")
    checked = 0
    for lon, lat in _starts(demo, mode, N_POINTS, seed=11 if mode == "walk" else 12):
        run = run_find(demo, "guixi", FinderParams(lon=lon, lat=lat, service_type="小哥驿站",
                                                   mode=mode, k=3))
        want = _oracle(demo, mode, shapely.Point(lon, lat), stations)
        assert want, "the oracle reached no station"
        brute = sorted(want.items(), key=lambda kv: (kv[1], kv[0]))[:3]
        got = run.result.stations
        assert [s.metres for s in got] == pytest.approx([m for _, m in brute], abs=1.0)
        for s in got:
            assert s.metres == pytest.approx(want[s.station_id], abs=1.0)
            # the drawn line is as long as the network metres after the start leg
            length = geod.geometry_length(s.route)
            assert length == pytest.approx(s.metres - run.result.snap_m,
                                           abs=max(1.0, 1e-3 * s.metres))
        assert run.result.mode == mode
        assert run.result.speed_m_per_min == (250.0 if mode == "ride" else 75.0)
        checked += 1
    assert checked == N_POINTS


def test_nearest_is_the_coverage_engines_nearest(demo: Connection) -> None:
    """One definition: the finder's first station and metres are those of
    :func:`geo.network.nearest_service` (used by coverage and courier reach)."""
    city = get_city(demo, "guixi")
    net = read_network(demo, city.id, mode="walk", metric_epsg=city.metric_epsg)
    stations = read_stations(demo, city.id, "red_station")
    starts = _starts(demo, "walk", 5, seed=3)
    origins = gpd.GeoDataFrame({"o": range(len(starts))},
                               geometry=[shapely.Point(x, y) for x, y in starts], crs=4326)
    table = nearest_service(net, origins, stations, second=False).table
    for (lon, lat), row in zip(starts, table.itertuples(), strict=True):
        run = run_find(demo, city, FinderParams(lon=lon, lat=lat, service_type="red_station",
                                                k=1))
        assert run.result.stations[0].station_id == row.nearest_id
        assert run.result.stations[0].metres == pytest.approx(row.nearest_m, abs=1e-6)


def test_the_cache_serves_until_the_stations_change(demo: Connection) -> None:
    cache = FinderCache()
    p = FinderParams(q="建设路", service_type="courier_station", mode="ride")
    first = run_find(demo, "guixi", p, Settings(), cache=cache)
    again = run_find(demo, "guixi", p, Settings(), cache=cache)
    assert not first.cached and again.cached and len(cache) == 1
    assert again.result.stations == first.result.stations
    nearest = first.result.stations[0].station_id
    demo.execute(text("DELETE FROM service_point WHERE id = :i"), {"i": nearest})
    after = run_find(demo, "guixi", p, Settings(), cache=cache)
    assert not after.cached
    assert nearest not in [s.station_id for s in after.result.stations]


def test_an_address_resolves_to_the_best_place(demo: Connection) -> None:
    found = run_search(demo, "guixi", "建设路12号")
    assert found[0].kind == "street" and found[0].name == "建设路"
    assert found[0].matched == "建设路"
    name = demo.execute(text(
        "SELECT name FROM compound WHERE city_id = (SELECT id FROM city WHERE code = 'guixi') "
        "ORDER BY id LIMIT 1")).scalar_one()
    best = run_search(demo, "guixi", name)[0]
    assert (best.kind, best.name) == ("compound", name)
    run = run_find(demo, "guixi", FinderParams(q=name, service_type="parcel_station"))
    assert run.place is not None and run.place.name == name
    assert (run.result.origin.x, run.result.origin.y) == (best.lon, best.lat)


def test_bad_starts_are_clear_errors(demo: Connection) -> None:
    with pytest.raises(InvalidInputError) as out:
        run_find(demo, "guixi", FinderParams(lon=116.3, lat=40.0))  # Wudaokou, not Guixi
    assert out.value.code == "outside-city"
    with pytest.raises(NotFoundError) as nowhere:
        run_find(demo, "guixi", FinderParams(q="无此地名"))
    assert nowhere.value.code == "no-place"
    with pytest.raises(InvalidInputError, match="not both"):
        run_find(demo, "guixi", FinderParams(lon=117.22, lat=28.3, q="建设路"))
    with pytest.raises(InvalidInputError, match="unknown service type"):
        run_find(demo, "guixi", FinderParams(q="建设路", service_type="小哥驿栈"))
