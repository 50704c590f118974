"""Fixtures of the store tests: a tiny hand-made test city, the real Wudaokou network, the
demo cities with one run of every analysis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import Connection, Engine, text

from geo.network.osm import OsmExtract, read_osm
from geo.runs import (
    CasesParams,
    CourierParams,
    CoverageParams,
    RegridParams,
    run_cases,
    run_courier,
    run_coverage,
    run_regrid,
)
from geo.settings import PROJECT_ROOT
from geo.store.cities import City, create_city, get_city
from geo.store.network import write_network

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


@pytest.fixture(scope="session")
def wudaokou() -> OsmExtract:
    """The real Wudaokou (Beijing) street network, read once per session."""
    return read_osm(PROJECT_ROOT / "data" / "osm" / "wudaokou_2017.osm")


@pytest.fixture
def wdk_city(conn: Connection, wudaokou: OsmExtract) -> City:
    """City ``t-wdk`` with the real Wudaokou walking network stored."""
    c = create_city(conn, "t-wdk", name_zh="五道口", name_en="Wudaokou", bounds=wudaokou.bounds)
    write_network(conn, c.id, wudaokou.nodes, wudaokou.edges)
    return c


def _cases_frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rep = pd.Timestamp("2026-03-01 08:00") + pd.to_timedelta(rng.integers(0, 5000, n), unit="h")
    closed = rng.random(n) < 0.8
    return pd.DataFrame({
        "external_id": [f"C{i:05d}" for i in range(n)],
        "category": rng.choice(["sanitation", "dispute", "clutter"], n),
        "reported_at": rep.strftime("%Y-%m-%d %H:%M"),
        "closed_at": np.where(closed, (rep + pd.Timedelta(hours=20)).strftime("%Y-%m-%d %H:%M"),
                              ""),
        "status": np.where(closed, "closed", "handling"),
        "satisfaction": np.where(closed, "4", ""),
        "lon": np.round(116.3005 + rng.random(n) * 0.011, 6),
        "lat": np.round(39.9905 + rng.random(n) * 0.009, 6)})


def _write_csv(tmp_path: Path, df: pd.DataFrame, name: str = "cases.csv") -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def make_cases() -> Callable[..., pd.DataFrame]:
    """``make_cases(n, seed=1)``: a seeded table of ``n`` valid cases (CSV text columns,
    local times, lon/lat inside :data:`TEST_BOUNDS`; 80 % closed)."""
    return _cases_frame


@pytest.fixture
def write_csv() -> Callable[..., Path]:
    """``write_csv(folder, df, name="cases.csv")`` → the path of the written CSV."""
    return _write_csv


@pytest.fixture
def results(demo_engine: Engine) -> Iterator[tuple[Connection, int]]:
    """``(connection, guixi's id)``: the demo database (rolled back after the test) with one
    run of every analysis that stores per-city rows — coverage, case hot spots, courier
    reach, a saved re-gridding proposal — and imported compound demand for guixi."""
    with demo_engine.connect() as conn:
        trans = conn.begin()
        try:
            guixi = get_city(conn, "guixi").id
            run_coverage(conn, "guixi", CoverageParams(minutes=[10]))
            run_cases(conn, guixi, CasesParams(resolution=9, permutations=199))
            run_courier(conn, guixi, CourierParams(metres=1000))
            run_regrid(conn, "guixi", RegridParams(community="花园社区", save=True))
            conn.execute(text(
                "INSERT INTO courier_compound_demand (compound_id, city_id, demand) "
                "SELECT id, city_id, 10 FROM compound WHERE city_id = :c ORDER BY id LIMIT 5"),
                {"c": guixi})
            yield conn, guixi
        finally:
            trans.rollback()
