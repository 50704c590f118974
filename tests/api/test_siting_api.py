"""Siting endpoints on the demo database: best 5 red stations in Guixi, what-if, reports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from geo.settings import Settings
from geo.store import keys

URL = "/cities/guixi/siting"


@pytest.fixture(scope="module")
def app_client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def analyst(demo_engine: Engine) -> dict[str, str]:
    with demo_engine.begin() as conn:
        key = keys.create_key(conn, "siting-analyst", role="analyst")[1]
    return {"X-API-Key": key}


@pytest.fixture(scope="module")
def admin(demo_engine: Engine) -> dict[str, str]:
    with demo_engine.begin() as conn:
        key = keys.create_key(conn, "siting-admin", role="admin")[1]
    return {"X-API-Key": key}


@pytest.fixture(scope="module")
def best5(app_client: TestClient, analyst: dict[str, str]) -> dict:
    r = app_client.post(f"{URL}/plan", json={"service_type": "red_station", "p": 5,
                                             "save": True, "name": "贵溪五个新红色驿站"},
                        headers=analyst)
    assert r.status_code == 200, r.text
    return r.json()


def test_best_five_red_stations_ranked(best5):
    feats = best5["sites"]["features"]
    gains = [f["properties"]["gain"] for f in feats]
    assert len(feats) == 5 and [f["properties"]["rank"] for f in feats] == [1, 2, 3, 4, 5]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0
    assert best5["after_weight"] == pytest.approx(best5["before_weight"] + sum(gains))
    assert best5["solver"]["gap"] <= 1e-3
    assert best5["scenario_id"] is not None


def test_a_plan_states_whom_it_counts_and_how_fast_they_walk(app_client, best5):
    assert best5["walkers"] == {"target_group": "all", "speed_m_per_min": 75.0,
                                "budget_m": 1125.0, "zh": "全部居民，步行75米/分钟",
                                "en": "all residents, walking 75 m/min"}
    r = app_client.post(f"{URL}/plan", json={"service_type": "日间照料中心", "p": 1,
                                             "minutes": 10, "weight": "households"})
    assert r.status_code == 200, r.text
    assert r.json()["walkers"] == {"target_group": None, "speed_m_per_min": 60.0,
                                   "budget_m": 600.0, "zh": "户，步行60米/分钟",
                                   "en": "households, walking 60 m/min"}


def test_whatif_of_the_proposals_matches_the_plan(app_client, best5):
    lonlat = [f["geometry"]["coordinates"] for f in best5["sites"]["features"]]
    r = app_client.post(f"{URL}/whatif", json={"service_type": "red_station", "sites": lonlat})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["after_weight"] == pytest.approx(best5["after_weight"])
    assert [s["gain"] for s in body["sites"]] == pytest.approx(
        [f["properties"]["gain"] for f in best5["sites"]["features"]])
    assert body["runtime_ms"] < 100


def test_plan_returns_the_before_after_map(app_client):
    r = app_client.post(f"{URL}/plan", json={"p": 2, "compounds": True})
    assert r.status_code == 200, r.text
    body = r.json()
    props = [f["properties"] for f in body["compounds"]["features"]]
    assert sum(p["weight"] for p in props if p["covered_before"]) == pytest.approx(
        body["before_weight"])
    assert sum(p["weight"] for p in props if p["covered_after"]) == pytest.approx(
        body["after_weight"])
    assert all(p["covered_after"] for p in props if p["covered_before"])


def test_whatif_rejects_coordinates_outside_lon_lat(app_client):
    r = app_client.post(f"{URL}/whatif", json={"sites": [[500000.0, 3130000.0]]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "sites"


def test_saving_needs_a_key(app_client):
    r = app_client.post(f"{URL}/plan", json={"p": 1, "save": True})
    assert r.status_code == 401


def test_unknown_service_type_is_422(app_client):
    r = app_client.post(f"{URL}/plan", json={"service_type": "nope", "p": 1})
    assert r.status_code == 422


def test_unknown_city_is_404(app_client):
    assert app_client.post("/cities/atlantis/siting/plan", json={"p": 1}).status_code == 404


def test_lscp_reaches_the_target(app_client):
    r = app_client.post(f"{URL}/plan", json={"model": "lscp", "target_share": 0.9})
    assert r.status_code == 200, r.text
    assert r.json()["after_share"] >= 0.9


def test_scenario_listed_and_fetched(app_client, best5):
    listed = app_client.get(f"{URL}/scenarios").json()
    assert listed["count"] == len(listed["rows"]) and listed["meta"]["city"] == "guixi"
    assert best5["scenario_id"] in [s["id"] for s in listed["rows"]]
    one = app_client.get(f"{URL}/scenarios/{best5['scenario_id']}").json()
    assert one["name"] == "贵溪五个新红色驿站" and len(one["sites"]["features"]) == 5
    assert app_client.get(f"{URL}/scenarios/999999").status_code == 404


def test_proposals_layer_shows_the_newest_scenario(app_client, best5):
    r = app_client.get("/collections/siting_proposals/items", params={"city": "guixi",
                                                                       "limit": 50})
    if r.status_code == 404:
        pytest.skip("features endpoint path differs")
    feats = r.json()["features"]
    assert {f["properties"]["scenario_id"] for f in feats} == {best5["scenario_id"]}


def test_report_html(app_client, best5):
    r = app_client.get(f"{URL}/scenarios/{best5['scenario_id']}/report.html")
    assert r.status_code == 200 and "贵溪五个新红色驿站" in r.text and "<svg" in r.text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium")
def test_report_pdf(app_client, best5, artifacts):
    r = app_client.get(f"{URL}/scenarios/{best5['scenario_id']}/report.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    (artifacts / "siting_guixi_report.pdf").write_bytes(r.content)


def test_exclusion_zone_keeps_sites_out(app_client, best5):
    x, y = best5["sites"]["features"][0]["geometry"]["coordinates"]
    zone = {"type": "Polygon", "coordinates": [[[x - 0.002, y - 0.002], [x + 0.002, y - 0.002],
                                                [x + 0.002, y + 0.002], [x - 0.002, y + 0.002],
                                                [x - 0.002, y - 0.002]]]}
    r = app_client.post(f"{URL}/plan", json={"p": 5, "exclude": zone})
    assert r.status_code == 200, r.text
    for f in r.json()["sites"]["features"]:
        px, py = f["geometry"]["coordinates"]
        assert not (abs(px - x) <= 0.002 and abs(py - y) <= 0.002)


def test_exclusion_zone_must_be_a_polygon(app_client):
    r = app_client.post(f"{URL}/plan", json={"p": 1, "exclude": {"type": "Point",
                                                                  "coordinates": [117.2, 28.3]}})
    assert r.status_code == 422


def test_imported_candidates_with_capacity(app_client, analyst, admin, best5, demo_engine):
    from sqlalchemy import text

    feats = [{"type": "Feature", "geometry": f["geometry"],
              "properties": {"external_id": f"room{i}", "name": f"社区用房{i}",
                             "kind": "community_room", "capacity": 1000, "cost": 80000}}
             for i, f in enumerate(best5["sites"]["features"][:3])]
    try:
        r = app_client.post(f"{URL}/candidates", json={"type": "FeatureCollection",
                                                       "features": feats}, headers=admin)
        assert r.status_code == 200 and r.json() == {"written": 3}
        assert app_client.post(f"{URL}/candidates", json={"features": feats}).status_code == 401
        assert app_client.post(f"{URL}/candidates", json={"features": feats},
                               headers=analyst).status_code == 403
        listed = app_client.get(f"{URL}/candidates").json()["features"]
        assert {f["properties"]["id"] for f in listed} == {"room0", "room1", "room2"}
        r = app_client.post(f"{URL}/plan", json={"p": 2, "generate": False, "use_capacity": True})
        assert r.status_code == 200, r.text
        body = r.json()
        assert [f["properties"]["gain"] for f in body["sites"]["features"]] == [1000, 1000]
        assert body["after_weight"] == pytest.approx(body["before_weight"] + 2000)
        assert {f["properties"]["cost"] for f in body["sites"]["features"]} == {80000}
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM siting_candidate WHERE external_id LIKE 'room%'"))


def _scalar(engine: Engine, sql: str) -> float:
    from sqlalchemy import text

    with engine.connect() as conn:
        return float(conn.execute(text(sql)).scalar_one())


def test_case_demand_totals_the_cases_inside_compounds(app_client, demo_engine, analyst):
    # Independent oracle: cases of one category covered by some Guixi compound, counted
    # once per (case, compound) pair as the rule says.
    inside = _scalar(demo_engine, """
        SELECT count(*) FROM grid_case k JOIN compound c
          ON c.city_id = k.city_id AND ST_Covers(c.geom, k.geom)
        JOIN city y ON y.id = c.city_id
        WHERE y.code = 'guixi' AND k.category = 'sanitation'""")
    r = app_client.post(f"{URL}/plan", json={"p": 2, "weight": "cases",
                                             "case_categories": ["sanitation"]},
                        headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    assert inside > 0 and body["weight"] == "cases"
    assert body["total_weight"] == pytest.approx(inside)
    assert body["after_weight"] > body["before_weight"]


def test_unknown_demand_kind_is_422(app_client):
    r = app_client.post(f"{URL}/plan", json={"p": 1, "weight": "parcels"})
    assert r.status_code == 422
    assert any("weight" in str(e.get("field", e.get("loc"))) for e in r.json()["errors"])


def test_unknown_case_category_is_422(app_client, analyst):
    r = app_client.post(f"{URL}/plan", json={"p": 1, "weight": "cases",
                                             "case_categories": ["noise"]}, headers=analyst)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "categories"


def test_rider_demand_without_an_import_is_422(app_client):
    r = app_client.post(f"{URL}/plan", json={"p": 1, "weight": "rider_demand"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "weight"
    assert "rider demand" in r.json()["detail"]


def test_rider_demand_from_imported_compound_estimates(app_client, demo_engine):
    from sqlalchemy import text

    with demo_engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO courier_compound_demand (compound_id, city_id, demand)
            SELECT id, city_id, 10 FROM compound WHERE external_id IN ('GX-XQ0001', 'GX-XQ0002')"""))
    try:
        r = app_client.post(f"{URL}/plan", json={"p": 1, "weight": "rider_demand"})
        assert r.status_code == 200, r.text
        assert r.json()["total_weight"] == 20
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM courier_compound_demand"))


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("+psycopg", "")
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).parents[2], timeout=300, check=False)


def test_cli_prints_saves_and_reports(settings, demo_engine, app_client, tmp_path):
    out = tmp_path / "best3.html"
    done = _cli(settings, "analyze", "siting", "--city", "guixi", "--type", "red_station",
                "--p", "3", "--save", "--name", "命令行三站", "--report", str(out))
    assert done.returncode == 0, done.stderr
    assert "全部居民" in done.stdout and "纳入小区" in done.stdout  # red stations: everyone
    saved = [s for s in app_client.get(f"{URL}/scenarios").json()["rows"] if s["name"] == "命令行三站"]
    assert len(saved) == 1 and saved[0]["n_sites"] == 3
    one = app_client.get(f"{URL}/scenarios/{saved[0]['id']}").json()
    for f in one["sites"]["features"]:  # every saved site is a row of the printed table
        assert f"{f['properties']['gain']:,.0f}" in done.stdout
    assert "命令行三站" in out.read_text(encoding="utf-8")
    assert "全部居民，步行75米/分钟" in out.read_text(encoding="utf-8")
    assert one["params"]["walkers"]["zh"] == "全部居民，步行75米/分钟"


def test_cli_rejects_bad_options_without_traceback(settings, demo_engine):
    done = _cli(settings, "analyze", "siting", "--city", "guixi", "--model", "best",
                "--demand", "parcels", "--report", "out.docx")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert all(w in done.stderr for w in ("model", "demand", "report"))


def test_cli_rider_demand_needs_an_import(settings, demo_engine):
    done = _cli(settings, "analyze", "siting", "--city", "guixi", "--demand", "rider_demand")
    assert done.returncode == 2 and "no rider demand" in done.stderr


def test_cli_imports_candidate_sites(settings, demo_engine, app_client, best5, tmp_path):
    from sqlalchemy import text

    (x, y), (x2, y2) = (f["geometry"]["coordinates"] for f in best5["sites"]["features"][:2])
    good, bad = tmp_path / "cands.csv", tmp_path / "dup.csv"
    good.write_text(f"编号,名称,成本,lon,lat\ncli1,社区用房,50000,{x},{y}\n"
                    f"cli2,空置商铺,,{x2},{y2}\n", encoding="utf-8")
    bad.write_text(f"external_id,lon,lat\ncli3,{x},{y}\ncli3,{x2},{y2}\n", encoding="utf-8")
    try:
        done = _cli(settings, "import", "candidates", str(good), "--city", "guixi")
        assert done.returncode == 0, done.stderr
        assert "2 were inserted" in done.stderr
        listed = {f["properties"]["id"]: f["properties"]
                  for f in app_client.get(f"{URL}/candidates").json()["features"]}
        assert listed["cli1"]["cost"] == 50000 and listed["cli2"]["cost"] is None
        failed = _cli(settings, "import", "candidates", str(bad), "--city", "guixi")
        assert failed.returncode == 2 and "duplicate external_id" in failed.stderr
        assert "cli3" not in {f["properties"]["id"]
                              for f in app_client.get(f"{URL}/candidates").json()["features"]}
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM siting_candidate WHERE external_id LIKE 'cli%'"))


def test_saved_case_scenario_reports_with_its_window(app_client, analyst):
    window = {"weight": "cases", "case_start": "2025-01-01T00:00:00+08:00",
              "case_end": "2030-01-01T00:00:00+08:00"}
    r = app_client.post(f"{URL}/plan", json={"p": 1, "save": True, "name": "案件窗口",
                                             **window}, headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    one = app_client.get(f"{URL}/scenarios/{body['scenario_id']}").json()
    assert body["total_weight"] > 0
    assert one["weight"] == "cases" and one["params"]["case_start"].startswith("2025-01-01")
    assert app_client.get(f"{URL}/scenarios/{body['scenario_id']}/report.html").status_code == 200
    lonlat = [f["geometry"]["coordinates"] for f in body["sites"]["features"]]
    w = app_client.post(f"{URL}/whatif", json={"sites": lonlat, **window},
                        headers=analyst).json()
    assert w["after_weight"] == pytest.approx(body["after_weight"])
