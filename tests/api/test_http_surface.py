"""The typed HTTP surface: response models, documented problems, one CSV rule, CityDep.

CSV-capable routes are found in the OpenAPI document (a ``text/csv`` 200 response), so a
new one is checked without editing this file — unless it has a path parameter not in
``PATH_VALUES``, which fails loudly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.schemas import CourierRunMeta, FeatureCollection, Table
from geo.io.tables import is_people
from geo.runs import CourierParams, CoverageParams, run_courier, run_coverage
from geo.settings import Settings

PATH_VALUES = {"city": "guixi", "unit": "grids"}
INJECTION = "=HYPERLINK(\"http://example.invalid\",\"点我\")"


@pytest.fixture(scope="module")
def client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with demo_engine.begin() as conn:
        old = conn.execute(text("SELECT id, name FROM compound WHERE external_id = 'GX-XQ0001'"
                                )).one()
        conn.execute(text("UPDATE compound SET name = :n WHERE id = :i"),
                     {"n": INJECTION, "i": old.id})
        run_coverage(conn, "guixi", CoverageParams(minutes=[15]), settings)
        run_courier(conn, "guixi", CourierParams(metres=1000), settings)
    try:
        with TestClient(create_app(settings)) as c:
            yield c
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("UPDATE compound SET name = :n WHERE id = :i"),
                         {"n": old.name, "i": old.id})


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        elif hasattr(r, "original_router"):  # an included router
            yield from _api_routes(r.original_router.routes)


def _routes() -> list[APIRoute]:
    app = create_app(Settings())
    found = [r for r in _api_routes(app.routes) if r.include_in_schema]
    assert len(found) > 30
    return found


@pytest.mark.parametrize("route", _routes(), ids=lambda r: f"{min(r.methods)} {r.path}")
def test_every_route_declares_its_response(route: APIRoute) -> None:
    if route.response_model is None:  # only HTML pages, tiles and PDFs have no JSON model
        assert issubclass(route.response_class, HTMLResponse) or \
            route.response_class is Response, route.path
        assert route.responses.get(200, {}).get("content") or \
            issubclass(route.response_class, HTMLResponse), route.path


def test_every_operation_documents_its_problems(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert {"type", "title", "status", "code"} <= set(schemas["Problem"]["properties"])
    assert "HTTPValidationError" not in schemas
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            errors = {int(s): r for s, r in op["responses"].items() if int(s) >= 400}
            assert errors, f"{method} {path} documents no error"
            for status, r in errors.items():
                assert r["content"] == {"application/problem+json": {"schema": {
                    "$ref": "#/components/schemas/Problem"}}}, (method, path, status)
            if path.startswith("/cities/{city}"):
                assert {404, 422} <= set(errors), (method, path)


def test_response_models_are_visible_in_openapi(openapi: dict[str, Any]) -> None:
    op = openapi["paths"]["/cities/{city}/coverage/{unit}"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Table"}
    plan = openapi["paths"]["/cities/{city}/siting/plan"]["post"]
    assert plan["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PlanParams")
    assert {"409", "429"} <= set(plan["responses"])


def _csv_operations(openapi: dict[str, Any]) -> list[str]:
    return [path for path, ops in openapi["paths"].items()
            if "text/csv" in ops.get("get", {}).get("responses", {}).get("200", {})
            .get("content", {})]


def test_csv_routes_are_found(openapi: dict[str, Any]) -> None:
    assert len(_csv_operations(openapi)) >= 7  # coverage ×2, courier ×4, case grids


def _csv(client: TestClient, path: str) -> str:
    url = path.format(**PATH_VALUES)
    r = client.get(url, params={"format": "csv"})
    assert r.status_code == 200, (url, r.text)
    assert r.headers["content-type"].startswith("text/csv")
    return r.text


def test_every_csv_starts_with_a_bom(client: TestClient, openapi: dict[str, Any]) -> None:
    for path in _csv_operations(openapi):
        assert _csv(client, path).startswith("\ufeff"), path


def test_whole_people_are_integers_in_every_csv(client: TestClient,
                                                openapi: dict[str, Any]) -> None:
    seen = 0
    for path in _csv_operations(openapi):
        rows = list(csv.DictReader(io.StringIO(_csv(client, path).removeprefix("\ufeff"))))
        for row in rows:
            for col, v in row.items():
                if is_people(col) and v != "":
                    assert v.lstrip("-").isdigit(), (path, col, v)
                    seen += 1
    assert seen > 0


def test_grid_residents_are_rounded_not_truncated(client: TestClient) -> None:
    exact = client.get("/cities/guixi/coverage/grids").json()["rows"]
    text_ = _csv(client, "/cities/{city}/coverage/grids").removeprefix("\ufeff")
    shown = list(csv.DictReader(io.StringIO(text_)))
    assert len(shown) == len(exact)
    for e, s in zip(exact, shown, strict=True):
        assert int(s["residents_in"]) == int(e["residents_in"] + 0.5)


def test_formula_cells_are_neutralised(client: TestClient) -> None:
    body = _csv(client, "/cities/{city}/coverage/compounds")
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    names = {r["name"] for r in rows}
    assert "'" + INJECTION in names and INJECTION not in names
    json_names = {r["name"] for r in client.get("/cities/guixi/coverage/compounds").json()[
        "rows"]}
    assert INJECTION in json_names  # JSON carries the text as it is


def test_json_tables_match_their_models(client: TestClient) -> None:
    for url in ("/cities/guixi/coverage/grids", "/cities/guixi/courier/stations",
                "/cities/guixi/siting/scenarios", "/cities/guixi/cases/trends"):
        body = Table.model_validate(client.get(url).json())
        assert body.count == len(body.rows) and body.meta, url
    CourierRunMeta.model_validate(client.get("/cities/guixi/courier/runs/latest").json())
    geo = client.get("/cities/guixi/courier/stations", params={"format": "geojson"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert FeatureCollection.model_validate(geo.json()).meta is not None


def test_no_nan_in_json(client: TestClient) -> None:
    r = client.get("/cities/guixi/coverage/compounds")
    assert "NaN" not in r.text and "Infinity" not in r.text


def test_unknown_city_suggests_close_names(client: TestClient) -> None:
    r = client.get("/cities/guixii/coverage")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert "did you mean guixi" in r.json()["detail"]


@pytest.mark.parametrize("url", ["/cities/GUIXI/coverage", "/cities/gui xi/courier/stations",
                                 "/cities/-x/siting/scenarios", "/cities/%00/cases/trends"])
def test_city_codes_are_checked_before_any_sql(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "city"
