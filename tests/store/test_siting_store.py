"""Siting storage: candidates, scenarios with their sites, cascade and version bumps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box
from sqlalchemy import text

from geo.errors import InvalidInputError, NotFoundError
from geo.store.cities import create_city, data_version
from geo.store.imports import import_file
from geo.store.inputs import read_compound_demand, read_compounds
from geo.store.siting import (
    get_scenario,
    list_scenarios,
    read_candidates,
    save_scenario,
    with_demand,
    write_candidates,
)

BOUNDS = box(117.20, 28.28, 117.25, 28.32)


@pytest.fixture
def city(conn):
    return create_city(conn, "t-siting", name_zh="测试", name_en="Test", bounds=BOUNDS)


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"rank": [1, 2], "candidate": ["s1", "g4"], "kind": ["street", "gate"],
         "name": ["", "东门"], "gain": [120.0, 30.0], "demand_inside": [3, 1],
         "cost": [float("nan"), 5000.0]},
        geometry=[Point(117.21, 28.29), Point(117.22, 28.30)], crs=4326)


def _save(conn, city, name="s") -> int:
    return save_scenario(conn, city.id, name=name, service_type="red_station", model="mclp",
                         minutes=15, weight="residents",
                         totals={"total_weight": 1000, "before_weight": 600, "after_weight": 750},
                         sites=_sites(), params={"p": 2},
                         solve={"objective": 150, "bound": 150, "gap": 0.0, "solver": "highs",
                                "status": "optimal"})


def test_scenario_round_trip(conn, city):
    sid = _save(conn, city)
    s = get_scenario(conn, sid)
    assert (s.name, s.model, s.minutes, s.after_weight, s.params) == ("s", "mclp", 15, 750, {"p": 2})
    assert s.sites["candidate"].tolist() == ["s1", "g4"]
    assert s.sites["gain"].tolist() == [120.0, 30.0]
    assert s.sites.geometry.iloc[1].equals(Point(117.22, 28.30))
    assert s.sites["cost"].isna().tolist() == [True, False]


def test_scenarios_listed_newest_first(conn, city):
    a, b = _save(conn, city, "a"), _save(conn, city, "b")
    assert [s.id for s in list_scenarios(conn, city.id)] == [b, a]


def test_deleting_the_run_removes_scenario_and_sites(conn, city):
    sid = _save(conn, city)
    run = get_scenario(conn, sid).run_id
    conn.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": run})
    assert conn.execute(text("SELECT count(*) FROM siting_site WHERE scenario_id = :s"),
                        {"s": sid}).scalar() == 0
    with pytest.raises(NotFoundError):
        get_scenario(conn, sid)


def test_scenario_of_another_city_is_not_found(conn, city):
    sid = _save(conn, city)
    with pytest.raises(NotFoundError):
        get_scenario(conn, sid, city_id=city.id + 1000)


def test_saving_bumps_layer_version(conn, city):
    before = data_version(conn, ["siting_scenario", "siting_site"])
    _save(conn, city)
    after = data_version(conn, ["siting_scenario", "siting_site"])
    assert all(after[t] > before[t] for t in before)


def test_site_geometry_has_gist_index(conn):
    idx = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                            "'siting_site_geom_idx'")).scalar()
    assert "gist" in idx.lower()


def test_candidates_upsert_and_read(conn, city):
    gdf = gpd.GeoDataFrame({"external_id": ["r1", "r2"], "name": ["社区用房", "物业办公室"],
                            "kind": ["community_room", "property_office"], "cost": [1.0, None]},
                           geometry=[Point(117.21, 28.29), Point(117.23, 28.31)], crs=4326)
    assert write_candidates(conn, city.id, gdf) == 2
    gdf.loc[0, "name"] = "新名"
    write_candidates(conn, city.id, gdf)
    c = read_candidates(conn, city.id)
    assert c["id"].tolist() == ["r1", "r2"] and c["name"].tolist() == ["新名", "物业办公室"]
    assert c["cost"].isna().tolist() == [False, True]


def test_bad_candidates_report_every_problem(conn, city):
    gdf = gpd.GeoDataFrame({"external_id": ["x", "x"], "cost": [-1.0, 2.0]},
                           geometry=[Point(117.21, 28.29), box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(InvalidInputError) as e:
        write_candidates(conn, city.id, gdf)
    assert sorted(p.field for p in e.value.errors) == ["cost", "external_id", "geometry"]


# Two compounds 1 km apart: A (gate on its north edge) and B (no gates).
A = box(117.21, 28.29, 117.22, 28.30)
B = box(117.23, 28.29, 117.24, 28.30)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def two(conn, city) -> dict[str, int]:
    ids = {}
    for ext, poly, gates in (("A", A, "MULTIPOINT(117.215 28.30)"), ("B", B, None)):
        ids[ext] = conn.execute(text("""
            INSERT INTO compound (city_id, external_id, name, households, residents, gates, geom)
            VALUES (:c, :e, :e, 10, 30, ST_GeomFromText(:g, 4326),
                    ST_Multi(ST_GeomFromText(:p, 4326))) RETURNING id"""),
            {"c": city.id, "e": ext, "g": gates, "p": poly.wkt}).scalar_one()
    return ids


def _case(conn, city, ext, cat, days, x, y) -> None:
    conn.execute(text("""
        INSERT INTO grid_case (city_id, external_id, category, reported_at, status, geom)
        VALUES (:c, :e, :cat, :t, 'reported', ST_Point(:x, :y, 4326))"""),
        {"c": city.id, "e": ext, "cat": cat, "t": T0 + timedelta(days=days), "x": x, "y": y})


@pytest.fixture
def cases(conn, city, two) -> None:
    _case(conn, city, "k1", "sanitation", 0, 117.212, 28.292)   # A, March
    _case(conn, city, "k2", "sanitation", 5, 117.218, 28.298)   # A, March
    _case(conn, city, "k3", "dispute", 40, 117.215, 28.295)     # A, April
    _case(conn, city, "k4", "sanitation", 1, 117.235, 28.295)   # B, March
    _case(conn, city, "k5", "sanitation", 1, 117.245, 28.31)    # in no compound


def test_case_demand_counts_cases_inside_each_compound(conn, city, two, cases):
    d = read_compound_demand(conn, city.id, "cases")
    assert d.to_dict() == {two["A"]: 3.0, two["B"]: 1.0}


def test_case_demand_filters_categories(conn, city, two, cases):
    d = read_compound_demand(conn, city.id, "cases", categories=["sanitation"])
    assert d.to_dict() == {two["A"]: 2.0, two["B"]: 1.0}


def test_case_demand_filters_the_time_window(conn, city, two, cases):
    d = read_compound_demand(conn, city.id, "cases", start=datetime(2026, 4, 1, tzinfo=UTC),
                             end=datetime(2026, 5, 1, tzinfo=UTC))
    assert d.to_dict() == {two["A"]: 1.0, two["B"]: 0.0}


def _point(conn, city, ext, weight, x, y) -> None:
    conn.execute(text("""
        INSERT INTO courier_demand_point (city_id, external_id, weight, geom)
        VALUES (:c, :e, :w, ST_Point(:x, :y, 4326))"""),
        {"c": city.id, "e": ext, "w": weight, "x": x, "y": y})


def test_rider_points_go_to_their_compound_else_the_nearest_gate(conn, city, two):
    _point(conn, city, "p1", 5, 117.216, 28.301)   # outside, ~100 m from A's gate
    _point(conn, city, "p2", 2, 117.235, 28.295)   # inside B
    _point(conn, city, "p3", 3, 117.2195, 28.291)  # inside A, though nearer B's edge
    _point(conn, city, "p4", 4, 117.226, 28.300)   # outside: B's edge ~390 m, A's gate ~1.1 km
    d = read_compound_demand(conn, city.id, "rider_demand")
    assert d.to_dict() == {two["A"]: 8.0, two["B"]: 6.0}


def test_rider_compound_estimates_win_over_points(conn, city, two):
    _point(conn, city, "p1", 5, 117.216, 28.301)
    conn.execute(text("INSERT INTO courier_compound_demand (compound_id, city_id, demand) "
                      "VALUES (:a, :c, 12)"), {"a": two["A"], "c": city.id})
    d = read_compound_demand(conn, city.id, "rider_demand")
    assert d.to_dict() == {two["A"]: 12.0, two["B"]: 0.0}


def test_rider_demand_without_an_import_is_rejected(conn, city, two):
    with pytest.raises(InvalidInputError, match="no rider demand") as e:
        read_compound_demand(conn, city.id, "rider_demand")
    assert e.value.errors[0].field == "weight"


def test_with_demand_adds_the_kind_as_a_column(conn, city, two, cases):
    comp = with_demand(conn, city.id, read_compounds(conn, city.id), "cases")
    assert dict(zip(comp["external_id"], comp["cases"], strict=True)) == {"A": 3.0, "B": 1.0}


def test_unknown_demand_kind_is_rejected(conn, city, two):
    with pytest.raises(InvalidInputError, match="unknown demand kind"):
        with_demand(conn, city.id, read_compounds(conn, city.id), "parcels")


CANDIDATES_CSV = """external_id,名称,场地类型,成本,capacity,lon,lat
r1,社区用房一,community_room,80000,500,117.215,28.295
r2,空置商铺,vacant_shop,,,117.235,28.305
"""


def test_candidates_file_round_trip(conn, city, tmp_path):
    path = tmp_path / "candidates.csv"
    path.write_text(CANDIDATES_CSV, encoding="utf-8")
    report = import_file(conn, city.code, "candidates", path)
    assert (report.kind, report.rows_read, report.inserted, report.updated) == (
        "siting_candidate", 2, 2, 0)
    got = read_candidates(conn, city.id).set_index("id")
    assert got.loc["r1", ["name", "kind", "cost", "capacity"]].tolist() == [
        "社区用房一", "community_room", 80000.0, 500.0]
    assert got.loc["r2", "kind"] == "vacant_shop" and np.isnan(got.loc["r2", "cost"])
    assert got.geometry["r2"].equals(Point(117.235, 28.305))
    again = import_file(conn, city.code, "candidates", path)
    assert (again.inserted, again.updated) == (0, 2)
    assert len(read_candidates(conn, city.id)) == 2


def test_candidates_file_problems_listed_and_nothing_written(conn, city, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("external_id,cost,lon,lat\n"
                    "a,10,117.21,28.29\n"      # fine
                    "a,20,117.22,28.29\n"      # duplicate id
                    "b,30,118.50,28.29\n"      # outside the city
                    "c,40,,\n"                 # no geometry
                    "d,-5,117.23,28.30\n",     # negative cost
                    encoding="utf-8")
    with pytest.raises(InvalidInputError) as e:
        import_file(conn, city.code, "candidates", path)
    found = {(p.row, p.field) for p in e.value.errors}
    assert found == {(2, "external_id"), (3, "geometry"), (4, "geometry"), (5, "cost")}
    assert "outside the city" in " ".join(p.reason for p in e.value.errors if p.row == 3)
    assert len(read_candidates(conn, city.id)) == 0
