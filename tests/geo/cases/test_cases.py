"""Case filtering, hexagon counts, suppression, per-grid closure figures and trends."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.cases.counts import (
    CaseIndex,
    filter_cases,
    hex_counts,
    suppress_counts,
    suppression_mask,
)
from geo.cases.stats import grid_closure_table, monthly_trend, public_closure_table
from geo.demo.synthetic_cases import synthetic_cases
from geo.errors import InvalidInputError

AREA = box(117.20, 28.22, 117.26, 28.28)


@pytest.fixture(scope="module")
def cases() -> gpd.GeoDataFrame:
    return synthetic_cases(2000, seed=7)


def one_case(case_id: str, lon: float, lat: float, reported: str, *, category: str = "sanitation",
             closed: str | None = None, satisfaction: float = np.nan) -> dict[str, object]:
    return {"case_id": case_id, "category": category,
            "reported_at": pd.Timestamp(reported), "closed_at": pd.Timestamp(closed) if closed
            else pd.NaT, "status": "closed" if closed else "reported",
            "satisfaction": satisfaction, "lon": lon, "lat": lat}


def frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows)
    df["reported_at"] = pd.to_datetime(df["reported_at"], utc=True)
    df["closed_at"] = pd.to_datetime(df["closed_at"], utc=True)
    return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                            geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)


def test_window_is_half_open_on_reported_at() -> None:
    rows = [one_case("a", 117.2, 28.2, "2026-03-01T00:00:00Z"),
            one_case("b", 117.2, 28.2, "2026-03-31T23:59:59Z"),
            one_case("c", 117.2, 28.2, "2026-04-01T00:00:00Z"),
            one_case("d", 117.2, 28.2, "2026-02-28T23:59:59Z")]
    out = filter_cases(frame(rows), start=datetime(2026, 3, 1, tzinfo=UTC),
                       end=datetime(2026, 4, 1, tzinfo=UTC))
    assert list(out["case_id"]) == ["a", "b"]


def test_category_set_filter_is_exact() -> None:
    rows = [one_case("a", 117.2, 28.2, "2026-03-01T00:00Z", category="sanitation"),
            one_case("b", 117.2, 28.2, "2026-03-01T00:00Z", category="dispute"),
            one_case("c", 117.2, 28.2, "2026-03-01T00:00Z", category="clutter")]
    out = filter_cases(frame(rows), categories=["dispute", "clutter"])
    assert sorted(out["case_id"]) == ["b", "c"]


def test_naive_window_bound_is_rejected(cases: gpd.GeoDataFrame) -> None:
    with pytest.raises(InvalidInputError, match="time window"):
        filter_cases(cases, start=datetime(2026, 3, 1))


def test_unknown_category_is_rejected_with_the_known_list(cases: gpd.GeoDataFrame) -> None:
    with pytest.raises(InvalidInputError) as info:
        filter_cases(cases, categories=["noise", "sanitation"])
    assert info.value.errors[0].field == "categories"
    assert "noise" in info.value.errors[0].reason


def test_index_counts_equal_brute_force_groupby(cases: gpd.GeoDataFrame) -> None:
    start = datetime(2026, 2, 10, 8, tzinfo=UTC)
    end = datetime(2026, 9, 3, tzinfo=UTC)
    cats = ["sanitation", "dispute", "public_order"]
    got = CaseIndex.from_cases(cases, resolution=9).counts(categories=cats, start=start, end=end)
    sel = cases[cases["category"].isin(cats) & (cases["reported_at"] >= start)
                & (cases["reported_at"] < end)]
    oracle = pd.Series([h3.str_to_int(h3.latlng_to_cell(p.y, p.x, 9)) for p in sel.geometry])
    expected = oracle.value_counts().sort_index()
    assert got.sum() == len(sel)
    assert got.sort_index().to_dict() == expected.to_dict()


def test_hex_counts_with_area_include_zero_cells(cases: gpd.GeoDataFrame) -> None:
    few = cases.iloc[:20]
    out = hex_counts(few, resolution=9, area=AREA)
    assert out["n_cases"].sum() == 20
    assert (out["n_cases"] == 0).sum() > 100
    assert out.crs.to_epsg() == 4326


def test_suppression_hides_small_cells_and_a_partner_so_totals_reveal_nothing() -> None:
    df = pd.DataFrame({"h3": ["a", "b", "c", "d"], "n_cases": [0, 3, 5, 12]})
    s = suppress_counts(df, min_count=5)
    assert list(s.frame["h3"]) == ["b", "c", "d"]
    # b (3) alone would be total − shown; c (5, the smallest shown) is hidden with it
    assert s.frame.set_index("h3")["suppressed"].to_dict() == {"b": True, "c": True, "d": False}
    shown = s.frame["n_cases"].dropna()
    assert (shown >= 5).all()
    assert s.shown_total == 12 and s.suppressed_cells == 2
    assert 20 - s.shown_total >= 5  # what subtraction from the full total reveals


def test_no_secondary_suppression_when_the_small_cells_add_up() -> None:
    mask = suppression_mask(np.array([0, 3, 5, 12, 2]), min_count=5)
    assert mask.tolist() == [False, True, False, False, True]


def test_nothing_suppressed_when_every_cell_reaches_the_minimum() -> None:
    assert not suppression_mask(np.array([5, 7, 0]), min_count=5).any()


def _grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"grid_id": [1, 2], "name": ["一网格", "二网格"],
                             "residents": [500, 0]},
                            geometry=[box(117.0, 28.0, 117.01, 28.01),
                                      box(117.01, 28.0, 117.02, 28.01)], crs=4326)


def test_grid_closure_figures_by_hand() -> None:
    rows = [one_case("a", 117.005, 28.005, "2026-03-01T00:00Z", closed="2026-03-01T10:00Z",
                     satisfaction=5),
            one_case("b", 117.005, 28.005, "2026-03-01T00:00Z", closed="2026-03-02T00:00Z",
                     satisfaction=3),
            one_case("c", 117.005, 28.005, "2026-03-01T00:00Z", closed="2026-03-01T20:00Z"),
            one_case("d", 117.005, 28.005, "2026-03-01T00:00Z"),  # open, 96 h old → overdue
            one_case("e", 117.005, 28.005, "2026-03-04T00:00Z"),  # open, 24 h old
            one_case("f", 117.015, 28.005, "2026-03-01T00:00Z", closed="2026-03-01T01:00Z"),
            one_case("x", 118.5, 29.5, "2026-03-01T00:00Z")]  # in no grid
    stats = grid_closure_table(frame(rows), _grids(), as_of=datetime(2026, 3, 5, tzinfo=UTC))
    g1 = stats.table.set_index("grid_id").loc[1]
    assert g1["n_cases"] == 5 and g1["n_closed"] == 3 and g1["n_open"] == 2
    assert g1["closure_rate"] == pytest.approx(0.6)
    assert g1["median_closure_h"] == pytest.approx(20.0)
    assert g1["p90_closure_h"] == pytest.approx(20 + 0.8 * 4)  # linear between 20 h and 24 h
    assert g1["n_overdue"] == 1
    assert g1["mean_satisfaction"] == pytest.approx(4.0)
    assert g1["per_1000_residents"] == pytest.approx(10.0)
    g2 = stats.table.set_index("grid_id").loc[2]
    assert np.isnan(g2["per_1000_residents"])  # no residents: no rate, not a sentinel
    assert stats.unassigned_case_ids == ("x",)


def test_overdue_limit_is_configurable() -> None:
    rows = [one_case("d", 117.005, 28.005, "2026-03-01T00:00Z")]
    stats = grid_closure_table(frame(rows), _grids(), as_of=datetime(2026, 3, 5, tzinfo=UTC),
                               overdue_hours=100)
    assert stats.table.set_index("grid_id").loc[1, "n_overdue"] == 0


def test_public_closure_table_blanks_grids_below_minimum() -> None:
    rows = [one_case(f"a{i}", 117.005, 28.005, "2026-03-01T00:00Z") for i in range(5)]
    rows += [one_case(f"b{i}", 117.015, 28.005, "2026-03-01T00:00Z") for i in range(2)]
    table = grid_closure_table(frame(rows), _grids(),
                               as_of=datetime(2026, 3, 5, tzinfo=UTC)).table
    pub = public_closure_table(table, min_count=5).set_index("grid_id")
    assert pub.loc[2, "n_cases"] is None and pub.loc[2, "closure_rate"] is None
    assert pub.loc[2, "suppressed"]
    # grid 1 (5 cases) is hidden too: 7 cases in total − 5 would reveal grid 2's 2 cases
    assert pub.loc[1, "suppressed"] and pub.loc[1, "n_cases"] is None
    assert pub.loc[1, "name"] == "一网格"


def test_monthly_trend_uses_china_standard_time_months() -> None:
    rows = [one_case("a", 117.2, 28.2, "2026-01-31T17:00Z"),  # 1 Feb 01:00 in Beijing
            one_case("b", 117.2, 28.2, "2026-01-31T15:00Z"),  # 31 Jan 23:00 in Beijing
            one_case("c", 117.2, 28.2, "2026-04-10T00:00Z", category="dispute")]
    out = monthly_trend(frame(rows))
    got = out.set_index(["month", "key"])["n_cases"]
    assert got[("2026-01", "sanitation")] == 1
    assert got[("2026-02", "sanitation")] == 1
    assert got[("2026-03", "dispute")] == 0  # empty months are present, with zero
    assert got[("2026-04", "dispute")] == 1
    assert len(out) == 4 * 2


def test_monthly_trend_per_grid() -> None:
    rows = [one_case("a", 117.005, 28.005, "2026-03-01T00:00Z"),
            one_case("b", 117.015, 28.005, "2026-03-02T00:00Z"),
            one_case("c", 117.015, 28.005, "2026-03-03T00:00Z")]
    out = monthly_trend(frame(rows), by="grid", grids=_grids())
    assert out.set_index("key")["n_cases"].to_dict() == {1: 1, 2: 2}
