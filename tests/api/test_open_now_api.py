"""Coverage at a moment over HTTP: ``?at=`` on the coverage tables and the panel, and
opening hours checked by the HTTP import (Guixi demo)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.runs import CoverageParams, run_coverage
from geo.settings import Settings

URL = "/cities/guixi/coverage"
RED = {"service_type": "red_station", "minutes": 15}


@pytest.fixture(scope="module")
def client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with demo_engine.begin() as conn:
        day = run_coverage(conn, "guixi", CoverageParams(minutes=[15])).run_id
        night = run_coverage(conn, "guixi", CoverageParams(minutes=[15], at="Tu 22:00")).run_id
    with TestClient(create_app(settings)) as c:
        c.runs = {"day": day, "night": night}  # type: ignore[attr-defined]
        yield c


def test_run_info_at_a_moment(client: TestClient) -> None:
    night = client.get(URL, params={"at": "周二 22:00"})
    assert night.status_code == 200
    body = night.json()
    assert body["id"] == client.runs["night"] and body["at"] == "Tu 22:00"  # type: ignore
    assert body["params"]["at"] == "Tu 22:00" and body["params"]["closed_service_ids"]
    day = client.get(URL).json()
    assert day["id"] == client.runs["day"] and day["at"] is None  # type: ignore


def test_panel_at_night_counts_fewer_inside(client: TestClient) -> None:
    day = client.get(f"{URL}/panel", params=RED).json()
    night = client.get(f"{URL}/panel", params={**RED, "at": "Tu 22:00"}).json()
    assert night["at"] == "Tu 22:00" and day["at"] is None
    assert night["run_id"] != day["run_id"]
    assert night["totals"]["residents"] == day["totals"]["residents"]
    assert night["totals"]["residents_in"] < day["totals"]["residents_in"]
    assert "at=Tu%2022%3A00" in night["downloads"]["csv"]
    # the rows add up to the totals, as all day
    communities = [r for r in night["rows"] if r["unit_kind"] == "community"]
    assert sum(r["residents_in"] for r in communities) == night["totals"]["residents_in"]


def test_panel_download_at_a_moment_holds_the_same_rows(client: TestClient) -> None:
    night = client.get(f"{URL}/panel", params={**RED, "at": "Tu 22:00"}).json()
    r = client.get(night["downloads"]["csv"])
    assert r.status_code == 200 and "Tu2200" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) - 1 == len(night["rows"])
    inside = rows[0].index(night["labels"]["residents_in"])
    assert [int(x[inside]) for x in rows[1:]] == [x["residents_in"] for x in night["rows"]]


def test_unit_tables_carry_the_moment(client: TestClient) -> None:
    r = client.get(f"{URL}/communities", params={**RED, "at": "Tu 22:00"})
    assert r.status_code == 200
    assert r.json()["meta"]["at"] == "Tu 22:00"
    assert r.json()["meta"]["run_id"] == client.runs["night"]  # type: ignore[attr-defined]
    c = client.get(f"{URL}/compounds", params={"service_type": "after_school",
                                               "at": "Tu 22:00"})
    assert c.status_code == 200
    assert c.json()["rows"] and not any(x["reachable"] for x in c.json()["rows"])


@pytest.mark.parametrize("at", ["Xy 22:00", "Mo 25:00", "tomorrow"])
def test_a_bad_moment_is_a_422_naming_at(client: TestClient, at: str) -> None:
    r = client.get(f"{URL}/panel", params={**RED, "at": at})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["at"]


def test_a_moment_without_a_run_is_a_404_naming_it(client: TestClient) -> None:
    r = client.get(f"{URL}/panel", params={**RED, "at": "Sa 10:00"})
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "no-run" and "Sa 10:00" in body["detail"]


def test_import_with_bad_opening_hours_writes_nothing(
        client: TestClient, demo_engine: Engine) -> None:
    from geo.store import keys

    with demo_engine.begin() as conn:
        admin = keys.create_key(conn, "open-now-admin", role="admin")[1]
        x, y = conn.execute(text(  # a place inside the city: one of its stations
            "SELECT ST_X(s.geom), ST_Y(s.geom) FROM service_point s JOIN city c "
            "ON c.id = s.city_id WHERE c.code = 'guixi' ORDER BY s.id LIMIT 1")).one()
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                 "properties": {"external_id": f"OH{i}", "type": "red_station",
                                "name": f"驿站{i}", "opening_hours": hours}}
                for i, hours in enumerate(["Mo-Fr 08:30-17:30", "周一到周五 8点-17点", "24/7"])]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    r = client.post("/cities/guixi/imports/service-points", headers={"X-API-Key": admin},
                    files={"file": ("p.geojson", body)}, params={"check_offset": "false"})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert len(errors) == 1, errors
    (err,) = errors
    assert (err["row"], err["field"]) == (2, "opening_hours")
    assert "opening_hours syntax" in err["reason"]
    with demo_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM service_point WHERE external_id LIKE 'OH%'"))
        assert n.scalar_one() == 0
