"""Siting on a street network: reach matches the engine's travel matrix; what-if; candidates."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.network.reach import travel_matrix
from geo.siting import SitingProblem
from geo.siting.candidates import drop_excluded, generate_candidates, street_points
from geo.siting.whatif import WhatIf
from tests.support.netkit import UTM, X0, Y0, grid_network, network, points


@pytest.fixture
def line():
    # A(0,0) — B(100,0) — C(200,0) — D(300,0); speed 100 m/min
    return network({1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0)}, [(1, 2), (2, 3), (3, 4)],
                   speed=100.0)


def test_whatif_by_hand(line):
    # demand at x=0 (10 people), x=150 (20), x=300 (40); existing station at x=0;
    # budget 100 m: the station covers x=0 only; a site at x=250 covers x=150? no (100 m
    # needs <=): 250-150 = 100 -> yes, and x=300 (50 m)
    demand = points([(0, 0), (150, 0), (300, 0)], id=["a", "b", "c"], residents=[10, 20, 40])
    wi = WhatIf.build(line, demand, budget_m=100.0, existing=points([(0, 0)]))
    res = wi.evaluate(points([(250, 0), (160, 0)]))
    assert (res.before_weight, res.after_weight, res.total_weight) == (10, 70, 70)
    assert res.sites["gain"].tolist() == [60.0, 0.0]
    assert res.sites["gain_alone"].tolist() == [60.0, 20.0]
    assert res.sites["demand_inside"].tolist() == [2, 0]
    assert set(res.newly_covered) == {"b", "c"}


def test_whatif_takes_lon_lat_pairs(line):
    demand = points([(300, 0)], id=["c"], residents=[40])
    wi = WhatIf.build(line, demand, budget_m=100.0)
    lonlat = points([(250, 0)]).geometry.iloc[0]
    res = wi.evaluate([(lonlat.x, lonlat.y)])
    assert res.gain == 40


def test_unsnapped_demand_is_reported_not_covered(line):
    demand = points([(0, 0), (0, 900)], id=["a", "far"], residents=[1, 5])
    wi = WhatIf.build(line, demand, budget_m=500.0)
    res = wi.evaluate(points([(0, 0)]))
    assert res.unknown_weight == 5 and res.after_weight == 1
    prob = SitingProblem.from_whatif(wi, points([(0, 0)], id=["s"]))
    assert prob.unmatched_demand == ("far",)


def test_problem_costs_equal_engine_travel_matrix():
    net = grid_network()
    rng = np.random.default_rng(7)
    demand = points(rng.uniform(-50, 1200, (60, 2)), id=np.arange(60), residents=np.ones(60))
    cands = points(rng.uniform(0, 1100, (40, 2)), id=[f"c{i}" for i in range(40)])
    prob = SitingProblem.from_network(net, demand, cands, minutes=8)
    tm = travel_matrix(net, demand, cands, minutes=8)
    want = tm.to_dense()
    got = np.full(want.shape, np.inf)
    got[prob.row, prob.col] = prob.cost
    got[~tm.origin_snapped] = np.nan
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert prob.threshold == 8


def test_existing_stations_respected_on_network():
    net = grid_network()
    rng = np.random.default_rng(8)
    demand = points(rng.uniform(0, 1100, (80, 2)), id=np.arange(80),
                    residents=rng.integers(1, 50, 80))
    existing = points([(550, 550)])
    cands = points(rng.uniform(0, 1100, (30, 2)), id=np.arange(30))
    wi = WhatIf.build(net, demand, budget_m=400.0, existing=existing)
    prob = SitingProblem.from_whatif(wi, cands)
    r = prob.solve("mclp", p=3, method="exact")
    # what-if of the chosen sites gives the same gains, in the same order
    res = wi.evaluate(cands.set_index("id").loc[list(r.chosen)])
    assert res.sites["gain"].tolist() == pytest.approx(list(r.gains))
    assert res.before_weight == pytest.approx(r.existing_covered_weight)
    assert res.after_weight == pytest.approx(r.covered_weight)


def test_street_points_are_spaced_along_edges(line):
    pts = street_points(line, spacing_m=50.0)
    x = np.sort(shapely.get_coordinates(pts.geometry.values)[:, 0] - X0)
    np.testing.assert_allclose(x, [25, 75, 125, 175, 225, 275])


def test_generated_candidates_only_near_gaps_and_outside_exclusions(line):
    uncovered = points([(300, 0)], id=["c"])
    zone = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 270, Y0 - 10, X0 + 290, Y0 + 10)],
                            crs=UTM)
    c = generate_candidates(line, uncovered, spacing_m=50.0, near_m=80.0, gates=uncovered,
                            exclude=zone)
    x = shapely.get_coordinates(c.to_crs(UTM).geometry.values)[:, 0] - X0
    # street points at 25, 75, ..., 275; within 80 m: 225 and 275 (excluded); gate 300
    assert sorted(np.round(x).tolist()) == [225.0, 300.0]
    assert sorted(c["kind"]) == ["gate", "street"]
    assert drop_excluded(c, None).equals(c)


@pytest.mark.slow
def test_whatif_answers_within_100_ms_on_demo_city():
    from geo.coverage.analysis import compound_origins
    from geo.demo import demo_cities
    from geo.network.graph import StreetNetwork

    for city in demo_cities():
        net = StreetNetwork.from_edges(city.nodes, city.edges, mode="walk")
        comp = city.layers["compound"]
        demand = compound_origins(comp, id_col="external_id").rename(columns={"compound_id": "id"})
        demand["residents"] = comp["residents"].to_numpy()
        sp = city.layers["service_point"]
        wi = WhatIf.build(net, demand, budget_m=net.budget_m(minutes=15),
                          existing=sp[sp["type"] == "red_station"])
        b = city.bounds.bounds
        rng = np.random.default_rng(0)
        sites = list(zip(rng.uniform(b[0], b[2], 5), rng.uniform(b[1], b[3], 5), strict=True))
        wi.evaluate(sites)  # warm-up
        t0 = time.perf_counter()
        res = wi.evaluate(sites)
        assert (time.perf_counter() - t0) * 1000 < 100, city.code
        assert res.after_weight >= res.before_weight
