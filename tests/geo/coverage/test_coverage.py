import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.coverage.analysis import (
    analyze_coverage,
    apportion,
    completeness,
    compound_access,
    coverage_by_compound,
    coverage_by_unit,
    thresholds,
)
from geo.network.graph import StreetNetwork
from tests.support.netkit import X0, Y0, points


def _compounds() -> gpd.GeoDataFrame:
    """Three 20 m squares north of the line street: at x=20, x=180 and x=550 (other part)."""
    def sq(x: float) -> shapely.Polygon:
        return shapely.box(X0 + x - 10, Y0 + 5, X0 + x + 10, Y0 + 25)

    g = gpd.GeoDataFrame({"id": [1, 2, 3], "residents": [100, 300, 50],
                          "households": [40, 120, 20],
                          "gates": [None, shapely.MultiPoint([(X0 + 180, Y0 + 5)]), None]},
                         geometry=[sq(20), sq(180), sq(550)], crs=32650)
    g["gates"] = gpd.GeoSeries(g["gates"], crs=32650).to_crs(4326).to_numpy()
    return g.to_crs(4326)


def _services() -> gpd.GeoDataFrame:
    return points([(10.0, 0.0)], id=["s0"], type=["red_station"])


def test_gate_is_used_and_people_split_in_out(line_net: StreetNetwork) -> None:
    comps = _compounds()
    near = compound_access(line_net, comps, _services())
    t = near.table.set_index("origin")
    # compound 2: gate at (180, 5) -> 5 m snap + 170 m along + 0 -> 175 m
    assert t.loc[2, "nearest_m"] == pytest.approx(175.0, abs=1e-6)
    cov = coverage_by_compound(comps, near.table, thresholds(line_net, minutes=None,
                                                             metres=[100]))
    c = cov.set_index("compound_id")
    assert bool(c.loc[1, "covered"]) and not bool(c.loc[2, "covered"])
    assert c.loc[2, "residents_out"] == 300 and c.loc[1, "residents_in"] == 100
    assert c.loc[3, "residents_out"] == 50  # other network part: reachable never


def test_grid_apportioned_by_resident_share(line_net: StreetNetwork) -> None:
    comps = _compounds()
    near = compound_access(line_net, comps, _services())
    cov = coverage_by_compound(comps, near.table, thresholds(line_net, minutes=None,
                                                             metres=[100]))
    links = pd.DataFrame({"compound_id": [1, 2, 2], "unit_id": ["g1", "g1", "g2"],
                          "share": [1.0, 0.25, 0.75]})
    u = coverage_by_unit(cov, links).set_index("unit_id")
    assert u.loc["g1", "residents"] == 175
    assert u.loc["g1", "residents_in"] == 100
    assert u.loc["g1", "share_covered"] == pytest.approx(100 / 175)
    assert u.loc["g2", "residents_out"] == 225
    assert u.loc["g1", "compounds_in"] == 1 and u.loc["g1", "compounds_out"] == 1
    assert u.loc["g2", "compounds"] == 1 and u.loc["g2", "compounds_out"] == 1


def test_split_compounds_are_apportioned_in_whole_people() -> None:
    # 7 residents over three grids a third each: 2.33 + 2.33 + 2.33 → 3, 2, 2 (ties to
    # the lower grid id), adding up to 7
    parts = apportion(np.array([7, 7, 7, 10, 10]), np.array([1 / 3, 1 / 3, 1 / 3, 0.55, 0.45]),
                      np.array([1, 1, 1, 2, 2]), np.array([3, 1, 2, 1, 2]))
    assert parts.tolist() == [2, 3, 2, 6, 4]
    assert parts.dtype == np.int64


def test_apportioning_keeps_totals_for_many_random_splits() -> None:
    rng = np.random.default_rng(5)
    n = 300
    count = rng.integers(0, 5000, n)
    k = rng.integers(1, 6, n)
    group = np.repeat(np.arange(n), k)
    share = rng.dirichlet(np.ones(6), n)
    s = np.concatenate([share[i, :k[i]] / share[i, :k[i]].sum() for i in range(n)])
    parts = apportion(np.repeat(count, k), s, group, np.arange(len(group)))
    assert (np.bincount(group, weights=parts) == count).all()
    assert (np.abs(parts - np.repeat(count, k) * s) < 1).all()


def test_unsnapped_compound_is_counted_as_unknown(line_net: StreetNetwork) -> None:
    comps = _compounds()
    comps = pd.concat([comps, gpd.GeoDataFrame(
        {"id": [4], "residents": [70], "households": [30], "gates": [None]},
        geometry=[shapely.box(X0, Y0 + 900, X0 + 20, Y0 + 920)], crs=32650).to_crs(4326)],
        ignore_index=True)
    near = compound_access(line_net, comps, _services())
    assert near.unsnapped_origins == (4,)
    cov = coverage_by_compound(comps, near.table, thresholds(line_net, minutes=[15]))
    row = cov.set_index("compound_id").loc[4]
    assert row["residents_unknown"] == 70 and row["residents_in"] == 0
    assert pd.isna(row["covered"])


def test_completeness_counts_required_types() -> None:
    near = pd.DataFrame({"origin": [1, 1, 1, 2, 2, 2], "type": ["a", "b", "c"] * 2,
                         "nearest_m": [100, 900, np.inf, 100, 100, 100],
                         "snapped": [True] * 6})
    c = completeness(near, required_types=["a", "b", "c", "d"], budget_m=500).set_index(
        "compound_id")
    assert c.loc[1, "n_within"] == 1 and c.loc[1, "score"] == pytest.approx(0.25)
    assert c.loc[2, "missing"] == "d"


def test_gaps_are_the_outside_compounds_with_their_people(line_net: StreetNetwork) -> None:
    comps = _compounds()
    res = analyze_coverage(line_net, comps, _services(), minutes=[1], types=["red_station"],
                           required_types=["red_station"])
    # 1 minute = 75 m: compound 1 (representative point, 15 m walk) is inside; 2 (gate
    # at 175 m) and 3 (other network part) are outside
    gaps = res.gaps.set_index("compound_id")
    assert sorted(gaps.index) == [2, 3]
    assert gaps.loc[2, "residents"] == 300 and gaps.loc[3, "residents"] == 50
    cov = res.compounds
    assert gaps["residents"].sum() == cov["residents_out"].sum()
    metric = comps.to_crs(32650).set_index("id").geometry
    gap2 = gaps.to_crs(32650).geometry.loc[2]
    assert gap2.symmetric_difference(metric.loc[2]).area < 1e-3  # the whole compound
    # the circle holds compound 1 whole, and no part of the outside compounds
    circle = res.unions.to_crs(32650).geometry.iloc[0]
    assert circle.contains(metric.loc[1].buffer(-1e-6))
    assert circle.intersection(metric.loc[2]).area < 1e-3
    assert circle.intersection(metric.loc[3]).area < 1e-3
    # the point's own circle, on the cells: compound 1 in, compound 2 out
    own = res.circles.to_crs(32650).geometry.iloc[0]
    assert own.contains(metric.loc[1].centroid) and not own.contains(metric.loc[2].centroid)
    assert res.completeness.set_index("compound_id").loc[1, "score"] == 1.0
    assert res.data["compounds"] == 3 and res.data["compounds_with_gates"] == 1


def test_an_inside_compound_is_never_a_gap_even_beyond_the_trim(line_net: StreetNetwork) -> None:
    # a deep compound (its far side 200 m from the street) reached by its gate
    deep = gpd.GeoDataFrame({"id": [9], "residents": [80], "households": [30],
                             "gates": [shapely.MultiPoint([(X0 + 40, Y0 + 2)])]},
                            geometry=[shapely.box(X0 + 20, Y0 + 2, X0 + 60, Y0 + 200)],
                            crs=32650)
    deep["gates"] = gpd.GeoSeries(deep["gates"], crs=32650).to_crs(4326).to_numpy()
    res = analyze_coverage(line_net, deep.to_crs(4326), _services(), minutes=[1],
                           types=["red_station"], required_types=["red_station"], trim_m=30)
    assert len(res.gaps) == 0
    circle = res.unions.to_crs(32650).geometry.iloc[0]
    assert circle.contains(shapely.Point(X0 + 40, Y0 + 190))
