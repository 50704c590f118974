"""A siting scenario on compounds and stations, checked by hand on a straight street."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.siting.scenario import plan_sites
from tests.support.netkit import UTM, X0, Y0, network, points


@pytest.fixture
def street():
    # one straight street 0 — 1000 m; 100 m/min, so 2 minutes = 200 m
    return network({1: (0, 0), 2: (1000, 0)}, [(1, 2)], speed=100.0)


def compounds() -> gpd.GeoDataFrame:
    xs, res = [0, 550, 850], [100, 300, 200]
    polys = [shapely.box(X0 + x - 20, Y0 + 10, X0 + x + 20, Y0 + 50) for x in xs]
    gates = [shapely.MultiPoint([(X0 + x, Y0)]) for x in xs]
    frame = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲小区", "乙小区", "丙小区"],
                              "residents": res, "households": [40, 100, 70],
                              "gates": gpd.GeoSeries(gates, crs=UTM).to_crs(4326)},
                             geometry=polys, crs=UTM)
    return frame.to_crs(4326)


def test_best_site_brings_both_uncovered_compounds_inside(street):
    plan = plan_sites(street, compounds(), points([(0, 0)]), p=1, minutes=2, spacing_m=100)
    # street points every 100 m (50, 150, ..., 950) plus the two gates; 650 and 750 reach
    # both 550 and 850 within 200 m
    assert (plan.before_weight, plan.after_weight, plan.total_weight) == (100, 600, 600)
    site = plan.proposals.iloc[0]
    x = shapely.get_coordinates(plan.proposals.to_crs(UTM).geometry.values)[0, 0] - X0
    assert round(x) in (650, 750)
    assert (site["gain"], site["demand_inside"], site["kind"]) == (500, 2, "street")
    assert site["name"].endswith("附近")
    assert plan.compounds["covered_after"].tolist() == [True, True, True]


def test_households_as_demand_and_exclusion_zone(street):
    zone = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 600, Y0 - 5, X0 + 800, Y0 + 5)], crs=UTM)
    plan = plan_sites(street, compounds(), points([(0, 0)]), p=1, minutes=2, spacing_m=100,
                      weight="households", exclude=zone)
    # 650 and 750 excluded: one compound only, the bigger (100 households)
    assert plan.proposals["gain"].tolist() == [100]
    assert plan.total_weight == 210


def test_no_candidates_is_invalid_input(street):
    from geo.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        plan_sites(street, compounds(), points([(0, 0)]), p=1, minutes=2, generate=False)


def test_lscp_takes_the_fewest_sites(street):
    plan = plan_sites(street, compounds(), points([(0, 0)]), model="lscp", target_share=1.0,
                      minutes=2, spacing_m=100)
    assert len(plan.proposals) == 1 and plan.after_weight == 600
    assert np.isclose(plan.result.covered_share, 1.0)
