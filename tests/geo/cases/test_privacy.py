"""The public rule: whole months, released unit-months, parts of a grid's cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from geo.cases.counts import point_cells
from geo.cases.privacy import (
    month_ceil,
    month_floor,
    month_keys,
    public_closure_figures,
    public_unit_counts,
    public_window,
    release_atoms,
    released_cases,
    suppression_mask,
)
from geo.demo.synthetic_cases import synthetic_cases

NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)  # 18:00 in Beijing
CST_MARCH = datetime(2026, 2, 28, 16, tzinfo=UTC)  # 1 March 00:00 China Standard Time


def test_months_are_china_standard_time_months() -> None:
    assert month_floor(CST_MARCH).isoformat() == "2026-03-01T00:00:00+08:00"
    assert month_floor(CST_MARCH - timedelta(seconds=1)).isoformat() == \
        "2026-02-01T00:00:00+08:00"
    assert month_ceil(CST_MARCH) == CST_MARCH  # a month start stays
    assert month_ceil(CST_MARCH + timedelta(seconds=1)).isoformat() == \
        "2026-04-01T00:00:00+08:00"


def test_public_window_is_whole_complete_months() -> None:
    w = public_window(datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC),
                      now=NOW)
    assert (w.start.isoformat(), w.end.isoformat()) == ("2026-03-01T00:00:00+08:00",
                                                        "2026-04-01T00:00:00+08:00")
    later = public_window(datetime(2026, 3, 5, 0, 0, 1, tzinfo=UTC),
                          datetime(2026, 3, 20, 0, 0, 1, tzinfo=UTC), now=NOW)
    assert (later.start, later.end) == (w.start, w.end)
    open_end = public_window(None, None, now=NOW)  # the current month is not public yet
    assert open_end.start is None and open_end.end.isoformat() == "2026-11-01T00:00:00+08:00"
    assert public_window(datetime(2030, 1, 1, tzinfo=UTC), None, now=NOW).empty
    # 30 November 21:00 UTC is already 1 December in Beijing: November is complete
    assert public_window(None, None, now=datetime(2026, 11, 30, 21, tzinfo=UTC)).end \
        .isoformat() == "2026-12-01T00:00:00+08:00"


def test_release_decisions_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(1)
    months = rng.choice(["2026-01", "2026-02", "2026-03"], 300)
    units = rng.integers(0, 40, 300)
    counts = rng.integers(0, 9, 300)
    frame = pd.DataFrame({"m": months, "u": units, "n": counts}).drop_duplicates(["m", "u"])
    ok = release_atoms(frame["m"].to_numpy(), frame["u"].to_numpy(), frame["n"].to_numpy(),
                       min_count=5)
    shuffled = frame.sample(frac=1, random_state=3)
    ok2 = release_atoms(shuffled["m"].to_numpy(), shuffled["u"].to_numpy(),
                        shuffled["n"].to_numpy(), min_count=5)
    assert dict(zip(zip(frame["m"], frame["u"]), ok)) == \
        dict(zip(zip(shuffled["m"], shuffled["u"]), ok2))
    for m, part in frame.assign(ok=ok).groupby("m"):
        hidden = part.loc[~part["ok"] & (part["n"] > 0), "n"].sum()
        assert hidden == 0 or hidden >= 5, m
        assert (part.loc[part["ok"], "n"] >= 5).all()


def test_cases_outside_every_unit_are_withheld_and_protected() -> None:
    # grid A has 7 cases, 2 cases lie in no grid: A must be withheld too, or the month
    # total (9) minus A would reveal the 2
    units = pd.Series([1] * 7 + [pd.NA] * 2, dtype="Int64")
    ok = released_cases(units, np.array(["2026-03"] * 9, dtype=object), min_count=5)
    assert not ok.any()
    assert suppression_mask(np.array([7, 2]), min_count=5,
                            withheld=np.array([False, True])).tolist() == [True, True]


def test_nested_month_windows_differ_by_zero_or_at_least_the_minimum() -> None:
    cases = synthetic_cases(3000, seed=11)
    cells = point_cells(cases, 9)
    months = month_keys(cases["reported_at"])
    ok = released_cases(cells, months, min_count=5)
    span = sorted(set(months))
    assert len(span) >= 6
    answers = []
    for last in span:  # windows from the first month to each month, nested
        inside = months <= last
        answers.append(public_unit_counts(pd.Series(cells[inside]),
                                          pd.Series(cells[inside & ok]))["n_cases"])
    checked = 0
    for i, small in enumerate(answers):
        for big in answers[i + 1:]:
            both = small.dropna().index.intersection(big.dropna().index)
            diff = (big[both] - small[both]).to_numpy()
            assert ((diff == 0) | (diff >= 5)).all()
            checked += len(both)
    assert checked > 100


def test_parts_of_a_grid_are_withheld_with_their_complement() -> None:
    table = pd.DataFrame({
        "grid_id": [1, 2, 3], "n_cases": [10, 12, 5], "n_closed": [8, 6, 5],
        "n_open": [2, 6, 0], "n_overdue": [1, 6, 0], "n_rated": [8, 3, 5],
        "closure_rate": [0.8, 0.5, 1.0], "median_closure_h": [5.0, 6.0, 7.0],
        "mean_satisfaction": [4.0, 3.0, 5.0], "per_1000_residents": [1.0, 2.0, 3.0]})
    out = public_closure_figures(table, min_count=5).set_index("grid_id")
    # grid 1: 2 open cases → open and closed both withheld, the total stays
    assert out.loc[1, "n_cases"] == 10 and out.loc[1, "per_1000_residents"] == 1.0
    assert out.loc[1, ["n_closed", "n_open", "n_overdue", "closure_rate",
                       "median_closure_h"]].isna().all()
    assert out.loc[1, "n_rated"] is None  # 8 rated, 2 unrated → withheld as a pair
    # grid 2: 6 closed / 6 open / 6 overdue / 0 recent are public; 3 rated are not
    assert (out.loc[2, "n_closed"], out.loc[2, "n_open"], out.loc[2, "n_overdue"]) == (6, 6, 6)
    assert out.loc[2, "mean_satisfaction"] is None
    # grid 3: every part is 0 or 5
    assert out.loc[3, ["n_closed", "n_open", "n_rated"]].tolist() == [5, 0, 5]
    assert out.loc[3, "closure_rate"] == 1.0 and out.loc[3, "mean_satisfaction"] == 5.0
    assert not out["suppressed"].any()
    # a grid with 3 cases loses every figure, and so does (secondarily) the smallest other
    small = public_closure_figures(table.assign(n_cases=[10, 12, 3], n_closed=[8, 6, 3],
                                                n_rated=[8, 3, 3]), min_count=5)
    assert small["suppressed"].tolist() == [True, False, True]
    assert small.loc[2, "n_cases"] is None and small.loc[0, "closure_rate"] is None


@pytest.mark.parametrize("bad", [0, -1])
def test_minimum_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError):
        suppression_mask(np.array([1, 2]), min_count=bad)


def test_month_totals_fill_zero_months_and_withhold_small_ones() -> None:
    import pandas as pd

    from geo.cases.public import public_month_totals

    counts = pd.Series({"2025-11": 12, "2026-01": 3, "2026-02": 7})
    public = public_month_totals(counts, min_count=5)
    assert public["month"].tolist() == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert public["n_cases"].tolist() == [12, 0, None, 7]  # December had none: a zero
    assert public["suppressed"].tolist() == [False, False, True, False]
    exact = public_month_totals(counts, min_count=None)
    assert exact["n_cases"].tolist() == [12, 0, 3, 7]
    assert public_month_totals(pd.Series(dtype="int64"), min_count=5).empty
