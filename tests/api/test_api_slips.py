"""Ordinary slips over HTTP: each endpoint answers a short, specific 4xx, never an empty 200.

A typo'd city or layer is a 404 suggesting the close name; an unknown service type or
case category a 422 suggesting the close one; Chinese and English names work like codes;
a threshold the coverage run did not compute is a 422 naming the available ones; the
``service_type`` parameter is the same on every endpoint (``type`` a deprecated alias);
the map page answers its errors as an HTML page. Runs on the demo database (Guixi).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.security import ERROR_PAGE_CSP
from geo.runs import CourierParams, CoverageParams, run_courier, run_coverage
from geo.settings import Settings
from geo.store import keys
from geo.store.imports import add_service_type

CITY = "/cities/guixi"


@pytest.fixture(scope="module")
def admin(demo_engine: Engine) -> dict[str, str]:
    with demo_engine.begin() as conn:
        return {"X-API-Key": keys.create_key(conn, "slips-admin", role="admin")[1]}


@pytest.fixture(scope="module")
def client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with demo_engine.begin() as conn:
        run_coverage(conn, "guixi", CoverageParams(minutes=[5, 10, 15]))
        # a reach run asked for by Chinese name: stored under the code
        run = run_courier(conn, "guixi", CourierParams(service_type="快递驿站", mode="walk",
                                                       minutes=5))
        assert run.params["service_type"] == "parcel_station"
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def inside(demo_engine: Engine) -> tuple[float, float]:
    """A point of Guixi (a compound's centre)."""
    with demo_engine.connect() as conn:
        x, y = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(k.geom) AS c FROM compound k "
            "JOIN city ON city.id = k.city_id WHERE city.code = 'guixi' ORDER BY k.id LIMIT 1) "
            "s")).one()
    return float(x), float(y)


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    assert "Traceback" not in r.text and len(r.text) < 2000  # short
    return body


def _reasons(body: dict[str, Any]) -> str:
    return " ".join([body.get("detail") or ""] + [e["reason"] for e in body.get("errors") or []])


# --- each endpoint: unknown city, unknown type / category -------------------------------

#: (method, path under /cities/{city}, query or JSON body) of every city endpoint family.
ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/coverage", {}),
    ("GET", "/coverage/grids", {"service_type": "red_station"}),
    ("GET", "/coverage/compounds", {"service_type": "red_station"}),
    ("GET", "/courier/stations", {"service_type": "parcel_station"}),
    ("GET", "/courier/runs/latest", {"service_type": "parcel_station"}),
    ("GET", "/cases/trends", {"categories": "sanitation"}),
    ("GET", "/cases/hexes", {}),
    ("POST", "/siting/whatif", {"service_type": "red_station", "sites": [[117.0, 28.2]]}),
    ("POST", "/siting/plan", {"service_type": "red_station", "p": 1}),
]


def _call(client: TestClient, method: str, path: str, values: dict[str, Any],
          city: str = "guixi", **kw: Any) -> Any:
    url = f"/cities/{city}{path}"
    if method == "GET":
        return client.get(url, params=values, **kw)
    return client.post(url, json=values, **kw)


@pytest.mark.parametrize(("method", "path", "values"), ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_typo_in_the_city_is_404_suggesting_it(client: TestClient, method: str, path: str,
                                               values: dict[str, Any]) -> None:
    body = _problem(_call(client, method, path, values, city="guixii"), 404, "unknown-city")
    assert body["suggestions"] == ["guixi"] and "did you mean guixi?" in body["detail"]


TYPED = [(m, p, v) for m, p, v in ENDPOINTS if "service_type" in v]


@pytest.mark.parametrize(("method", "path", "values"), TYPED,
                         ids=[f"{m} {p}" for m, p, _ in TYPED])
def test_misspelt_service_type_is_422_suggesting_it(client: TestClient, method: str, path: str,
                                                    values: dict[str, Any]) -> None:
    typo = {"red_station": "红色驿占", "parcel_station": "parcel_statoin"}[values["service_type"]]
    body = _problem(_call(client, method, path, values | {"service_type": typo}), 422,
                    "unknown-service-type")
    assert body["suggestions"] == [values["service_type"]]
    assert f"did you mean {values['service_type']}" in _reasons(body)
    assert body["errors"][0]["field"].endswith("service_type")


def test_misspelt_category_is_422_suggesting_it(client: TestClient) -> None:
    body = _problem(client.get(f"{CITY}/cases/trends", params={"categories": "安全隐患,sanitaton"}),
                    422, "unknown-category")
    assert body["suggestions"] == ["sanitation"] and "did you mean sanitation" in _reasons(body)


def test_out_of_range_numbers_are_422_naming_the_parameter(client: TestClient) -> None:
    for path, params, field in (("/coverage/grids", {"minutes": 500}, "minutes"),
                                ("/cases/hexes", {"resolution": 12}, "resolution"),
                                ("/courier/overlaps", {"min_share": 2,
                                                       "service_type": "parcel_station"},
                                 "min_share")):
        body = _problem(client.get(f"{CITY}{path}", params=params), 422, "invalid-parameter")
        assert [e["field"] for e in body["errors"]] == [field]


# --- Chinese and English names work like codes ------------------------------------------


@pytest.mark.parametrize("name", ["红色驿站", "Red station", " RED-STATION "])
def test_coverage_by_chinese_or_english_name(client: TestClient, name: str) -> None:
    by_code = client.get(f"{CITY}/coverage/grids", params={"service_type": "red_station",
                                                            "minutes": 15})
    by_name = client.get(f"{CITY}/coverage/grids", params={"service_type": name, "minutes": 15})
    assert by_code.status_code == by_name.status_code == 200, by_name.text
    rows = by_name.json()["rows"]
    assert rows and rows == by_code.json()["rows"]


def test_type_is_a_deprecated_alias_of_service_type(client: TestClient) -> None:
    a = client.get(f"{CITY}/coverage/compounds", params={"type": "孝老食堂"}).json()["rows"]
    b = client.get(f"{CITY}/coverage/compounds",
                   params={"service_type": "elderly_canteen"}).json()["rows"]
    assert a and a == b and {r["service_type"] for r in a} == {"elderly_canteen"}
    c = client.get(f"{CITY}/courier/stations", params={"type": "快递驿站"})
    assert c.status_code == 200 and c.json()["meta"]["service_type"] == "parcel_station"


def test_the_same_parameter_name_on_every_endpoint(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    typed = {path: {p["name"]: p for p in op.get("parameters", [])}
             for path, ops in doc["paths"].items() for op in ops.values()
             if any(p["name"] in ("type", "service_type") for p in op.get("parameters", []))}
    assert len(typed) >= 6
    for path, params in typed.items():
        assert "service_type" in params, path
        if "type" in params:
            assert params["type"].get("deprecated") is True, path


def test_courier_tables_by_chinese_name(client: TestClient) -> None:
    by_name = client.get(f"{CITY}/courier/stations", params={"service_type": "快递驿站"})
    by_code = client.get(f"{CITY}/courier/stations", params={"service_type": "parcel_station"})
    assert by_name.status_code == 200 and by_name.json()["rows"] == by_code.json()["rows"]


def test_case_query_by_chinese_category(client: TestClient) -> None:
    by_name = client.get(f"{CITY}/cases/trends", params={"categories": "安全隐患，环境卫生"})
    by_code = client.get(f"{CITY}/cases/trends",
                         params={"categories": "safety_hazard,sanitation"})
    assert by_name.status_code == 200, by_name.text
    rows = by_name.json()["rows"]
    assert rows and rows == by_code.json()["rows"]
    assert {r["key"] for r in rows} == {"safety_hazard", "sanitation"}


def test_whatif_by_chinese_name_answers_with_the_code(client: TestClient,
                                                      inside: tuple[float, float]) -> None:
    r = client.post(f"{CITY}/siting/whatif", json={"service_type": "红色驿站",
                                                    "sites": [list(inside)]})
    assert r.status_code == 200, r.text
    assert r.json()["service_type"] == "red_station"


def _tile(lon: float, lat: float, z: int = 14) -> str:
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return f"{z}/{int((lon + 180) / 360 * n)}/{int(y)}"


def test_tile_filter_by_chinese_name_is_the_same_tile(client: TestClient,
                                                      inside: tuple[float, float]) -> None:
    url = f"/tiles/coverage_circles_15/{_tile(*inside)}.mvt"
    by_code = client.get(url, params={"city": "guixi", "service_type": "red_station"})
    by_name = client.get(url, params={"city": "guixi", "service_type": "红色驿站"})
    assert by_code.status_code == by_name.status_code == 200  # the compound is covered
    assert by_code.headers["etag"] == by_name.headers["etag"]
    bad = client.get(url, params={"service_type": "红色驿占"})
    body = _problem(bad, 422, "invalid-input")
    assert "did you mean red_station" in _reasons(body)


def test_import_rows_holding_chinese_category_names(client: TestClient, admin: dict[str, str],
                                                    inside: tuple[float, float]) -> None:
    x, y = inside
    csv = ("external_id,类别,reported_at,status,lon,lat\n"
           f"SLIP-1,安全隐患,2026-03-01 09:00,已上报,{x},{y}\n"
           f"SLIP-2,Sanitation,2026-03-02 10:00,reported,{x},{y}\n").encode()
    r = client.post(f"{CITY}/imports/cases", files={"file": ("c.csv", csv)}, headers=admin,
                    params={"dry_run": "true", "check_offset": "false"})
    assert r.status_code == 201, r.text
    assert r.json()["rows_read"] == 2 and r.json()["dry_run"] is True


def test_misspelt_import_kind_suggests_it(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(f"{CITY}/imports/compunds", files={"file": ("k.csv", b"a\n1\n")},
                    headers=admin)
    body = _problem(r, 422, "unknown-kind")
    assert body["suggestions"] == ["compounds"]


# --- thresholds and layers --------------------------------------------------------------


def test_unavailable_threshold_is_422_naming_the_available_ones(client: TestClient) -> None:
    body = _problem(client.get(f"{CITY}/coverage/grids", params={"minutes": 12}), 422,
                    "unavailable-threshold")
    assert "available: 5, 10, 15" in _reasons(body)
    assert body["errors"][0]["field"] == "minutes"
    assert client.get(f"{CITY}/coverage/grids", params={"minutes": 10}).json()["rows"]


@pytest.fixture
def added_type(demo_engine: Engine) -> Iterator[str]:
    """A service type added at run time (no points, so in no coverage run); removed after."""
    with demo_engine.begin() as conn:
        add_service_type(conn, "slip_station", name_zh="纠错驿站", name_en="Slip station")
    yield "slip_station"
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM service_type WHERE code = 'slip_station'"))


def test_a_type_the_run_does_not_hold_is_422_naming_those_it_does(client: TestClient,
                                                                   added_type: str) -> None:
    # the added type's Chinese name resolves (from the database) to its code
    body = _problem(client.get(f"{CITY}/coverage/grids", params={"service_type": "纠错驿站"}),
                    422, "unavailable-service-type")
    assert "no slip_station in this coverage run" in _reasons(body)
    assert "available: " in _reasons(body) and "red_station" in body["suggestions"]


@pytest.mark.parametrize("path", ["/layers/compound", "/collections/compound/items",
                                  "/collections/compound", "/tiles/compound/12/3381/1712.mvt"])
def test_typo_in_a_layer_is_404_suggesting_it(client: TestClient, path: str) -> None:
    body = _problem(client.get(path), 404, "not-found")
    assert body["suggestions"] == ["compounds"] and "did you mean compounds?" in body["detail"]


# --- the map page answers its errors as a page ------------------------------------------


@pytest.mark.parametrize(("lang", "words"), [("zh", "您要找的是不是"), ("en", "Did you mean")])
def test_map_with_a_typo_in_the_city_is_an_html_page(client: TestClient, lang: str,
                                                     words: str) -> None:
    r = client.get("/map", params={"city": "guixii", "lang": lang})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == ERROR_PAGE_CSP
    assert "script-src" not in ERROR_PAGE_CSP and "<script" not in r.text
    assert words in r.text and f'href="/map?city=guixi&amp;lang={lang}"' in r.text
    assert "Traceback" not in r.text


def test_map_with_a_bad_parameter_is_an_html_page(client: TestClient) -> None:
    r = client.get("/map", params={"lang": "fr"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "lang" in r.text and "<script" not in r.text


def test_api_routes_keep_problem_json(client: TestClient) -> None:
    _problem(client.get("/cities/guixii/coverage"), 404, "unknown-city")
