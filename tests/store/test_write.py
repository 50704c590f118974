"""Bulk insert-or-update of units, service points and cases; the grid–compound overlay."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import text

from geo.errors import CRSError, InvalidInputError
from geo.store.write import refresh_grid_compound, upsert_counts, upsert_features


def _load_units(conn, city, units):
    for kind in ("street", "community", "grid", "compound"):
        upsert_features(conn, kind, city.id, units[kind])


def test_units_are_written_with_parents_resolved(conn, city, units):
    _load_units(conn, city, units)
    row = conn.execute(text(
        "SELECT c.name, s.external_id FROM community c JOIN street s ON s.id = c.street_id "
        "WHERE c.city_id = :c"), {"c": city.id}).one()
    assert tuple(row) == ("测试社区", "S1")
    n = conn.execute(text("SELECT count(*) FROM grid g JOIN community c ON c.id = g.community_id "
                          "WHERE g.city_id = :c AND c.external_id = 'C1'"), {"c": city.id}).scalar()
    assert n == 2


def test_polygons_are_promoted_to_multipolygons(conn, city, units):
    _load_units(conn, city, units)
    t = conn.execute(text("SELECT DISTINCT GeometryType(geom) FROM grid WHERE city_id = :c"),
                     {"c": city.id}).scalars().all()
    assert t == ["MULTIPOLYGON"]


def test_reimport_updates_instead_of_duplicating(conn, city, units):
    _load_units(conn, city, units)
    changed = units["compound"].assign(residents=[900])
    counts = upsert_counts(conn, "compound", city.id, changed)
    assert (counts.inserted, counts.updated) == (0, 1)
    rows = conn.execute(text("SELECT residents FROM compound WHERE city_id = :c"),
                        {"c": city.id}).scalars().all()
    assert rows == [900]


def test_unknown_parent_lists_the_rows(conn, city, units):
    upsert_features(conn, "street", city.id, units["street"])
    upsert_features(conn, "community", city.id, units["community"])
    grids = units["grid"].assign(community=["C1", "NOPE"])
    with pytest.raises(InvalidInputError) as exc:
        upsert_features(conn, "grid", city.id, grids)
    assert [(p.row, p.field) for p in exc.value.errors] == [(2, "community")]
    assert "NOPE" in exc.value.errors[0].reason
    assert conn.execute(text("SELECT count(*) FROM grid WHERE city_id = :c"),
                        {"c": city.id}).scalar() == 0


def test_other_crs_is_rejected(conn, city, units):
    with pytest.raises(CRSError):
        upsert_features(conn, "street", city.id, units["street"].to_crs(32650))


def test_wrong_geometry_type_is_rejected(conn, city):
    gdf = gpd.GeoDataFrame({"external_id": ["S1"], "name": ["x"]}, geometry=[Point(116.3, 39.99)],
                           crs=4326)
    with pytest.raises(InvalidInputError, match="cannot write street"):
        upsert_features(conn, "street", city.id, gdf)


def test_service_points_with_services_and_gates(conn, city, units):
    _load_units(conn, city, units)
    sp = gpd.GeoDataFrame(
        {"external_id": ["P1"], "type": ["courier_station"], "name": ["小哥驿站"],
         "services": [["water", "charging"]], "capacity": [np.nan]},
        geometry=[Point(116.305, 39.995)], crs=4326)
    upsert_features(conn, "service_point", city.id, sp)
    row = conn.execute(text("SELECT services, capacity FROM service_point WHERE city_id = :c"),
                       {"c": city.id}).one()
    assert (row.services, row.capacity) == (["water", "charging"], None)
    gated = units["compound"].assign(gates=[Point(116.300, 39.995)])
    upsert_features(conn, "compound", city.id, gated)
    assert conn.execute(text("SELECT GeometryType(gates) FROM compound WHERE city_id = :c"),
                        {"c": city.id}).scalar() == "MULTIPOINT"


def test_30000_cases_in_one_call(conn, city):
    rng = np.random.default_rng(7)
    n = 30_000
    rep = pd.Timestamp("2026-01-01", tz="Asia/Shanghai") + pd.to_timedelta(
        rng.integers(0, 300 * 24, n), unit="h")
    closed = rng.random(n) < 0.9
    cases = gpd.GeoDataFrame(
        {"external_id": [f"E{i}" for i in range(n)],
         "category": rng.choice(["sanitation", "dispute", "clutter"], n),
         "reported_at": rep,
         "closed_at": pd.Series(rep + pd.Timedelta(hours=30)).where(closed, pd.NaT),
         "status": np.where(closed, "closed", "handling"),
         "satisfaction": np.where(closed, 5, np.nan)},
        geometry=gpd.points_from_xy(116.300 + rng.random(n) * 0.012,
                                    39.990 + rng.random(n) * 0.01), crs=4326)
    import time

    t0 = time.perf_counter()
    assert upsert_features(conn, "grid_case", city.id, cases) == n
    assert time.perf_counter() - t0 < 20
    counts = upsert_counts(conn, "grid_case", city.id, cases)
    assert (counts.inserted, counts.updated) == (0, n)
    assert conn.execute(text("SELECT count(*) FROM grid_case WHERE city_id = :c AND "
                             "status = 'closed'"), {"c": city.id}).scalar() == int(closed.sum())
    first = conn.execute(text("SELECT reported_at, closed_at FROM grid_case WHERE city_id = :c "
                              "AND external_id = 'E0'"), {"c": city.id}).one()
    assert pd.Timestamp(first.reported_at) == rep[0]
    assert (first.closed_at is None) == (not closed[0])


def test_grid_compound_shares_split_30_70(conn, city, units):
    _load_units(conn, city, units)
    assert refresh_grid_compound(conn, city.id) == 2
    rows = conn.execute(text(
        "SELECT g.external_id, gc.resident_share, gc.shared_area_m2 FROM grid_compound gc "
        "JOIN grid g ON g.id = gc.grid_id WHERE g.city_id = :c ORDER BY 1"), {"c": city.id}).all()
    shares = {r[0]: r[1] for r in rows}
    assert shares["G1"] == pytest.approx(0.3, abs=1e-3)
    assert shares["G2"] == pytest.approx(0.7, abs=1e-3)
    # 0.01° lon × 0.002° lat at 39.995°N ≈ 853.6 m × 222.1 m
    assert sum(r[2] for r in rows) == pytest.approx(853.6 * 222.1, rel=5e-3)


def test_grid_compound_refresh_replaces_old_rows(conn, city, units):
    _load_units(conn, city, units)
    refresh_grid_compound(conn, city.id)
    bigger = units["grid"].iloc[[0]].set_geometry([box(116.300, 39.990, 116.312, 40.000)],
                                                   crs=4326)
    upsert_features(conn, "grid", city.id, bigger)
    # G1 now covers the compound entirely, G2 still covers 70 %: shares by shared area
    assert refresh_grid_compound(conn, city.id) == 2
    total = conn.execute(text(
        "SELECT sum(resident_share) FROM grid_compound gc JOIN compound c ON c.id = gc.compound_id "
        "WHERE c.city_id = :c"), {"c": city.id}).scalar()
    assert total == pytest.approx(1.0)



def test_database_constraint_violation_becomes_invalid_input(conn, city):
    sp = gpd.GeoDataFrame({"external_id": ["P1"], "type": ["spaceport"], "name": ["x"]},
                          geometry=[Point(116.305, 39.995)], crs=4326)
    with pytest.raises(InvalidInputError, match="database rejected") as exc:
        upsert_features(conn, "service_point", city.id, sp)
    assert "service_point_type_fkey" in exc.value.errors[0].reason
