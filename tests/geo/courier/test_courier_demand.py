"""Validation of courier demand inputs: every problem collected, rows numbered from 1."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.courier.demand import validate_compound_demand, validate_demand_points
from geo.errors import CRSError, InvalidInputError

BOUNDS = box(117.18, 28.22, 117.26, 28.30)


def _points(rows: list[dict[str, object]], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[Point(x, y) for x, y in xy],
                            crs=4326)


def test_chinese_weight_column_is_recognised() -> None:
    v = validate_demand_points(_points([{"编号": "d1", "单量": "12"}], [(117.2, 28.25)]),
                               bounds=BOUNDS)
    assert v[["external_id", "weight"]].values.tolist() == [["d1", 12.0]]


def test_weight_defaults_to_one_without_a_column() -> None:
    v = validate_demand_points(_points([{"id": "d1"}], [(117.2, 28.25)]), bounds=BOUNDS)
    assert v["weight"].tolist() == [1.0]


def test_every_problem_is_reported_once() -> None:
    gdf = _points([{"id": "d1", "weight": -1}, {"id": "d1", "weight": "x"},
                   {"id": "d3", "weight": 2}], [(117.2, 28.25), (117.21, 28.25), (28.25, 117.2)])
    with pytest.raises(InvalidInputError) as err:
        validate_demand_points(gdf, bounds=BOUNDS)
    got = {(p.row, p.field) for p in err.value.errors}
    assert got == {(1, "weight"), (2, "external_id"), (2, "weight"), (3, "geometry")}
    assert "swapped" in next(p.reason for p in err.value.errors if p.row == 3)


def test_points_must_be_declared_wgs84() -> None:
    with pytest.raises(CRSError):
        validate_demand_points(_points([{"id": "d1"}], [(117.2, 28.25)]).to_crs(32650))


def test_compound_demand_checks_names_duplicates_and_values() -> None:
    df = pd.DataFrame({"小区编号": ["A", "B", "A", "Z"], "日均件量": ["5", "-2", "1", "3"]})
    with pytest.raises(InvalidInputError) as err:
        validate_compound_demand(df, compounds={"A", "B"})
    got = {(p.row, p.field) for p in err.value.errors}
    assert got == {(2, "demand"), (3, "compound"), (4, "compound")}


def test_compound_demand_needs_both_columns() -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_compound_demand(pd.DataFrame({"compound": ["A"]}), compounds={"A"})
    assert [p.field for p in err.value.errors] == ["demand"]


def test_valid_compound_demand_is_typed() -> None:
    out = validate_compound_demand(pd.DataFrame({"compound": ["A", "B"], "orders": [3, "4.5"]}),
                                   compounds={"A", "B"})
    assert out.to_dict("list") == {"compound": ["A", "B"], "demand": [3.0, 4.5]}
