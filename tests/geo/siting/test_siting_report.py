"""The one-page siting report: HTML content and a one-page PDF."""

from __future__ import annotations

import shutil
import subprocess

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.siting.report import ReportData, render_html, render_pdf


def _data() -> ReportData:
    sites = gpd.GeoDataFrame(
        {"rank": [1, 2], "candidate": ["s1", "g2"], "kind": ["street", "gate"],
         "name": ["桂花苑附近", ""], "gain": [1234.0, 56.0], "demand_inside": [4, 1],
         "cost": [float("nan"), 80000.0]},
        geometry=[Point(117.21, 28.29), Point(117.22, 28.30)], crs=4326)
    comp = gpd.GeoDataFrame({"covered_before": [True, False, False],
                             "covered_after": [True, True, False]},
                            geometry=[box(117.20, 28.28, 117.205, 28.285),
                                      box(117.21, 28.29, 117.215, 28.295),
                                      box(117.23, 28.31, 117.235, 28.315)], crs=4326)
    return ReportData(title="测试方案 Test scenario", city_name="贵溪 Guixi",
                      service_type="red_station", minutes=15, weight="residents",
                      total_weight=5000, before_weight=3000, after_weight=4290, sites=sites,
                      compounds=comp, stations=gpd.GeoDataFrame(geometry=[Point(117.2, 28.28)],
                                                                crs=4326),
                      solver={"solver": "highs", "status": "optimal", "gap": 0.0})


def test_html_has_ranked_table_and_figures():
    html = render_html(_data())
    assert "红色驿站" in html and "Red station" in html
    assert html.index("桂花苑附近") < html.index(">g2<")  # unnamed site shows its id
    assert "1,234" in html and "80,000" in html and "+1,290" in html
    assert "85.8 %" in html  # 4290 / 5000
    assert html.count("<polygon") == 3 and html.count("<circle") == 2


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium")
def test_pdf_is_one_page(tmp_path, artifacts):
    pdf = render_pdf(render_html(_data()))
    assert pdf.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(tmp_path / "r.pdf")], capture_output=True,
                              text=True, check=True).stdout
        assert info.split("Pages:")[1].split()[0] == "1"
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(tmp_path / "r.pdf"),
                        str(artifacts / "siting_report")], check=True)
