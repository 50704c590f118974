"""OGC API – Features: landing, conformance, collections, items, errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.domain import ServiceType


def test_landing_links(client: TestClient) -> None:
    rels = {link["rel"] for link in client.get("/").json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels


def test_conformance_declares_core_and_geojson(client: TestClient) -> None:
    classes = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes


def test_collections_list_every_layer(client: TestClient) -> None:
    ids = [c["id"] for c in client.get("/collections").json()["collections"]]
    assert {"streets", "communities", "grids", "compounds", "service_points", "street_edges",
            "grid_cases"} <= set(ids)


def test_collection_extent_is_lon_lat(client: TestClient) -> None:
    bbox = client.get("/collections/grids").json()["extent"]["spatial"]["bbox"][0]
    assert [round(v, 6) for v in bbox] == [117.0, 28.2, 117.1, 28.3]


def test_items_are_geojson_lon_lat(client: TestClient) -> None:
    r = client.get("/collections/compounds/items", params={"limit": 1})
    assert r.headers["content-type"] == "application/geo+json"
    f = r.json()["features"][0]
    x, y = f["geometry"]["coordinates"][0][0][0]
    assert (x, y) == (117.01, 28.22)  # lon first (RFC 7946)
    assert f["properties"]["residents"] == 300


def test_items_counts_and_paging_links(client: TestClient) -> None:
    body = client.get("/collections/compounds/items", params={"limit": 4}).json()
    assert body["numberMatched"] == 6 and body["numberReturned"] == 4
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "offset=4" in nxt  # the next pages are larger (at least NEXT_PAGE_LIMIT)
    page2 = client.get(nxt.replace("http://testserver", "")).json()
    assert page2["numberReturned"] == 2
    assert not any(link["rel"] == "next" for link in page2["links"])
    assert any(link["rel"] == "prev" for link in page2["links"])
    ids = [f["id"] for f in body["features"]] + [f["id"] for f in page2["features"]]
    assert len(set(ids)) == 6


def test_items_bbox_filter(client: TestClient) -> None:
    # compounds 1-3 span lon 117.01-117.05; the bbox touches compounds 1 and 2 only
    body = client.get("/collections/compounds/items",
                      params={"bbox": "117.0,28.0,117.03,29.0"}).json()
    assert sorted(f["properties"]["external_id"] for f in body["features"]) == ["K1", "K2"]


def test_items_property_filter(client: TestClient) -> None:
    body = client.get("/collections/service_points/items",
                      params={"type": "courier_station"}).json()
    assert body["numberMatched"] == 1
    assert body["features"][0]["properties"]["type"] == ServiceType.COURIER_STATION


def test_items_city_filter(client: TestClient, sample_engine: Engine) -> None:
    with sample_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM service_point s JOIN city c ON c.id = s.city_id "
            "WHERE c.code = 'otherville'")).scalar_one()
    body = client.get("/collections/service_points/items", params={"city": "otherville"}).json()
    assert body["numberMatched"] == expected == 2


def test_item_by_id(client: TestClient) -> None:
    first = client.get("/collections/grids/items", params={"limit": 1}).json()["features"][0]
    r = client.get(f"/collections/grids/items/{first['id']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.json()["properties"]["name"] == first["properties"]["name"]


def test_street_edge_ids_are_unique_across_cities(client: TestClient) -> None:
    body = client.get("/collections/street_edges/items", params={"limit": 100}).json()
    fid = body["features"][0]["id"]
    assert client.get(f"/collections/street_edges/items/{fid}").status_code == 200


@pytest.mark.parametrize("params", [
    {"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "10,10,5,5"}, {"bbox": "0,0,200,10"},
    {"bbox": "nan,0,1,1"}, {"limit": "0"}, {"limit": "x"},
    {"offset": "-1"}, {"no_such_column": "1"}, {"geom": "x"},
])
def test_bad_items_parameters_are_400_problems(client: TestClient, params: dict[str, str]) -> None:
    r = client.get("/collections/compounds/items", params=params)
    assert r.status_code == 400, r.text  # OGC API – Features: a bad parameter is a 400
    assert r.headers["content-type"] == "application/problem+json"
    assert "SELECT" not in r.text and "psycopg" not in r.text


def test_unknown_city_is_404(client: TestClient) -> None:
    r = client.get("/collections/compounds/items", params={"city": "atlantis"})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("url", ["/collections/nope", "/collections/nope/items",
                                 "/collections/grids/items/999999"])
def test_unknown_collection_or_feature_is_404_problem(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404
    assert r.json()["status"] == 404


def test_non_integer_feature_id_is_400(client: TestClient) -> None:
    assert client.get("/collections/grids/items/abc").status_code == 400


def test_openapi_docs_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/collections/{collection_id}/items" in client.get("/openapi.json").json()["paths"]


def test_browser_on_landing_page_gets_html_linking_the_map(client: TestClient) -> None:
    r = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"},
                   follow_redirects=False)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'href="/map?lang=zh"' in r.text
    assert client.get("/", params={"f": "json"},
                      headers={"Accept": "text/html"}).json()["title"] == "servicecircle"
