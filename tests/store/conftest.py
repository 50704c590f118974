"""Fixtures for the import/export and bulk-write tests: a tiny hand-made test city."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box
from sqlalchemy import Connection

from geo.store.cities import City, create_city

#: A 1.0 km × 1.1 km box in Haidian, Beijing (lon 116.300–116.312, lat 39.990–40.000).
TEST_BOUNDS = box(116.300, 39.990, 116.312, 40.000)


@pytest.fixture
def city(conn: Connection) -> City:
    """An empty test city ``t-io`` inside :data:`TEST_BOUNDS`."""
    return create_city(conn, "t-io", name_zh="测试城", name_en="Test city", bounds=TEST_BOUNDS)


@pytest.fixture
def units() -> dict[str, gpd.GeoDataFrame]:
    """One street, one community, two grids splitting one compound 30/70 by longitude."""
    street = gpd.GeoDataFrame({"external_id": ["S1"], "name": ["测试街道"]},
                              geometry=[box(116.300, 39.990, 116.312, 40.000)], crs=4326)
    community = gpd.GeoDataFrame({"external_id": ["C1"], "name": ["测试社区"], "street": ["S1"]},
                                 geometry=[box(116.300, 39.990, 116.312, 40.000)], crs=4326)
    grids = gpd.GeoDataFrame(
        {"external_id": ["G1", "G2"], "name": ["一网格", "二网格"], "community": ["C1", "C1"]},
        geometry=[box(116.300, 39.990, 116.303, 40.000), box(116.303, 39.990, 116.312, 40.000)],
        crs=4326)
    compounds = gpd.GeoDataFrame(
        {"external_id": ["K1"], "name": ["测试小区"], "community": ["C1"], "households": [300],
         "residents": [800], "property_management": ["managed"]},
        geometry=[box(116.300, 39.994, 116.310, 39.996)], crs=4326)
    return {"street": street, "community": community, "grid": grids, "compound": compounds}
