"""Coverage tables on the demo database (Guixi, after one coverage run)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from geo.runs import CoverageParams, run_coverage
from geo.settings import Settings

URL = "/cities/guixi/coverage"


@pytest.fixture(scope="module")
def client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with demo_engine.begin() as conn:
        run_coverage(conn, "guixi", CoverageParams(minutes=[5, 10, 15]))
    with TestClient(create_app(settings)) as c:
        yield c


def test_run_info(client: TestClient) -> None:
    r = client.get(URL)
    assert r.status_code == 200
    assert r.json()["params"]["minutes"] == [5, 10, 15]


def test_grid_table_in_people(client: TestClient) -> None:
    r = client.get(f"{URL}/grids", params={"type": "red_station", "minutes": 15})
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert rows and {x["service_type"] for x in rows} == {"red_station"}
    assert {x["minutes"] for x in rows} == {15.0}
    for x in rows:
        assert x["residents_in"] + x["residents_out"] + x["residents_unknown"] == \
            pytest.approx(x["residents"])
        assert x["share_covered"] is None or 0 <= x["share_covered"] <= 1


def test_more_minutes_never_cover_fewer_people(client: TestClient) -> None:
    def total(m: int) -> float:
        rows = client.get(f"{URL}/communities", params={"type": "party_mass_centre",
                                                         "minutes": m}).json()["rows"]
        return sum(x["residents_in"] for x in rows)

    assert total(5) <= total(10) <= total(15)


def test_compounds_csv(client: TestClient) -> None:
    r = client.get(f"{URL}/compounds", params={"type": "elderly_canteen", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows and "nearest_min" in rows[0] and "second_min" in rows[0]


def test_compound_table_names_the_origin_in_json_and_csv(client: TestClient) -> None:
    params = {"type": "elderly_canteen"}
    rows = client.get(f"{URL}/compounds", params=params).json()["rows"]
    # Guixi's compounds all carry the (generated) gates they were loaded with: those win
    assert rows and {x["origin_kind"] for x in rows} == {"gate"}
    r = client.get(f"{URL}/compounds", params={**params, "format": "csv"})
    table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [x["origin_kind"] for x in table] == [x["origin_kind"] for x in rows]


def test_wudaokou_compounds_walk_from_osm_gates(client: TestClient, demo_engine: Engine) -> None:
    with demo_engine.begin() as conn:
        run_coverage(conn, "wudaokou")
    rows = client.get("/cities/wudaokou/coverage/compounds",
                      params={"type": "parcel_station"}).json()["rows"]
    kinds = [x["origin_kind"] for x in rows]
    assert kinds.count("inferred_gate") >= 3 and set(kinds) <= {"gate", "inferred_gate"}


def test_gate_layer_is_served_like_other_layers(client: TestClient) -> None:
    assert "compound_gates" in {x["name"] for x in client.get("/layers").json()["layers"]}
    r = client.get("/collections/compound_gates/items", params={"city": "wudaokou",
                                                                "limit": 1000})
    assert r.status_code == 200
    feats = r.json()["features"]
    kinds = {f["properties"]["origin_kind"] for f in feats}
    assert kinds == {"gate", "inferred_gate"}
    assert all(f["geometry"]["type"] == "Point" for f in feats)
    assert all(f["properties"]["used"] for f in feats)  # Wudaokou: one kind per compound
    tj = client.get("/tiles/compound_gates/tilejson.json")
    assert tj.status_code == 200


def test_health_lists_honest_walking_networks(client: TestClient, demo_engine: Engine) -> None:
    from sqlalchemy import text

    nets = {n["city"]: n for n in client.get("/health").json()["networks"]}
    with demo_engine.connect() as conn:
        for code in ("guixi", "wudaokou"):
            walk_nodes = conn.execute(text(
                "SELECT count(*) FROM street_node n JOIN city c ON c.id = n.city_id "
                "WHERE c.code = :c AND EXISTS (SELECT 1 FROM street_edge e WHERE "
                "e.city_id = n.city_id AND e.walk AND n.node_id IN (e.u, e.v))"),
                {"c": code}).scalar_one()
            assert nets[code]["n_nodes"] == walk_nodes
            assert nets[code]["n_components"] >= 1 and 0 < nets[code]["largest_share"] <= 1


def test_unknown_city_is_404_problem(client: TestClient) -> None:
    r = client.get("/cities/atlantis/coverage/grids")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_bad_minutes_is_422(client: TestClient) -> None:
    r = client.get(f"{URL}/grids", params={"minutes": "-5"})
    assert r.status_code == 422


def test_unknown_unit_is_422(client: TestClient) -> None:
    assert client.get(f"{URL}/villages").status_code == 422


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("+psycopg", "")
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).parents[2], timeout=300, check=False)


def test_cli_analyze_coverage_stores_a_metre_run(settings: Settings, client: TestClient) -> None:
    done = _cli(settings, "analyze", "coverage", "--city", "guixi", "--metres", "300,500,1000")
    assert done.returncode == 0, done.stderr
    assert client.get(URL).json()["params"]["metres"] == [300.0, 500.0, 1000.0]
    rows = client.get(f"{URL}/grids", params={"type": "red_station"}).json()["rows"]
    assert {x["budget_m"] for x in rows} == {300.0, 500.0, 1000.0}


def test_cli_rejects_bad_thresholds_without_traceback(settings: Settings) -> None:
    done = _cli(settings, "analyze", "coverage", "--city", "guixi", "--minutes", "5,abc")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "minutes" in done.stderr


def test_circles_and_gaps_are_served_as_layers(client: TestClient, demo_engine: Engine) -> None:
    with demo_engine.begin() as conn:  # the newest run is the one the layers show
        run_coverage(conn, "guixi", CoverageParams(minutes=[15]))
    for layer in ("coverage_circles_15", "coverage_gaps_15"):
        r = client.get(f"/collections/{layer}/items", params={"city": "guixi", "limit": 50})
        assert r.status_code == 200, r.text
        feats = r.json()["features"]
        assert feats and {f["properties"]["minutes"] for f in feats} == {15}
        assert feats[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
