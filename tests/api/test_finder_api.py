"""The public finder API and page on the demo: answers equal the run layer's, labels in
Chinese and English, every bad request a clear problem."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.runs import FinderParams, run_find
from geo.settings import Settings
from geo.store.cities import get_city
from geo.store.network import read_network_frames

START = {"lon": 117.2196, "lat": 28.2987}
NEAREST = "/cities/guixi/finder/nearest"


@pytest.fixture(scope="module")
def demo_client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    """The app on the session database with the demo cities."""
    with TestClient(create_app(settings)) as c:
        yield c


def _get(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    return r.status_code, r.json()


def test_nearest_courier_stations_by_riding_with_routes(demo_client: TestClient,
                                                        demo_engine: Engine) -> None:
    status, body = _get(demo_client, NEAREST, **START, service_type="小哥驿站", mode="ride",
                        k=3)
    assert status == 200, body
    assert body["service_type"]["code"] == "courier_station"
    assert body["service_type"]["label"] == "小哥驿站"
    assert body["mode"] == "ride" and body["speed_m_per_min"] == 250.0
    st = body["stations"]
    assert [s["rank"] for s in st] == [1, 2, 3]
    assert [s["minutes"] for s in st] == sorted(s["minutes"] for s in st)
    for s in st:
        assert s["route"]["type"] == "LineString" and len(s["route"]["coordinates"]) >= 2
        first = s["route"]["coordinates"][0]
        assert first == pytest.approx([body["start"]["lon"], body["start"]["lat"]], abs=1e-6)
        assert s["route"]["coordinates"][-1] == pytest.approx([s["lon"], s["lat"]], abs=1e-6)
        assert {"充电", "饮水", "微波炉加热", "卫生间"} <= {v["label"] for v in s["services"]}
        assert s["minutes"] == pytest.approx(s["metres"] / 250.0, abs=0.01)
    # one definition: the run layer's answer, the stored hours
    with demo_engine.connect() as conn:
        hours = dict(conn.execute(text("SELECT id, opening_hours FROM service_point WHERE id = ANY(:i)"),
                                  {"i": [s["id"] for s in st]}).all())
        assert [s["opening_hours"] for s in st] == [hours[s["id"]] for s in st]
        run = run_find(conn, "guixi", FinderParams(**START, service_type="courier_station",
                                                   mode="ride", k=3))
    assert [s["id"] for s in st] == [s.station_id for s in run.result.stations]
    assert [s["metres"] for s in st] == pytest.approx([s.metres for s in run.result.stations],
                                                      abs=0.05)


@pytest.mark.parametrize("name", ["courier_station", "小哥驿站", "Courier rest station"])
def test_type_by_code_chinese_or_english_name(demo_client: TestClient, name: str) -> None:
    status, body = _get(demo_client, NEAREST, **START, service_type=name, k=1)
    assert status == 200 and body["service_type"]["code"] == "courier_station"


def test_english_labels(demo_client: TestClient) -> None:
    status, body = _get(demo_client, NEAREST, **START, lang="en")
    assert status == 200
    assert body["service_type"]["label"] == "Courier rest station"
    labels = {v["label"] for v in body["stations"][0]["services"]}
    assert {"Charging", "Drinking water", "Microwave", "Toilet"} <= labels


def test_a_typed_address_is_the_start(demo_client: TestClient) -> None:
    status, body = _get(demo_client, NEAREST, q="建设路12号", service_type="red_station")
    assert status == 200
    assert body["place"]["kind"] == "street" and body["place"]["name"] == "建设路"
    assert body["origin"] == {"lon": body["place"]["lon"], "lat": body["place"]["lat"]}
    assert body["mode"] == "walk" and len(body["stations"]) == 3


def test_search_lists_compounds_stations_and_streets(demo_client: TestClient) -> None:
    status, body = _get(demo_client, "/cities/guixi/finder/search", q="建设路")
    assert status == 200
    kinds = {r["kind"] for r in body["results"]}
    assert {"street", "station"} <= kinds
    assert body["results"][0]["name"] == "建设路"
    status, body = _get(demo_client, "/cities/guixi/finder/search", q="锦江公寓")
    assert body["results"][0] == {**body["results"][0], "kind": "compound", "name": "锦江公寓"}


def _far_from_streets(engine: Engine) -> tuple[float, float]:
    """A point inside Guixi's bounds more than 400 m from every walkable street."""
    with engine.connect() as conn:
        city = get_city(conn, "guixi")
        _, edges = read_network_frames(conn, city.id, mode="walk")
    streets = shapely.union_all(edges.to_crs(city.metric_epsg).geometry.values)
    x0, y0, x1, y1 = city.bounds.bounds
    for x in np.linspace(x0 + 1e-4, x1 - 1e-4, 25):
        for y in np.linspace(y0 + 1e-4, y1 - 1e-4, 25):
            p = gpd.GeoSeries([shapely.Point(x, y)], crs=4326).to_crs(city.metric_epsg).iloc[0]
            if streets.distance(p) > 400:
                return float(x), float(y)
    raise AssertionError("every point of the bounds is near a street")


@pytest.mark.parametrize(("params", "status", "code", "fields"), [
    ({"lon": 116.31, "lat": 40.0}, 422, "outside-city", {"lon", "lat"}),
    ({**START, "service_type": "小哥驿栈"}, 422, "unknown-service-type", {"service_type"}),
    ({"lon": 117.22}, 422, "invalid-input", {"lat"}),
    ({}, 422, "invalid-input", {"lon", "lat"}),
    ({**START, "q": "建设路"}, 422, "invalid-input", {"q"}),
    ({**START, "k": 0}, 422, "invalid-parameter", {"k"}),
    ({**START, "k": 11}, 422, "invalid-parameter", {"k"}),
    ({**START, "mode": "drive"}, 422, "invalid-parameter", {"mode"}),
    ({"lon": "east", "lat": 28.3}, 422, "invalid-parameter", {"lon"}),
    ({"q": "无此地名"}, 404, "no-place", set()),
])
def test_bad_requests_are_clear_problems(demo_client: TestClient, params: dict[str, Any],
                                         status: int, code: str, fields: set[str]) -> None:
    r = demo_client.get(NEAREST, params=params)
    body = r.json()
    assert r.status_code == status, body
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == code
    assert {e["field"] for e in body.get("errors") or []} >= fields
    if code == "unknown-service-type":
        assert body["suggestions"] == ["courier_station"]


def test_a_point_far_from_every_street(demo_client: TestClient, demo_engine: Engine) -> None:
    lon, lat = _far_from_streets(demo_engine)
    status, body = _get(demo_client, NEAREST, lon=lon, lat=lat)
    assert status == 422 and body["code"] == "off-network", body
    assert "from every street" in body["detail"]


def test_unknown_city_suggests_the_known_ones(demo_client: TestClient) -> None:
    status, body = _get(demo_client, "/cities/guixl/finder/nearest", **START)
    assert status == 404 and body["code"] == "unknown-city" and "guixi" in body["suggestions"]


def test_empty_search_is_a_problem(demo_client: TestClient) -> None:
    status, body = _get(demo_client, "/cities/guixi/finder/search", q="   ")
    assert status == 422 and body["errors"][0]["field"] == "q"


def _config(html: str) -> dict[str, Any]:
    m = re.search(r'<script id="sc-config" type="application/json">(\{.*?\})</script>', html)
    assert m
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def test_page_is_public_offline_and_bilingual(demo_client: TestClient) -> None:
    r = demo_client.get("/finder", params={"city": "guixi"})
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "<title>找驿站</title>" in r.text
    assert not re.search(r"(src|href)=\"https?://", r.text)
    for src in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", r.text):
        assert demo_client.get(src).status_code == 200, src
    config = _config(r.text)
    assert config["city"] == "guixi" and config["service_type"] == "courier_station"
    assert set(config["style"]["sources"]) == {"basemap", "service_points"}
    en = demo_client.get("/finder", params={"city": "guixi", "lang": "en"})
    assert "<title>Find a station</title>" in en.text
    assert 'href="?lang=zh&amp;city=guixi"' in en.text
    assert demo_client.get("/finder", params={"city": "nowhere"}).status_code == 404


def test_openapi_lists_the_finder(demo_client: TestClient) -> None:
    paths = demo_client.get("/openapi.json").json()["paths"]
    assert "/cities/{city}/finder/nearest" in paths and "/cities/{city}/finder/search" in paths


def test_vocabulary_serves_the_station_services(demo_client: TestClient) -> None:
    body = demo_client.get("/vocabulary", params={"lang": "en"}).json()
    labels = {t["label_zh"]: t["label"] for t in body["station_services"]}
    assert labels["充电"] == "Charging" and labels["卫生间"] == "Toilet"
