"""The report map: streets and names of the basemap, circles, scale bar, north arrow,
attribution; names from OpenStreetMap stay text."""

from __future__ import annotations

import re
from dataclasses import replace

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from geo.siting.report import ReportData, render_html
from geo.siting.reportmap import _nice_metres, report_map

X0, Y0 = 117.20, 28.28  # lon/lat of the synthetic town
HOSTILE = '<img src="file:///etc/hostname">路'


def _basemap() -> gpd.GeoDataFrame:
    rows = [("roads", "primary", "解放路", LineString([(X0, Y0 + 0.01), (X0 + 0.03, Y0 + 0.01)])),
            ("roads", "residential", HOSTILE,
             LineString([(X0 + 0.01, Y0), (X0 + 0.01, Y0 + 0.03)])),
            ("roads", "footway", "小径", LineString([(X0, Y0), (X0 + 0.03, Y0 + 0.03)])),
            ("water", "river", "信江", box(X0, Y0 + 0.025, X0 + 0.03, Y0 + 0.03)),
            ("green", "park", "公园", box(X0 + 0.02, Y0, X0 + 0.03, Y0 + 0.005)),
            ("labels", "town", "示范镇", Point(X0 + 0.02, Y0 + 0.02))]
    return gpd.GeoDataFrame({"layer": [r[0] for r in rows], "kind": [r[1] for r in rows],
                             "name": [r[2] for r in rows], "name_zh": None, "name_en": None,
                             "rank": 1, "osm_id": None},
                            geometry=[r[3] for r in rows], crs=4326)


def _data() -> ReportData:
    sites = gpd.GeoDataFrame({"rank": [1], "candidate": ["s1"], "kind": ["street"],
                              "name": ["解放路附近"], "gain": [1200.0], "demand_inside": [3],
                              "cost": [float("nan")]},
                             geometry=[Point(X0 + 0.015, Y0 + 0.012)], crs=4326)
    circles = gpd.GeoDataFrame({"site": [0]}, geometry=[box(X0 + 0.008, Y0 + 0.005,
                                                            X0 + 0.022, Y0 + 0.02)], crs=4326)
    comp = gpd.GeoDataFrame({"covered_before": [False], "covered_after": [True]},
                            geometry=[box(X0 + 0.012, Y0 + 0.013, X0 + 0.014, Y0 + 0.015)],
                            crs=4326)
    return ReportData(title="示范镇 新建红色驿站1处 方案", title_en="Shifan — proposal: 1 new "
                      "Red station site", city_name="示范镇 Shifan", service_type="red_station",
                      minutes=15, weight="residents", total_weight=5000, before_weight=3000,
                      after_weight=4200, sites=sites, compounds=comp, circles=circles,
                      basemap=_basemap())


def test_the_map_has_streets_names_circle_scale_and_north_arrow() -> None:
    html = render_html(_data())
    assert "<h1>示范镇 新建红色驿站1处 方案</h1>" in html
    assert "Shifan — proposal: 1 new Red station site" in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert ">解放路</text>" in svg and ">示范镇</text>" in svg  # street and place names
    assert "小径" not in svg  # footways are left out at this scale
    assert svg.count('stroke-dasharray="5 3"') == 1  # the circle
    assert "N 北" in svg and "© OpenStreetMap contributors" in svg
    assert re.search(r">\d+(\.\d+)? (m|km)</text>", svg)  # the scale bar's length
    assert svg.count("<polygon") == 1 and svg.count("<circle") == 1


def test_names_from_the_basemap_are_escaped() -> None:
    html = render_html(_data())
    assert "<img" not in html
    assert "&lt;img src=&#34;file:///etc/hostname&#34;&gt;路" in html


def test_scale_bar_length_matches_the_drawing() -> None:
    """The scale bar's pixels divided by its metres is the map's scale: the distance between
    two sites 1 km apart (EPSG:4326 → UTM) in pixels."""
    d = _data()
    east = Point(X0 + 0.015 + 1000 / (111_320 * 0.88), Y0 + 0.012)  # ≈ 1 km east
    sites = gpd.GeoDataFrame({"rank": [1, 2]}, geometry=[d.sites.geometry[0], east], crs=4326)
    svg = str(report_map(sites, compounds=None, stations=None, circles=None, basemap=None,
                         width=680, height=500, station_color="#c0392b"))
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    utm = sites.to_crs(sites.estimate_utm_crs())
    metres = utm.geometry[0].distance(utm.geometry[1])
    px_per_m = abs(xs[1] - xs[0]) / metres
    black = re.search(r'<rect x="12" y="[\d.]+" width="([\d.]+)" height="4" fill="#222"/>', svg)
    assert black is not None  # the bar's first (black) half
    half = float(black[1])
    label = re.search(r'text-anchor="end">([\d.]+) (m|km)</text>', svg)
    assert label is not None
    bar_m = float(label[1]) * (1000 if label[2] == "km" else 1)
    assert 2 * half / bar_m == pytest.approx(px_per_m, rel=0.01)


@pytest.mark.parametrize(("limit", "nice"), [(170.0, 100.0), (260.0, 200.0), (999.0, 500.0),
                                             (1000.0, 1000.0), (4300.0, 2000.0)])
def test_nice_scale_lengths(limit: float, nice: float) -> None:
    assert _nice_metres(limit) == nice


def test_without_a_basemap_the_map_still_draws() -> None:
    html = render_html(replace(_data(), basemap=None, circles=None))
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "N 北" in svg and svg.count("<circle") == 1 and "解放路</text>" not in svg
