"""Siting storage: candidates, scenarios with their sites, cascade and version bumps."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import text

from geo.errors import InvalidInputError, NotFoundError
from geo.store.cities import create_city, data_version
from geo.store.siting import (
    get_scenario,
    list_scenarios,
    read_candidates,
    save_scenario,
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
