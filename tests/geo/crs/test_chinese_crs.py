"""GCJ-02 / BD-09 offsets: published reference pairs and round trips across China."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from geo.crs import chinese

GEOD = Geod(ellps="WGS84")

# (wgs lon, wgs lat, gcj lon, gcj lat): the test vectors published with eviltransform
# (Shanghai, Shenzhen, Beijing), an independent implementation of the same formulas.
WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]
def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(("lon", "lat", "glon", "glat"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_published_pairs(lon, lat, glon, glat):
    x, y = chinese.wgs84_to_gcj02(lon, lat)
    assert _metres(x, y, glon, glat) < 0.01


@pytest.mark.parametrize(("lon", "lat", "glon", "glat"), WGS_GCJ)
def test_gcj02_to_wgs84_inverts_published_pairs(lon, lat, glon, glat):
    x, y = chinese.gcj02_to_wgs84(glon, glat)
    assert _metres(x, y, lon, lat) < 0.5


def test_wgs84_gcj02_bd09_triple_of_another_implementation():
    # geotool's test triple (Jiaxing): WGS-84 → GCJ-02 → BD-09
    gx, gy = chinese.wgs84_to_gcj02(121.0917077, 30.6107779)
    assert _metres(gx, gy, 121.09626935575027, 30.608604331756705) < 0.01
    bx, by = chinese.wgs84_to_bd09(121.0917077, 30.6107779)
    assert _metres(bx, by, 121.10271732371203, 30.61484572185035) < 0.01
    wx, wy = chinese.bd09_to_wgs84(121.10271732371203, 30.61484572185035)
    assert _metres(wx, wy, 121.0917077, 30.6107779) < 0.5


def _china_grid():
    lon, lat = np.meshgrid(np.linspace(74.0, 134.0, 61), np.linspace(18.0, 53.0, 36))
    return lon.ravel(), lat.ravel()


def test_gcj02_round_trip_across_china_is_below_half_a_metre():
    lon, lat = _china_grid()
    x, y = chinese.gcj02_to_wgs84(*chinese.wgs84_to_gcj02(lon, lat))
    assert np.max(_metres(lon, lat, x, y)) < 0.5


def test_bd09_round_trip_across_china_is_below_half_a_metre():
    lon, lat = _china_grid()
    x, y = chinese.bd09_to_wgs84(*chinese.wgs84_to_bd09(lon, lat))
    assert np.max(_metres(lon, lat, x, y)) < 0.5
    x2, y2 = chinese.bd09_to_gcj02(*chinese.gcj02_to_bd09(lon, lat))
    assert np.max(_metres(lon, lat, x2, y2)) < 0.5


def test_offset_is_hundreds_of_metres_inside_china():
    lon, lat = _china_grid()
    d = _metres(lon, lat, *chinese.wgs84_to_gcj02(lon, lat))
    assert 20 < np.min(d) and np.max(d) < 1000


def test_no_offset_outside_china():
    lon, lat = np.array([2.35, -74.0, 139.7]), np.array([48.85, 40.7, 35.7])
    assert not chinese.in_china(lon, lat).any()
    x, y = chinese.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(x, lon)
    np.testing.assert_array_equal(y, lat)
    x, y = chinese.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(x, lon)


def test_scalars_are_accepted():
    x, _ = chinese.wgs84_to_gcj02(116.3, 39.99)
    assert np.ndim(x) == 0 and float(x) > 116.3


def test_geodataframe_of_mixed_geometries_round_trips():
    gdf = gpd.GeoDataFrame(
        {"name": ["p", "l", "a"],
         "gates": [Point(116.31, 39.99), None, Point(116.32, 39.995)]},
        geometry=[Point(116.31, 39.99), LineString([(116.3, 39.99), (116.31, 40.0)]),
                  Polygon([(116.3, 39.99), (116.31, 39.99), (116.31, 40.0)])],
        crs=4326)
    gdf["gates"] = gpd.GeoSeries(gdf["gates"], crs=4326)
    shifted = chinese.from_wgs84(gdf, "gcj02")
    assert shifted.geometry.iloc[0].distance(gdf.geometry.iloc[0]) > 1e-3
    assert shifted["gates"].iloc[0].distance(gdf["gates"].iloc[0]) > 1e-3
    back = chinese.to_wgs84(shifted, "gcj02")
    assert back.crs.to_epsg() == 4326
    for a, b in zip(back.geometry, gdf.geometry, strict=True):
        assert a.equals_exact(b, 1e-8)
    assert back["gates"].iloc[1] is None
    assert back["gates"].iloc[2].equals_exact(gdf["gates"].iloc[2], 1e-8)
