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


# ---- the coverage layers at a moment ---------------------------------------------------

GAPS = "coverage_gaps_15"


def _city_tiles(demo_engine: Engine, z: int) -> list[tuple[int, int, int]]:
    """The tiles at zoom ``z`` covering Guixi's bounds."""
    from tests.support.sample import tile_of

    with demo_engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(text(
            "SELECT ST_XMin(bounds), ST_YMin(bounds), ST_XMax(bounds), ST_YMax(bounds) "
            "FROM city WHERE code = 'guixi'")).one()
    _, xa, ya = tile_of(x0, y1, z)
    _, xb, yb = tile_of(x1, y0, z)
    return [(z, x, y) for x in range(xa, xb + 1) for y in range(ya, yb + 1)]


def _tile_gaps(client: TestClient, tiles: list[tuple[int, int, int]], service_type: str,
               at: str | None = None) -> set[int]:
    """Compounds drawn by the 15-minute gap layer of ``service_type`` over ``tiles``."""
    from tests.api.test_tiles_api import _decode

    out: set[int] = set()
    moment = {"at": at} if at else {}
    for z, x, y in tiles:
        r = client.get(f"/tiles/{GAPS}/{z}/{x}/{y}.mvt",
                       params={"city": "guixi", "service_type": service_type, **moment})
        assert r.status_code in (200, 204), r.text
        if r.status_code == 200:
            out |= {int(f["properties"]["compound_id"])
                    for f in _decode(r.content)[GAPS]["features"]}
    return out


def test_gap_tiles_at_a_moment_differ_exactly_where_closed_stations_matter(
        client: TestClient, demo_engine: Engine) -> None:
    """Tiles of the gap layer at Tu 22:00 against all day: every all-day gap stays a gap; a
    compound whose nearest station stays open stays covered; one whose nearest station is
    closed becomes a gap when its second nearest is beyond the walk too, and stays covered
    when that second one is open and within it."""
    runs = client.runs  # type: ignore[attr-defined]
    with demo_engine.connect() as conn:
        closed = set(conn.execute(text(
            "SELECT params -> 'closed_service_ids' FROM analysis_run WHERE id = :r"),
            {"r": runs["night"]}).scalar_one())
        rows = conn.execute(text(
            "SELECT compound_id, service_type, nearest_id, nearest_m, second_id, second_m, "
            "15 * speed_m_per_min AS budget FROM coverage_compound WHERE run_id = :r "
            "AND snapped"), {"r": runs["day"]}).all()
    assert closed
    tiles = _city_tiles(demo_engine, 13)
    became = 0
    checked = {"kept": 0, "lost": 0}
    for typ in sorted({r.service_type for r in rows}):
        day = _tile_gaps(client, tiles, typ)
        night = _tile_gaps(client, tiles, typ, "Tu 22:00")
        assert day <= night, typ
        became += len(night - day)
        for r in rows:
            if r.service_type != typ or r.compound_id in day:
                continue
            far = r.second_id is None or r.second_m is None or r.second_m > r.budget * 1.000001
            near = r.second_m is not None and r.second_m < r.budget * 0.999999
            if r.nearest_id not in closed or (near and r.second_id not in closed):
                assert r.compound_id not in night, (typ, r.compound_id)
                checked["kept"] += 1
            elif far:
                assert r.compound_id in night, (typ, r.compound_id)
                checked["lost"] += 1
    assert became > 0 and checked["kept"] > 0 and checked["lost"] > 0


def test_a_moment_on_tiles_needs_a_city_a_coverage_layer_and_a_run(client: TestClient) -> None:
    tile = "/tiles/coverage_gaps_15/11/1688/847.mvt"
    no_city = client.get(tile, params={"at": "Tu 22:00"})
    assert no_city.status_code == 422 and no_city.json()["errors"][0]["field"] == "at"
    other = client.get("/tiles/compounds/12/3376/1694.mvt",
                       params={"city": "guixi", "at": "Tu 22:00"})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "at"
    bad = client.get(tile, params={"city": "guixi", "at": "Xy 22:00"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "at"
    none = client.get(tile, params={"city": "guixi", "at": "Sa 10:00"})
    assert none.status_code == 404 and none.json()["code"] == "no-run"


def test_a_moment_on_ogc_items(client: TestClient) -> None:
    items = "/collections/coverage_gaps_15/items"
    night = client.get(items, params={"city": "guixi", "service_type": "red_station",
                                      "at": "Tu 22:00", "limit": 10_000}).json()
    panel = client.get(f"{URL}/panel", params={**RED, "at": "Tu 22:00"}).json()
    assert sum(f["properties"]["residents"] for f in night["features"]) == \
        panel["totals"]["residents_out"]
    assert client.get(items, params={"at": "Tu 22:00"}).status_code == 400
    assert client.get("/collections/compounds/items",
                      params={"city": "guixi", "at": "Tu 22:00"}).status_code == 400
    assert client.get(items, params={"city": "guixi", "at": "Sa 10:00"}).status_code == 404


def test_the_catalogue_names_the_layers_that_follow_moments(client: TestClient) -> None:
    layers = {la["name"]: la for la in client.get("/layers").json()["layers"]}
    assert layers[GAPS]["moments"] and layers["coverage_completeness"]["moments"]
    assert not layers["compounds"]["moments"]
