"""Admin upload of feature files: roles, all-or-nothing, problems listed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

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


# --- bad rows are never written: the high-severity cases, over HTTP ---------------------

COMPOUNDS = "/cities/testville/imports/compounds"
INSIDE = [[117.011, 28.221], [117.012, 28.221], [117.012, 28.222], [117.011, 28.222],
          [117.011, 28.221]]


def _ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def _compounds(*features: tuple[dict[str, Any], dict[str, Any]], **top: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", **top, "features": [
        {"type": "Feature", "geometry": g,
         "properties": {"external_id": "HS1", "name": "上传小区", "community": "C1",
                        "households": 10, "residents": 20, **p}}
        for g, p in features]}).encode()


POLY = {"type": "Polygon", "coordinates": [INSIDE]}
HIGH = {
    "unknown CRS": (_compounds((POLY, {}), crs={
        "type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}),
        (None, "crs"), "EPSG::999999"),
    "multipolygon part outside": (_compounds((POLY, {}), ({"type": "MultiPolygon", "coordinates": [
        [_ring(117.02, 28.23, 117.03, 28.24)], [_ring(116.30, 39.99, 116.301, 39.991)]]},
        {"external_id": "HS2"})), (2, "geometry"), "outside the city's bounds"),
    "10°×10° compound": (_compounds(({"type": "Polygon",
                                       "coordinates": [_ring(112.0, 23.0, 122.0, 33.0)]}, {})),
                          (1, "geometry"), "at most 5 km²"),
    "NUL in a name": (_compounds((POLY, {"name": "幸福\u0000小区"})), (1, "name"), "NUL"),
}


@pytest.mark.parametrize("name", list(HIGH))
def test_high_severity_uploads_are_422_and_change_nothing(
        client: TestClient, api_keys: dict[str, str], sample_engine: Engine,
        checksums: Callable[[Connection], dict[str, tuple[int, str]]], name: str) -> None:
    body, where, text_ = HIGH[name]
    with sample_engine.connect() as conn:
        before = checksums(conn)
    r = client.post(COMPOUNDS, files={"file": ("k.geojson", body)},
                    headers={"X-API-Key": api_keys["admin"]})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert any((e["row"], e["field"]) == where and text_ in e["reason"] for e in errors), errors
    assert "sc-upload" not in r.text and "/tmp" not in r.text
    with sample_engine.connect() as conn:
        assert checksums(conn) == before
