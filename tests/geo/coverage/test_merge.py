"""A large city's coverage computed in parts by service type and merged
(:func:`geo.coverage.merge_coverage`) has exactly the rows of one computation of every type."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.coverage.analysis import REQUIRED_TYPES, CoverageResult, analyze_coverage, merge_coverage
from tests.support.netkit import UTM, X0, Y0, network

N, SPACING = 10, 105.0
TYPES = ["elderly_canteen", "red_station", "courier_rest_station", "town_kiosk"]  # a city's own


def _case() -> tuple[object, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(5)
    coords = {i * N + j: (j * SPACING, i * SPACING) for i in range(N) for j in range(N)}
    pairs = [(i * N + j, i * N + j + 1) for i in range(N) for j in range(N - 1)]
    pairs += [(i * N + j, (i + 1) * N + j) for i in range(N - 1) for j in range(N)]
    pairs = [p for p in pairs if rng.random() > 0.15]
    used = sorted({n for p in pairs for n in p})
    gates = [int(n) for n in rng.choice(used, size=40, replace=False)]
    residents = rng.integers(100, 900, len(gates))
    compounds = gpd.GeoDataFrame(
        {"id": np.arange(1, len(gates) + 1), "residents": residents,
         "households": residents // 3, "age_0_14": residents // 6,
         "age_60_plus": pd.array(residents // 4, dtype="Int64"),
         "gates": gpd.GeoSeries([shapely.MultiPoint([(X0 + coords[n][0], Y0 + coords[n][1])])
                                 for n in gates], crs=UTM).to_crs(4326).to_numpy()},
        geometry=[shapely.box(X0 + coords[n][0] + 8, Y0 + coords[n][1] + 8,
                              X0 + coords[n][0] + 45, Y0 + coords[n][1] + 45) for n in gates],
        crs=UTM).to_crs(4326)
    at = [int(n) for n in rng.choice(used, size=2 * len(TYPES), replace=False)]
    services = gpd.GeoDataFrame(
        {"id": np.arange(101, 101 + len(at)), "type": [t for t in TYPES for _ in range(2)]},
        geometry=[shapely.Point(X0 + coords[n][0], Y0 + coords[n][1]) for n in at],
        crs=UTM).to_crs(4326)
    return network(coords, pairs), compounds, services


def _rows(r: CoverageResult) -> dict[str, pd.DataFrame]:
    """Every table of a result, rows in one order, geometries as exact WKB."""
    def norm(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        out = pd.DataFrame(df).copy()
        if "geometry" in out:
            out["geometry"] = shapely.to_wkb(out["geometry"].to_numpy())
        return out.sort_values(keys).reset_index(drop=True)

    return {"nearest": norm(r.nearest.table, ["origin", "type"]),
            "compounds": norm(r.compounds, ["compound_id", "type", "budget_m"]),
            "circles": norm(r.circles, ["service_id", "budget_m"]),
            "unions": norm(r.unions, ["type", "budget_m"]),
            "gaps": norm(r.gaps, ["compound_id", "type", "budget_m"]),
            "completeness": norm(r.completeness, ["compound_id"])}


@pytest.mark.parametrize("thresholds", [{"minutes": [5, 10, 15]},
                                        {"minutes": None, "metres": [300, 800]}])
@pytest.mark.parametrize("parts", [2, 3, 9])
def test_parts_by_service_type_merge_into_the_whole(thresholds: dict[str, object],
                                                    parts: int) -> None:
    net, compounds, services = _case()
    types = sorted(set(TYPES) | {str(t) for t in REQUIRED_TYPES})
    whole = analyze_coverage(net, compounds, services, types=types, **thresholds)
    pieces = [analyze_coverage(net, compounds, services, types=types[i::parts], **thresholds)
              for i in range(parts) if types[i::parts]]
    merged = merge_coverage(pieces)
    a, b = _rows(whole), _rows(merged)
    assert len(a["nearest"]) == len(compounds) * len(types)
    assert a["completeness"]["n_within"].sum() > 0  # some required type within reach
    assert (a["completeness"]["n_within"] < a["completeness"]["n_required"]).any()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_like=True, obj=name)
    assert merged.walkers == whole.walkers and merged.data == whole.data
    assert merged.nearest.unsnapped_services == whole.nearest.unsnapped_services


def test_overlapping_parts_are_refused() -> None:
    net, compounds, services = _case()
    one = analyze_coverage(net, compounds, services, types=["red_station"], minutes=[10])
    with pytest.raises(ValueError, match="overlap"):
        merge_coverage([one, one])
