"""GET /layers, /layers/{name}, /search."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_layers_lists_catalogue_in_chinese_by_default(client: TestClient) -> None:
    body = client.get("/layers").json()
    by_name = {layer["name"]: layer for layer in body["layers"]}
    assert by_name["streets"]["title"] == "街道"
    assert by_name["compounds"]["style"]["property"] == "residents"
    assert by_name["grid_cases"]["public"] is False
    assert by_name["service_points"]["tiles"].endswith("/tiles/service_points/{z}/{x}/{y}.mvt")
    assert by_name["service_points"]["items"].endswith("/collections/service_points/items")


def test_layers_in_english(client: TestClient) -> None:
    body = client.get("/layers", params={"lang": "en"}).json()
    titles = {layer["name"]: layer["title"] for layer in body["layers"]}
    assert titles["communities"] == "Communities"
    classes = next(la for la in body["layers"] if la["name"] == "service_points")["style"]["classes"]
    assert {"value": "courier_station", "label": "Courier rest station"}.items() <= \
        next(c for c in classes if c["value"] == "courier_station").items()


def test_bad_lang_is_422_problem(client: TestClient) -> None:
    r = client.get("/layers", params={"lang": "fr"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_unknown_layer_is_404_problem(client: TestClient) -> None:
    r = client.get("/layers/nope")
    assert r.status_code == 404
    assert r.json()["code"] == "not-found"


def test_search_finds_compound_by_name(client: TestClient) -> None:
    results = client.get("/search", params={"q": "幸福小区3期"}).json()["results"]
    assert results[0]["name"] == "幸福小区3期"
    assert results[0]["layer"] == "compounds"
    minx, miny, _, _ = results[0]["bbox"]
    assert (round(minx, 3), round(miny, 3)) == (117.04, 28.22)


def test_search_wildcards_are_literal(client: TestClient) -> None:
    assert client.get("/search", params={"q": "%"}).json()["results"] == []


def test_search_never_returns_raw_cases_to_anonymous_or_viewer(
        client: TestClient, api_keys: dict[str, str]) -> None:
    for headers in ({}, {"X-API-Key": api_keys["viewer"]}):
        results = client.get("/search", params={"q": "E1"}, headers=headers).json()["results"]
        assert all(r["layer"] != "grid_cases" for r in results)
    results = client.get("/search", params={"q": "E1"},
                         headers={"X-API-Key": api_keys["analyst"]}).json()["results"]
    assert any(r["layer"] == "grid_cases" for r in results)


def test_search_empty_query_is_422(client: TestClient) -> None:
    assert client.get("/search", params={"q": ""}).status_code == 422


def test_layer_groups_have_titles(client: TestClient) -> None:
    assert client.get("/layers").json()["groups"]["base"] == "基础图层"
    assert client.get("/layers", params={"lang": "en"}).json()["groups"]["base"] == "Base layers"
