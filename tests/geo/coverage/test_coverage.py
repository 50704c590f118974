import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.coverage.analysis import (
    analyze_coverage,
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
    assert u.loc["g1", "residents"] == pytest.approx(175.0)
    assert u.loc["g1", "residents_in"] == pytest.approx(100.0)
    assert u.loc["g1", "share_covered"] == pytest.approx(100 / 175)
    assert u.loc["g2", "residents_out"] == pytest.approx(225.0)


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


def test_analyze_coverage_gaps_lie_outside_circles(line_net: StreetNetwork) -> None:
    comps = _compounds()
    res = analyze_coverage(line_net, comps, _services(), minutes=[1], types=["red_station"],
                           required_types=["red_station"])
    gaps = res.gaps.set_index("compound_id")
    # compound 1 (x 10..30, y 5..25) lies within 40 m of the reached street x in [0, 75]
    assert 1 not in gaps.index
    assert gaps.loc[2, "gap_share"] == pytest.approx(1.0)
    assert gaps.loc[3, "residents_gap_est"] == pytest.approx(50.0)
    assert res.completeness.set_index("compound_id").loc[1, "score"] == 1.0
