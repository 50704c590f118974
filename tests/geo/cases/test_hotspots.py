"""Gi* hot spots against esda and a hand formula; bins, FDR, period change, KDE."""

from __future__ import annotations

import math

import esda
import geopandas as gpd
import h3
import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import W
from shapely.geometry import box

from geo.cases.counts import hex_counts
from geo.cases.hotspots import (
    HotSpotResult,
    benjamini_hochberg,
    compare_periods,
    confidence_bins,
    gi_star,
    kde_surface,
)
from geo.demo.synthetic_cases import synthetic_cases
from geo.errors import InvalidInputError

AREA = box(117.20, 28.22, 117.26, 28.28)
CENTRE = h3.latlng_to_cell(28.25, 117.23, 9)


def _counts(values: dict[str, int], cells: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"h3": cells, "n_cases": [values.get(c, 0) for c in cells]})


@pytest.fixture(scope="module")
def counts() -> gpd.GeoDataFrame:
    return hex_counts(synthetic_cases(3000, seed=11), resolution=9, area=AREA)


def test_gi_star_by_hand_on_a_single_spike() -> None:
    # 19 cells (centre + 2 rings), 10 cases in the centre: for the centre cell
    # z = (Σw·x − X̄·W) / (S·sqrt((n·W − W²)/(n−1))) with W = 7, n = 19 = 120 / sqrt(8400).
    cells = sorted(h3.grid_disk(CENTRE, 2))
    res = gi_star(_counts({CENTRE: 10}, cells), permutations=99, seed=1)
    z = res.cells.set_index("h3").loc[CENTRE, "gi_z"]
    assert z == pytest.approx(120 / math.sqrt(8400), rel=1e-12)


@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_gi_star_equals_esda_direct_computation(counts: gpd.GeoDataFrame) -> None:
    ints = [h3.str_to_int(c) for c in counts["h3"]]
    pos = {c: i for i, c in enumerate(ints)}
    neighbours = {i: [pos[n] for n in sorted(h3i.grid_ring(c, 1)) if n in pos]
                  for i, c in enumerate(ints)}
    w = W(neighbours, silence_warnings=True)
    y = counts["n_cases"].to_numpy(dtype=float)
    direct = esda.G_Local(y, w, transform="B", permutations=999, star=True, seed=5, n_jobs=1)
    ours = gi_star(counts, permutations=999, seed=5)
    np.testing.assert_allclose(ours.cells["gi_z"], direct.Zs, rtol=1e-10)
    np.testing.assert_allclose(ours.cells["p"], np.minimum(1, 2 * direct.p_sim))


def test_zero_count_cells_take_part(counts: gpd.GeoDataFrame) -> None:
    res = gi_star(counts, permutations=99, seed=0)
    assert len(res.cells) == len(counts)
    assert (res.cells["n_cases"] == 0).sum() == (counts["n_cases"] == 0).sum() > 0
    assert res.cells.loc[res.cells["n_cases"] == 0, "gi_z"].notna().all()


def test_seeded_runs_repeat_exactly(counts: gpd.GeoDataFrame) -> None:
    a = gi_star(counts, permutations=199, seed=3).cells["p"]
    b = gi_star(counts, permutations=199, seed=3).cells["p"]
    assert a.equals(b)


def test_a_dense_cluster_is_a_99_percent_hot_spot() -> None:
    cells = sorted(h3.grid_disk(CENTRE, 6))
    rng = np.random.default_rng(0)
    values = {c: int(rng.poisson(1)) for c in cells}
    values.update({c: 25 for c in h3.grid_disk(CENTRE, 1)})
    res = gi_star(_counts(values, cells), permutations=999, seed=0)
    assert res.cells.set_index("h3").loc[CENTRE, "bin"] == 3


def test_all_zero_counts_give_no_hot_spots() -> None:
    cells = sorted(h3.grid_disk(CENTRE, 2))
    res = gi_star(_counts({}, cells), permutations=99)
    assert (res.cells["bin"] == 0).all() and res.cells["gi_z"].isna().all()


def test_too_few_permutations_are_rejected(counts: gpd.GeoDataFrame) -> None:
    with pytest.raises(InvalidInputError, match="permutations"):
        gi_star(counts, permutations=10)


def test_confidence_bins_by_hand() -> None:
    z = np.array([2.0, -2.0, 1.0, 3.0, 0.5])
    p = np.array([0.005, 0.03, 0.2, 0.08, np.nan])
    assert confidence_bins(z, p).tolist() == [3, -2, 0, 1, 0]


def test_benjamini_hochberg_by_hand() -> None:
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_benjamini_hochberg_agrees_with_esda_fdr_threshold() -> None:
    p = np.random.default_rng(4).beta(0.3, 2, 400)
    threshold = esda.fdr(p, 0.05)
    assert ((benjamini_hochberg(p) <= 0.05) == (p <= threshold)).all()


def test_fdr_never_adds_hot_spots(counts: gpd.GeoDataFrame) -> None:
    raw = gi_star(counts, permutations=999, seed=2)
    adj = gi_star(counts, permutations=999, seed=2, fdr=True)
    assert (adj.cells["bin"].abs() <= raw.cells["bin"].abs()).all()
    assert adj.cells["q"].notna().all()


def _result(bins: list[int]) -> HotSpotResult:
    cells = sorted(h3.grid_disk(CENTRE, 1))[: len(bins)]
    frame = gpd.GeoDataFrame({"h3": cells, "n_cases": [1] * len(bins), "bin": bins},
                             geometry=[None] * len(bins), crs=4326)
    return HotSpotResult(cells=frame, resolution=9, k=1, permutations=999, seed=0, fdr=False)


def test_period_comparison_classes() -> None:
    before = _result([0, 1, 2, 3, 2, -1])
    after = _result([2, 3, 2, 0, 1, 0])
    got = compare_periods(before, after).set_index("h3")["change"]
    cells = sorted(h3.grid_disk(CENTRE, 1))[:6]
    assert [got[c] for c in cells] == ["new", "intensifying", "persistent", "diminishing",
                                       "diminishing", "none"]


def test_kde_peak_of_a_single_case_by_formula() -> None:
    lat, lng = h3.cell_to_latlng(CENTRE)
    one = gpd.GeoDataFrame(geometry=gpd.points_from_xy([lng], [lat]), crs=4326)
    surface = kde_surface(one, [CENTRE], epsg=32650, bandwidth_m=250.0)
    expected = 1e6 / (2 * math.pi * 250.0 ** 2)
    assert surface.cells["density_per_km2"].iloc[0] == pytest.approx(expected, rel=1e-9)
    assert surface.cells["n_near"].iloc[0] == 1


def test_kde_integrates_to_the_number_of_cases() -> None:
    lat, lng = h3.cell_to_latlng(CENTRE)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([lng, lng + 0.001], [lat, lat]), crs=4326)
    cells = sorted(h3.grid_disk(h3.cell_to_parent(CENTRE, 9), 20))
    surface = kde_surface(pts, cells, epsg=32650, bandwidth_m=300.0)
    area_km2 = np.array([h3.cell_area(c, "km^2") for c in cells])
    assert (surface.cells["density_per_km2"] * area_km2).sum() == pytest.approx(2.0, rel=0.03)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True])
def test_seed_must_fit_32_bits(seed: object) -> None:
    from geo.cases.hotspots import check_seed

    with pytest.raises(InvalidInputError, match="seed"):
        check_seed(seed)  # type: ignore[arg-type]
