"""One rule for tables people open: BOM, whole people, formulas neutralised (CSV and Excel)."""

from __future__ import annotations

import math

import geopandas as gpd
import openpyxl
import pytest
import shapely

from geo.io.files import write_file
from geo.io.tables import BOM, cell, csv_text, is_people, safe_text


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_get_an_apostrophe(start: str) -> None:
    assert safe_text(f"{start}1+2") == f"'{start}1+2"


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert safe_text("网格 1") == "网格 1"
    assert cell("gain", -3.5) == -3.5  # a negative number is a number, not a formula


def test_people_are_whole_and_rounded() -> None:
    assert cell("residents_in", 12.5) == 13 and cell("households", 7.49) == 7
    assert cell("residents", 3) == 3 and isinstance(cell("elderly", 2.0), int)
    assert cell("share_covered", 0.25) == 0.25 and not is_people("n_cases")


def test_missing_and_non_finite_are_empty() -> None:
    assert cell("x", math.nan) is None and cell("x", math.inf) is None and cell("x", None) is None


def test_csv_text_starts_with_a_bom_and_neutralises_every_cell() -> None:
    out = csv_text(["name", "residents"], [{"name": "=cmd", "residents": 10.6}])
    assert out.startswith(BOM)
    assert out.removeprefix(BOM).splitlines() == ["name,residents", "'=cmd,11"]


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"external_id": ["a1"], "name": ["@SUM(A1:A9)"],
                             "residents": [41.6]},
                            geometry=[shapely.Point(117.2, 28.2)], crs=4326)


def test_csv_export_follows_the_rule(tmp_path) -> None:
    path = tmp_path / "out.csv"
    write_file(_frame(), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(BOM) and "'@SUM(A1:A9)" in text and ",42," in text


def test_xlsx_export_neutralises_formulas(tmp_path) -> None:
    path = tmp_path / "out.xlsx"
    write_file(_frame(), path)
    ws = openpyxl.load_workbook(path).active
    values = [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))]
    assert "'@SUM(A1:A9)" in values and 42 in values
