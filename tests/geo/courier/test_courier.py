"""Courier-station reach: hand-checkable cases and a NetworkX oracle (grids and demo)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import Connection, Engine

from geo.courier.reach import PRESETS, CourierReach, preset, station_reach
from geo.errors import InvalidInputError
from geo.network.graph import StreetNetwork
from geo.network.snapping import snap_points
from tests.support.netkit import X0, Y0, grid_network, network, points

UTM = 32650


def _compounds(xs: list[float], residents: list[int], *, ys: list[float] | None = None
               ) -> gpd.GeoDataFrame:
    """20 m squares north of the street at ``xs``, each with one gate on the street
    (y = 0, or ``ys``); ids 1, 2, …; households = residents / 2.5."""
    ys = ys or [0.0] * len(xs)
    polys = [shapely.box(X0 + x - 10, Y0 + y + 5, X0 + x + 10, Y0 + y + 25)
             for x, y in zip(xs, ys, strict=True)]
    gates = [shapely.MultiPoint([(X0 + x, Y0 + y)]) for x, y in zip(xs, ys, strict=True)]
    g = gpd.GeoDataFrame({"id": list(range(1, len(xs) + 1)), "residents": residents,
                          "households": [r / 2.5 for r in residents]}, geometry=polys, crs=UTM)
    g["gates"] = gpd.GeoSeries(gates, crs=UTM).to_crs(4326).to_numpy()
    return g.to_crs(4326)


def _stations(xy: list[tuple[float, float]], ids: list[str] | None = None) -> gpd.GeoDataFrame:
    return points(xy, id=ids or [chr(ord("a") + i) for i in range(len(xy))])


@pytest.fixture
def two(line_net: StreetNetwork) -> CourierReach:
    """Stations a (0,0) and b (200,0); compounds 1 at x=50 (100 people), 2 at x=130 (200)."""
    return station_reach(line_net, _stations([(0, 0), (200, 0)]),
                         _compounds([50, 130], [100, 200]), metres=140)


def test_station_reaches_compounds_within_the_budget(two: CourierReach) -> None:
    # a: 50 m to 1, 130 m to 2; b: 150 m to 1 (> 140), 70 m to 2
    p = {(r.station_id, r.compound_id): r.metres for r in two.pairs.itertuples()}
    assert p == {("a", 1): pytest.approx(50), ("a", 2): pytest.approx(130),
                 ("b", 2): pytest.approx(70)}


def test_per_station_residents_households_compounds(two: CourierReach) -> None:
    s = two.stations.set_index("station_id")
    assert s.loc["a", ["compounds", "residents", "households"]].tolist() == [2, 300, 120]
    assert s.loc["b", ["compounds", "residents", "households"]].tolist() == [1, 200, 80]


def test_redundancy_lists_every_station_reaching_a_compound(two: CourierReach) -> None:
    c = two.compounds.set_index("compound_id")
    assert c.loc[2, "station_ids"] == ("a", "b") and c.loc[2, "n_stations"] == 2
    assert c.loc[1, "station_ids"] == ("a",)
    assert (c.loc[2, "best_station_id"], c.loc[2, "best_m"]) == ("b", pytest.approx(70))


def test_overlap_share_is_of_the_smaller_catchment(two: CourierReach) -> None:
    o = two.overlaps.iloc[0]
    assert (o["station_a"], o["station_b"], o["compounds"]) == ("a", "b", 1)
    assert o["residents"] == pytest.approx(200)
    assert o["share_a"] == pytest.approx(200 / 300) and o["share_b"] == pytest.approx(1.0)
    assert o["share"] == pytest.approx(1.0) and o["jaccard"] == pytest.approx(200 / 300)
    assert bool(o["beyond"])


def test_threshold_above_the_share_flags_nothing(line_net: StreetNetwork) -> None:
    r = station_reach(line_net, _stations([(0, 0), (200, 0)]), _compounds([50, 130, 190],
                      [100, 200, 400]), metres=140, overlap_min_share=0.9)
    # a: {1, 2} = 300, b: {2, 3} = 600, shared 200 -> share 200/300
    assert r.overlaps["share"].iloc[0] == pytest.approx(2 / 3)
    assert len(r.merge_candidates) == 0


def test_minutes_use_the_network_speed(line_net: StreetNetwork) -> None:
    ride = network({1: (0, 0), 2: (100, 0), 3: (200, 0)}, [(1, 2), (2, 3)], speed=250.0)
    r = station_reach(ride, _stations([(0, 0)]), _compounds([120, 130], [1, 1]), minutes=0.5)
    assert r.budget_m == pytest.approx(125.0)
    assert r.pairs["compound_id"].tolist() == [1]
    assert r.pairs["minutes"].iloc[0] == pytest.approx(120 / 250)


def test_other_network_part_is_never_reached(line_net: StreetNetwork) -> None:
    r = station_reach(line_net, _stations([(0, 0)]), _compounds([50, 580], [100, 300]),
                      metres=5000)
    c = r.compounds.set_index("compound_id")
    assert c.loc[2, "reached"] is False or not bool(c.loc[2, "reached"])
    assert np.isinf(c.loc[2, "best_m"])
    assert r.unreached_compounds["compound_id"].tolist() == [2]


def test_unsnapped_compound_is_reported_and_unknown(line_net: StreetNetwork) -> None:
    r = station_reach(line_net, _stations([(0, 0)]), _compounds([50, 50], [100, 300],
                      ys=[0, 900]), metres=500)
    assert r.unsnapped_compounds == (2,)
    c = r.compounds.set_index("compound_id")
    assert c.loc[2, "reached"] is pd.NA and np.isnan(c.loc[2, "best_m"])
    assert r.unreached_compounds.empty
    assert r.summary()["residents_unreached"] == 0


def test_unsnapped_station_is_reported_and_reaches_nothing(line_net: StreetNetwork) -> None:
    r = station_reach(line_net, _stations([(0, 0), (50, 800)]), _compounds([50], [100]),
                      metres=500)
    assert r.unsnapped_stations == ("b",)
    assert r.stations.set_index("station_id").loc["b", "compounds"] == 0


def test_grids_take_compounds_by_resident_share(two: CourierReach,
                                                line_net: StreetNetwork) -> None:
    links = pd.DataFrame({"compound_id": [1, 2, 2], "grid_id": [10, 10, 11],
                          "share": [1.0, 0.25, 0.75]})
    r = station_reach(line_net, _stations([(0, 0), (200, 0)]), _compounds([50, 130],
                      [100, 200]), metres=140, grid_links=links)
    sg = r.station_grids.set_index(["station_id", "grid_id"])["residents"]
    assert sg[("a", 10)] == pytest.approx(150) and sg[("a", 11)] == pytest.approx(150)
    assert sg[("b", 10)] == pytest.approx(50) and sg[("b", 11)] == pytest.approx(150)
    assert r.stations.set_index("station_id")["grids"].to_dict() == {"a": 2, "b": 2}
    g = r.grids.set_index("grid_id")
    assert g.loc[10, "n_stations"] == 2 and g.loc[10, "share_reached"] == pytest.approx(1.0)


def test_grid_whose_compounds_are_unreached_is_listed(line_net: StreetNetwork) -> None:
    links = pd.DataFrame({"compound_id": [1, 2], "grid_id": [10, 11], "share": [1.0, 1.0]})
    r = station_reach(line_net, _stations([(0, 0)]), _compounds([50, 580], [100, 300]),
                      metres=500, grid_links=links)
    assert r.unreached_grids["grid_id"].tolist() == [11]


def test_compound_demand_replaces_residents_as_weight(line_net: StreetNetwork) -> None:
    r = station_reach(line_net, _stations([(0, 0), (200, 0)]), _compounds([50, 130],
                      [100, 200]), metres=140, demand=pd.Series({1: 10.0, 2: 30.0}))
    assert r.weight == "compound_demand"
    assert r.stations.set_index("station_id")["demand"].to_dict() == {"a": 40.0, "b": 30.0}
    o = r.overlaps.iloc[0]
    assert o["demand"] == pytest.approx(30) and o["share_a"] == pytest.approx(0.75)


def test_compound_without_demand_counts_zero_and_is_listed(line_net: StreetNetwork) -> None:
    r = station_reach(line_net, _stations([(0, 0)]), _compounds([50, 130], [100, 200]),
                      metres=140, demand=pd.Series({1: 10.0}))
    assert r.compounds_without_demand == (2,)
    assert r.stations["demand"].iloc[0] == pytest.approx(10.0)


def test_demand_for_an_unknown_compound_is_rejected(line_net: StreetNetwork) -> None:
    with pytest.raises(InvalidInputError) as err:
        station_reach(line_net, _stations([(0, 0)]), _compounds([50], [100]), metres=140,
                      demand=pd.Series({99: 1.0}))
    assert err.value.errors[0].field == "compound"


def test_demand_points_weigh_stations_and_overlaps(line_net: StreetNetwork) -> None:
    pts = points([(65, 0), (190, 0), (50, 900)], id=["p", "q", "far"], weight=[5.0, 7.0, 1.0])
    r = station_reach(line_net, _stations([(0, 0), (200, 0)]), _compounds([50], [100]),
                      metres=140, demand_points=pts)
    # a: p (65 m); b: p (135 m), q (10 m)
    assert r.stations.set_index("station_id")["demand"].to_dict() == {"a": 5.0, "b": 12.0}
    assert r.overlaps["demand"].iloc[0] == pytest.approx(5.0)
    assert r.unsnapped_demand_points == ("far",)


def test_demand_and_demand_points_together_are_rejected(line_net: StreetNetwork) -> None:
    with pytest.raises(InvalidInputError):
        station_reach(line_net, _stations([(0, 0)]), _compounds([50], [100]), metres=140,
                      demand=pd.Series({1: 1.0}), demand_points=points([(0, 0)], id=["x"],
                                                                       weight=[1.0]))


def test_catchment_follows_the_streets(two: CourierReach) -> None:
    s = two.stations.set_index("station_id")
    assert s.loc["a", "catchment_street_m"] == pytest.approx(140.0, abs=1e-6)
    poly = two.catchments.set_index("station_id").to_crs(UTM).geometry
    assert poly["a"].contains(shapely.Point(X0 + 130, Y0))
    assert not poly["a"].contains(shapely.Point(X0 + 190, Y0))


def test_budget_needs_exactly_one_unit(line_net: StreetNetwork) -> None:
    with pytest.raises(InvalidInputError):
        station_reach(line_net, _stations([(0, 0)]), _compounds([50], [1]))


def test_one_kilometre_preset_rides_one_thousand_metres() -> None:
    p = PRESETS["courier_1km"]
    assert (p.service_type, p.mode, p.metres, p.minutes) == ("courier_station", "ride",
                                                             1000.0, None)
    with pytest.raises(InvalidInputError):
        preset("courier_2km")


# ----------------------------------------------------------------------------- oracle
def _oracle(net: StreetNetwork, compounds: gpd.GeoDataFrame, stations: gpd.GeoDataFrame,
            budget: float) -> dict[tuple[object, object], float]:
    """(station id, compound id) → metres ≤ budget by NetworkX Dijkstra on a graph split
    at every snapped gate and station (gates of a compound: the best counts)."""
    gates = gpd.GeoDataFrame({"cid": compounds["id"].to_numpy()},
                             geometry=compounds["gates"].to_numpy(), crs=4326)
    gates = gates.explode(index_parts=False).reset_index(drop=True)
    so = snap_points(net, gates)
    ss = snap_points(net, stations)
    g = nx.Graph()
    on_edge: dict[int, list[tuple[float, str]]] = {}
    for kind, s in (("o", so), ("s", ss)):
        for i, r in enumerate(s.itertuples()):
            if r.snapped:
                on_edge.setdefault(r.edge_id, []).append((r.offset_m, f"{kind}{i}@"))
                g.add_edge(f"{kind}{i}", f"{kind}{i}@", weight=r.snap_m)
    for e in net.edges_frame().itertuples():
        chain = [(0.0, ("n", e.u))] + sorted(on_edge.get(e.edge_id, [])) + \
            [(e.length_m, ("n", e.v))]
        for (oa, a), (ob, b) in itertools.pairwise(chain):
            w = ob - oa
            if g.has_edge(a, b):
                w = min(w, g[a][b]["weight"])
            g.add_edge(a, b, weight=w)
    out: dict[tuple[object, object], float] = {}
    sids = stations["id"].to_numpy()
    for j in range(len(stations)):
        if f"s{j}" not in g:
            continue
        d = nx.single_source_dijkstra_path_length(g, f"s{j}", cutoff=budget, weight="weight")
        for i, cid in enumerate(gates["cid"]):
            m = d.get(f"o{i}")
            if m is not None and m <= budget:
                key = (sids[j], cid)
                out[key] = min(out.get(key, np.inf), m)
    return out


def _check_against_oracle(r: CourierReach, oracle: dict[tuple[object, object], float]) -> None:
    ours = {(s, c): m for s, c, m in zip(r.pairs["station_id"], r.pairs["compound_id"],
                                          r.pairs["metres"], strict=True)}
    near_edge = {k for k, m in {**ours, **oracle}.items() if abs(m - r.budget_m) < 1e-6}
    assert set(ours) - near_edge == set(oracle) - near_edge
    for k in set(ours) & set(oracle):
        assert ours[k] == pytest.approx(oracle[k], abs=1e-6)
    assert len(oracle) > 0


def test_generated_grid_matches_networkx() -> None:
    net = grid_network(n=12, spacing=100.0, seed=3)
    rng = np.random.default_rng(11)
    sxy = [(float(x), float(y)) for x, y in rng.uniform(0, 1100, (8, 2))]
    cx = rng.uniform(0, 1100, 60).tolist()
    cy = rng.uniform(-30, 1100, 60).tolist()
    comps = _compounds(cx, [int(v) for v in rng.integers(50, 900, 60)], ys=cy)
    st = _stations(sxy)
    r = station_reach(net, st, comps, metres=450, catchments=False)
    _check_against_oracle(r, _oracle(net, comps, st, 450))
    # residents per station are the sum over its oracle compounds
    res = comps.set_index("id")["residents"]
    want = {s: sum(res[c] for (s2, c) in _oracle(net, comps, st, 450) if s2 == s)
            for s in st["id"]}
    assert r.stations.set_index("station_id")["residents"].to_dict() == \
        pytest.approx({k: float(v) for k, v in want.items()})


@pytest.fixture(scope="module")
def guixi_conn(demo_engine: Engine) -> Iterator[Connection]:
    with demo_engine.connect() as c:
        yield c


@pytest.mark.parametrize(("mode", "service_type", "metres"),
                         [("ride", "courier_station", 1000.0), ("walk", "parcel_station", 375.0)])
def test_demo_city_matches_networkx(guixi_conn: Connection, mode: str, service_type: str,
                                    metres: float) -> None:
    from geo.store.cities import get_city
    from geo.store.inputs import read_compounds, read_services
    from geo.store.network import read_network

    city = get_city(guixi_conn, "guixi")
    net = read_network(guixi_conn, city.id, mode=mode)  # type: ignore[arg-type]
    st = read_services(guixi_conn, city.id, service_type=service_type)
    comps = read_compounds(guixi_conn, city.id)
    comps = comps[comps["gates"].notna().to_numpy()]
    r = station_reach(net, st, comps, metres=metres, catchments=False)
    _check_against_oracle(r, _oracle(net, comps, st, metres))


def test_duplicate_station_ids_are_rejected(line_net: StreetNetwork) -> None:
    with pytest.raises(InvalidInputError) as err:
        station_reach(line_net, _stations([(0, 0), (10, 0)], ids=["a", "a"]),
                      _compounds([50], [1]), metres=100)
    assert err.value.errors[0].field == "id"


def test_without_stations_every_snapped_compound_is_unreached(line_net: StreetNetwork) -> None:
    r = station_reach(line_net, _stations([(0, 0)]).iloc[:0], _compounds([50, 130], [1, 2]),
                      metres=100)
    assert r.summary()["compounds_unreached"] == 2 and r.overlaps.empty
