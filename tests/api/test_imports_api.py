"""Admin upload of feature files: roles, all-or-nothing, problems listed."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

URL = "/cities/testville/imports/service-points"


def _geojson(*features: tuple[str, str, float, float]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
         "properties": {"external_id": e, "type": t, "name": f"上传站点{e}"}}
        for e, t, x, y in features]}).encode()


def _count(engine: Engine, prefix: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM service_point WHERE external_id "
                                     "LIKE :p"), {"p": prefix + "%"}).scalar_one())


def test_upload_needs_admin(client: TestClient, api_keys: dict[str, str]) -> None:
    files = {"file": ("p.geojson", _geojson(("UP0", "red_station", 117.05, 28.25)))}
    assert client.post(URL, files=files).status_code == 401
    assert client.post(URL, files=files,
                       headers={"X-API-Key": api_keys["analyst"]}).status_code == 403


def test_admin_upload_dry_run_then_real(client: TestClient, api_keys: dict[str, str],
                                        sample_engine: Engine) -> None:
    admin = {"X-API-Key": api_keys["admin"]}
    files = {"file": ("p.geojson", _geojson(("UP1", "red_station", 117.05, 28.25),
                                            ("UP2", "grid_station", 117.06, 28.26)))}
    r = client.post(URL, files=files, headers=admin,
                    params={"dry_run": "true", "check_offset": "false"})
    assert r.status_code == 201 and r.json()["inserted"] == 2
    assert _count(sample_engine, "UP") == 0
    try:
        r = client.post(URL, files=files, headers=admin, params={"check_offset": "false"})
        assert r.status_code == 201 and r.json()["inserted"] == 2
        assert _count(sample_engine, "UP") == 2
    finally:
        with sample_engine.begin() as conn:
            conn.execute(text("DELETE FROM service_point WHERE external_id LIKE 'UP%'"))


def test_bad_rows_write_nothing_and_list_problems(client: TestClient, api_keys: dict[str, str],
                                                  sample_engine: Engine) -> None:
    files = {"file": ("p.geojson", _geojson(("BAD1", "red_station", 117.05, 28.25),
                                            ("BAD2", "no_such_type", 117.06, 28.26)))}
    r = client.post(URL, files=files, headers={"X-API-Key": api_keys["admin"]},
                    params={"check_offset": "false"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert any("no_such_type" in e["reason"] for e in r.json()["errors"])
    assert _count(sample_engine, "BAD") == 0


def test_unsupported_file_type_is_422(client: TestClient, api_keys: dict[str, str]) -> None:
    r = client.post(URL, files={"file": ("p.exe", b"MZ")},
                    headers={"X-API-Key": api_keys["admin"]})
    assert r.status_code == 422


def test_unknown_city_is_404(client: TestClient, api_keys: dict[str, str]) -> None:
    r = client.post("/cities/atlantis/imports/service-points",
                    files={"file": ("p.geojson", _geojson(("X1", "red_station", 117.0, 28.2)))},
                    headers={"X-API-Key": api_keys["admin"]})
    assert r.status_code == 404
