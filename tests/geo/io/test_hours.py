"""Opening hours (OpenStreetMap syntax) and the moments they are read at (geo.io.hours)."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import opening_hours
import pytest
from shapely.geometry import Point

from geo.errors import InvalidInputError
from geo.io.hours import (
    REFERENCE_MONDAY,
    hours_reason,
    is_open,
    open_mask,
    parse_moment,
    week_moments,
)
from geo.io.validate import validate_features

DEMO_LIKE = ["Mo-Fr 08:30-17:30", "09:00-21:00", "24/7", None, "Mo-Su 06:00-22:00",
             "Mo-Fr 07:00-23:00; Sa,Su 08:00-20:00", "Mo-Su 10:30-13:00,16:30-18:30"]


@pytest.mark.parametrize("text", ["24/7", "Mo-Fr 08:30-17:30; Sa 09:00-12:00", "09:00-21:00",
                                  "Mo-Su 10:30-13:00,16:30-18:30", "Mo-Fr 08:00-18:00; PH off",
                                  "Mo-Su 00:00-24:00", "Tu-Su 09:00-17:00; Mo off"])
def test_valid_expressions_parse(text: str) -> None:
    assert hours_reason(text) is None


@pytest.mark.parametrize("text", ["Mo-Fr 8:30-25:99", "周一至周五 9:00-17:00", "always",
                                  "Mo-Fr 08:30-17:30 Sa", "09:00-"])
def test_invalid_expressions_have_a_reason(text: str) -> None:
    reason = hours_reason(text)
    assert reason is not None and "opening_hours" in reason and "at character" in reason


def test_the_reference_week_has_no_public_holiday() -> None:
    assert REFERENCE_MONDAY.weekday() == 0
    oh = opening_hours.OpeningHours("24/7; PH off", country="CN")
    for day in range(7):
        assert oh.is_open(datetime(2024, 1, 8 + day, 12, 0))


@pytest.mark.parametrize(("value", "label", "local"), [
    ("Mo 22:00", "Mo 22:00", datetime(2024, 1, 8, 22, 0)),
    ("tu 7", "Tu 07:00", datetime(2024, 1, 9, 7, 0)),
    ("周日 9:30", "Su 09:30", datetime(2024, 1, 14, 9, 30)),
    ("Friday 18:00", "Fr 18:00", datetime(2024, 1, 12, 18, 0)),
    ("2026-12-07T22:00", "2026-12-07T22:00+08:00", datetime(2026, 12, 7, 22, 0)),
    ("2026-12-07T14:00Z", "2026-12-07T22:00+08:00", datetime(2026, 12, 7, 22, 0)),
])
def test_moments(value: str, label: str, local: datetime) -> None:
    m = parse_moment(value)
    assert (m.label, m.local) == (label, local)


@pytest.mark.parametrize("value", ["Xy 22:00", "Mo 24:00", "Mo 12:60", "tomorrow", "",
                                   "0001-01-01T00:00+14:00", "9999-12-31T23:59-12:00",
                                   "1900-01-01T12:00", "2024-02-30T10:00", "Mo\x0022:00"])
def test_bad_moments_name_the_field(value: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_moment(value, "at")
    assert [p.field for p in exc.value.errors] == ["at"]


def test_blank_and_unknown_count_as_open() -> None:
    night = parse_moment("We 03:00")
    assert is_open(None, night) and is_open("  ", night)
    assert is_open("Mo-Fr 08:00-17:00; We unknown", night)
    assert not is_open("Mo-Fr 08:00-17:00", night)


def test_open_mask_agrees_with_the_library() -> None:
    for label in ("Mo 08:00", "Tu 09:15", "We 22:00", "Sa 12:00", "Su 23:30"):
        m = parse_moment(label)
        expect = [v is None or opening_hours.OpeningHours(v, country="CN").is_open(m.local)
                  for v in DEMO_LIKE]
        assert open_mask(DEMO_LIKE, m).tolist() == expect


def test_closing_time_is_exclusive() -> None:
    assert open_mask(["Mo-Su 08:00-22:00"], parse_moment("Mo 21:59")).tolist() == [True]
    assert open_mask(["Mo-Su 08:00-22:00"], parse_moment("Mo 22:00")).tolist() == [False]


def test_open_mask_names_every_bad_row() -> None:
    with pytest.raises(InvalidInputError) as exc:
        open_mask(["24/7", "bad", "Mo 25:00"], parse_moment("Mo 12:00"))
    assert [(p.row, p.field) for p in exc.value.errors] == [(2, "opening_hours"),
                                                             (3, "opening_hours")]


def test_week_moments_cover_every_state() -> None:
    moments = week_moments(DEMO_LIKE)
    labels = [m.label for m in moments]
    assert labels[0] == "Mo 00:00" and "Mo 22:00" in labels and "Sa 08:00" in labels
    states = {tuple(open_mask(DEMO_LIKE, m)) for m in moments}
    # brute force: every minute of the week holds one of these states
    for day in range(7):
        for minute in range(0, 24 * 60, 15):
            m = parse_moment(f"{['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'][day]} "
                             f"{minute // 60:02d}:{minute % 60:02d}")
            assert tuple(open_mask(DEMO_LIKE, m)) in states


def _points(hours: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"external_id": [f"P{i}" for i in range(len(hours))],
                             "type": "red_station", "name": "站", "opening_hours": hours},
                            geometry=[Point(116.3, 39.99)] * len(hours), crs=4326)


def test_import_validation_names_row_field_and_reason() -> None:
    codes = {"service_type": {"red_station": ("红色驿站", "Red station")}}
    with pytest.raises(InvalidInputError) as exc:
        validate_features(_points(["24/7", "周一至周五 9-17", None, "Mo-Fr 08:30-17:30",
                                   "Mo 25:00"]), "service_point", codes=codes)
    errs = [(p.row, p.field) for p in exc.value.errors]
    assert errs == [(2, "opening_hours"), (5, "opening_hours")]
    assert all("opening_hours syntax" in p.reason for p in exc.value.errors)


def test_valid_hours_are_kept_and_blank_is_unknown() -> None:
    codes = {"service_type": {"red_station": ("红色驿站", "Red station")}}
    out = validate_features(_points([" 24/7 ", None, "Mo-Fr 08:30-17:30"]), "service_point",
                            codes=codes).frame
    kept = [v if isinstance(v, str) else None for v in out["opening_hours"]]
    assert kept == ["24/7", None, "Mo-Fr 08:30-17:30"]
