"""Courier-reach endpoints on the demo database: runs (analysts), reach lists, layers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.settings import Settings
from geo.store import keys

URL = "/cities/guixi/courier"


@pytest.fixture(scope="module")
def courier_client(settings: Settings, demo_engine: Engine
                   ) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app on the demo database, an analyst and a viewer key; runs removed after."""
    with demo_engine.begin() as conn:
        analyst = keys.create_key(conn, "courier-analyst", role="analyst")[1]
        viewer = keys.create_key(conn, "courier-viewer", role="viewer")[1]
    try:
        with TestClient(create_app(settings)) as client:
            yield client, {"analyst": analyst, "viewer": viewer}
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM analysis_run WHERE kind = 'courier_reach'"))
            conn.execute(text("DELETE FROM api_key WHERE name LIKE 'courier-%'"))


@pytest.fixture(scope="module")
def run(courier_client: tuple[TestClient, dict[str, str]]) -> dict[str, Any]:
    client, k = courier_client
    r = client.post(f"{URL}/runs", json={"preset": "courier_1km"},
                    headers={"X-API-Key": k["analyst"]})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def client(courier_client: tuple[TestClient, dict[str, str]], run: dict[str, Any]
           ) -> TestClient:
    return courier_client[0]


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_anonymous_cannot_start_a_run(courier_client: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = courier_client
    r = client.post(f"{URL}/runs", json={"preset": "courier_1km"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def test_viewer_cannot_start_a_run(courier_client: tuple[TestClient, dict[str, str]]) -> None:
    client, k = courier_client
    r = client.post(f"{URL}/runs", json={"preset": "courier_1km"},
                    headers={"X-API-Key": k["viewer"]})
    assert r.status_code == 403


def test_run_states_its_mode_and_budget(run: dict[str, Any]) -> None:
    assert (run["service_type"], run["mode"], run["budget_m"]) == ("courier_station", "ride",
                                                                    1000.0)


def test_stations_list_every_courier_station_with_residents(client: TestClient,
                                                            demo_engine: Engine) -> None:
    items = client.get(f"{URL}/stations").json()["rows"]
    n = _count(demo_engine, "SELECT count(*) FROM service_point s JOIN city c ON c.id = "
               "s.city_id WHERE c.code = 'guixi' AND s.type = 'courier_station'")
    assert len(items) == n
    residents = [i["residents"] for i in items]
    assert residents == sorted(residents, reverse=True)
    assert sum(residents) > 0


def test_station_residents_are_the_sum_of_their_compounds(client: TestClient) -> None:
    stations = {i["external_id"]: i for i in client.get(f"{URL}/stations").json()["rows"]}
    compounds = client.get(f"{URL}/compounds").json()["rows"]
    for sid, st in stations.items():
        total = sum(c["residents"] for c in compounds if sid in c["station_ids"])
        assert st["residents"] == pytest.approx(total)


def test_stations_as_csv(client: TestClient) -> None:
    r = client.get(f"{URL}/stations", params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(client.get(f"{URL}/stations").json()["rows"])
    assert {"external_id", "name", "residents", "compounds", "grids"} <= set(rows[0])


def test_stations_as_geojson_points_or_catchments(client: TestClient) -> None:
    pts = client.get(f"{URL}/stations", params={"format": "geojson"}).json()
    assert {f["geometry"]["type"] for f in pts["features"]} == {"Point"}
    polys = client.get(f"{URL}/stations", params={"format": "geojson",
                                                  "catchments": True}).json()
    assert {f["geometry"]["type"] for f in polys["features"] if f["geometry"]} == \
        {"MultiPolygon"}


def test_unreached_compounds_are_those_without_a_station(client: TestClient,
                                                         run: dict[str, Any]) -> None:
    items = client.get(f"{URL}/compounds", params={"unreached": True}).json()["rows"]
    assert len(items) == run["summary"]["compounds_unreached"]
    assert all(i["n_stations"] == 0 and i["reached"] is False and i["best_m"] is None
               for i in items)


def test_overlaps_respect_the_minimum_share(client: TestClient) -> None:
    items = client.get(f"{URL}/overlaps", params={"min_share": 0.3}).json()["rows"]
    assert all(i["share"] >= 0.3 for i in items)


def test_share_outside_zero_one_is_rejected(client: TestClient) -> None:
    assert client.get(f"{URL}/overlaps", params={"min_share": 2}).status_code == 422


def test_type_without_a_run_is_not_found(client: TestClient) -> None:
    r = client.get(f"{URL}/stations", params={"service_type": "elderly_canteen"})
    assert r.status_code == 404
    assert r.json()["code"] == "no-run" and "/courier/runs" in r.json()["hint"]


def test_unknown_city_is_not_found(client: TestClient) -> None:
    assert client.get("/cities/nowhere/courier/stations").status_code == 404


def test_unreached_layer_serves_the_unreached_compounds(client: TestClient,
                                                        run: dict[str, Any]) -> None:
    r = client.get("/collections/courier_unreached/items",
                   params={"city": "guixi", "limit": 1000})
    assert r.status_code == 200, r.text
    assert len(r.json()["features"]) == run["summary"]["compounds_unreached"]


def test_reach_layer_serves_every_station(client: TestClient) -> None:
    r = client.get("/collections/courier_reach/items", params={"city": "guixi", "limit": 100})
    n = len(client.get(f"{URL}/stations").json()["rows"])
    assert len(r.json()["features"]) == n


def test_analyze_courier_command_stores_both_presets(
        courier_client: tuple[TestClient, dict[str, str]], settings: Settings) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("+psycopg", "")
    out = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "analyze",
                          "courier", "--city", "guixi"], capture_output=True, text=True,
                         env=env, cwd=Path(__file__).parents[2], timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    said = " ".join((out.stdout + out.stderr).split())
    assert "guixi courier_station (ride, 1,000 m): run" in said
    assert "guixi parcel_station (walk, 5 min): run" in said
    client, _ = courier_client
    items = client.get(f"{URL}/stations", params={"service_type": "parcel_station"}).json()
    assert items["meta"]["mode"] == "walk" and len(items["rows"]) > 0


def test_courier_demand_command_imports_all_or_nothing(
        courier_client: tuple[TestClient, dict[str, str]], settings: Settings,
        demo_engine: Engine, tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("+psycopg", "")
    good = tmp_path / "demand.csv"
    bad = tmp_path / "bad.csv"
    good.write_text("compound,demand\nGX-XQ0001,12\nGX-XQ0002,8\n", encoding="utf-8")
    bad.write_text("compound,demand\nGX-XQ0001,5\nNOPE,1\n", encoding="utf-8")

    def cli(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "from api.cli import main; main()",
                               "analyze", "courier-demand", "--city", "guixi", "--kind",
                               "compounds", str(path)], capture_output=True, text=True,
                              env=env, cwd=Path(__file__).parents[2], timeout=120, check=False)

    sql = ("SELECT coalesce(sum(d.demand), 0) FROM courier_compound_demand d "
           "JOIN compound c ON c.id = d.compound_id WHERE c.external_id LIKE 'GX-%'")
    try:
        assert cli(good).returncode == 0
        assert _count(demo_engine, sql) == 20
        failed = cli(bad)
        assert failed.returncode != 0 and "NOPE" in failed.stderr + failed.stdout
        assert "Traceback" not in failed.stderr
        assert _count(demo_engine, sql) == 20  # the failed import changed nothing
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM courier_compound_demand"))
