"""OGC API – Features Parts 1–3 beyond the core: CRS, queryables, CQL2, sortby, datetime,
limit capping, parameter checks, per-city extents, HTML and the OpenAPI 3.0 rendition."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, text

ITEMS = "/collections/compounds/items"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _ids(body: dict) -> list[str]:
    return [f["properties"]["external_id"] for f in body["features"]]


def _db(engine: Engine, sql: str) -> list:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(sql))]


# --- Part 2: CRS -------------------------------------------------------------------------

def test_gdal_sends_crs84_and_is_answered(client: TestClient) -> None:
    r = client.get(ITEMS, params={"crs": CRS84, "limit": 1})
    assert r.status_code == 200, r.text
    assert r.headers["content-crs"] == f"<{CRS84}>"


def test_epsg4326_is_latitude_first(client: TestClient) -> None:
    lonlat = client.get(ITEMS, params={"limit": 1}).json()["features"][0]
    latlon = client.get(ITEMS, params={"limit": 1, "crs": EPSG4326})
    assert latlon.headers["content-crs"] == f"<{EPSG4326}>"
    x, y = lonlat["geometry"]["coordinates"][0][0][0]
    assert latlon.json()["features"][0]["geometry"]["coordinates"][0][0][0] == [y, x]


def test_cgcs2000_is_served_latitude_first(client: TestClient) -> None:
    lonlat = client.get(ITEMS, params={"limit": 1}).json()["features"][0]
    r = client.get(ITEMS, params={"limit": 1, "crs": "http://www.opengis.net/def/crs/EPSG/0/4490"})
    lat, lon = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    x, y = lonlat["geometry"]["coordinates"][0][0][0]
    assert abs(lat - y) < 1e-6 and abs(lon - x) < 1e-6  # CGCS2000 ≈ WGS-84 (cm)


def test_utm_coordinates_match_pyproj(client: TestClient) -> None:
    lonlat = client.get(ITEMS, params={"limit": 1}).json()["features"][0]
    r = client.get(ITEMS, params={"limit": 1, "crs": "http://www.opengis.net/def/crs/EPSG/0/32650"})
    e, n = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    x, y = lonlat["geometry"]["coordinates"][0][0][0]
    ex, nx = Transformer.from_crs(4326, 32650, always_xy=True).transform(x, y)
    assert abs(e - ex) < 0.01 and abs(n - nx) < 0.01


def test_collection_lists_its_crs(client: TestClient) -> None:
    crs = client.get("/collections/compounds").json()["crs"]
    assert crs[:3] == [CRS84, EPSG4326, "http://www.opengis.net/def/crs/EPSG/0/4490"]
    assert "http://www.opengis.net/def/crs/EPSG/0/32650" in crs


def test_bbox_crs_latitude_first(client: TestClient) -> None:
    plain = client.get(ITEMS, params={"bbox": "117.0,28.0,117.03,29.0"}).json()
    swapped = client.get(ITEMS, params={"bbox": "28.0,117.0,29.0,117.03",
                                        "bbox-crs": EPSG4326}).json()
    assert _ids(plain) == _ids(swapped) == ["K1", "K2"]


def test_unsupported_crs_is_400_listing_the_supported(client: TestClient) -> None:
    r = client.get(ITEMS, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"})
    assert r.status_code == 400
    assert "CRS84" in r.json()["errors"][0]["reason"]


# --- Part 3: queryables, filter, sortby ----------------------------------------------------

def test_queryables_are_a_json_schema_of_public_columns(client: TestClient) -> None:
    r = client.get("/collections/compounds/queryables")
    assert r.headers["content-type"] == "application/schema+json"
    props = r.json()["properties"]
    assert props["residents"]["type"] == "integer" and props["name"]["type"] == "string"
    assert "geom" not in props


def test_queryables_of_personal_columns_need_an_analyst(client: TestClient,
                                                        api_keys: dict[str, str]) -> None:
    props = client.get("/collections/grid_cases/queryables",
                       headers={"X-API-Key": api_keys["analyst"]}).json()["properties"]
    assert props["reported_at"] == {"title": props["reported_at"]["title"], "type": "string",
                                    "format": "date-time"}
    assert "description" in props
    assert client.get("/collections/grid_cases/queryables").status_code == 401


def test_cql2_text_matches_the_database(client: TestClient, sample_engine: Engine) -> None:
    body = client.get(ITEMS, params={"filter": "residents > 250 AND property_management = "
                                               "'managed'", "limit": 100}).json()
    expected = _db(sample_engine, "SELECT external_id FROM compound WHERE residents > 250 "
                                  "AND property_management = 'managed' ORDER BY id")
    assert _ids(body) == expected and body["numberMatched"] == len(expected) > 0


def test_cql2_json_or(client: TestClient, sample_engine: Engine) -> None:
    cql = ('{"op": "or", "args": [{"op": "=", "args": [{"property": "external_id"}, "K1"]}, '
           '{"op": "<", "args": [{"property": "residents"}, 200]}]}')
    body = client.get(ITEMS, params={"filter": cql, "filter-lang": "cql2-json"}).json()
    expected = _db(sample_engine, "SELECT external_id FROM compound WHERE external_id = 'K1' "
                                  "OR residents < 200 ORDER BY id")
    assert _ids(body) == expected


@pytest.mark.parametrize(("cql", "says"), [
    ("geom = 1", "queryable"), ("nope > 3", "residents"), ("residents = 'many'", "number"),
    ("residents >", "cql2-text"), ("name = 3", "text"),
])
def test_bad_filters_are_400_naming_the_problem(client: TestClient, cql: str, says: str) -> None:
    r = client.get(ITEMS, params={"filter": cql})
    assert r.status_code == 400, r.text
    assert says in r.json()["errors"][0]["reason"]


def test_filter_injection_is_a_value(client: TestClient) -> None:
    r = client.get(ITEMS, params={"filter": "name = 'x'' OR 1=1 --'"})
    assert r.status_code == 200 and r.json()["numberMatched"] == 0


def test_sortby_descending(client: TestClient, sample_engine: Engine) -> None:
    body = client.get(ITEMS, params={"sortby": "-residents,name"}).json()
    assert _ids(body) == _db(sample_engine, "SELECT external_id FROM compound "
                                            "ORDER BY residents DESC, name")


def test_sortby_unknown_property_is_400(client: TestClient) -> None:
    r = client.get(ITEMS, params={"sortby": "geom"})
    assert r.status_code == 400 and "residents" in r.json()["errors"][0]["reason"]


def test_property_equality_is_typed(client: TestClient) -> None:
    assert client.get(ITEMS, params={"residents": "300"}).json()["numberMatched"] == 1
    assert client.get(ITEMS, params={"residents": "abc"}).status_code == 400


# --- datetime ----------------------------------------------------------------------------------

def test_datetime_on_cases_matches_the_database(client: TestClient, sample_engine: Engine,
                                                api_keys: dict[str, str]) -> None:
    window = "2026-03-05T00:00:00Z/2026-03-20T00:00:00Z"
    body = client.get("/collections/grid_cases/items",
                      params={"datetime": window, "limit": 1000},
                      headers={"X-API-Key": api_keys["analyst"]}).json()
    expected = _db(sample_engine, "SELECT count(*) FROM grid_case WHERE reported_at BETWEEN "
                                  "'2026-03-05T00:00:00Z' AND '2026-03-20T00:00:00Z'")  # closed
    assert body["numberMatched"] == body["numberReturned"] == expected[0] > 0


def test_open_datetime_interval(client: TestClient, api_keys: dict[str, str],
                                sample_engine: Engine) -> None:
    body = client.get("/collections/grid_cases/items", params={"datetime": "../2026-03-03"},
                      headers={"X-API-Key": api_keys["analyst"]}).json()
    expected = _db(sample_engine, "SELECT count(*) FROM grid_case WHERE reported_at < "
                                  "'2026-03-04T00:00:00Z'")
    assert body["numberMatched"] == expected[0] > 0


def test_raw_cases_stay_restricted_with_datetime(client: TestClient) -> None:
    r = client.get("/collections/grid_cases/items", params={"datetime": "2026-03-05"})
    assert r.status_code == 401


def test_datetime_on_a_timeless_collection_is_400(client: TestClient) -> None:
    r = client.get(ITEMS, params={"datetime": "2026-03-05"})
    assert r.status_code == 400 and "no time" in r.json()["errors"][0]["reason"]


def test_malformed_datetime_is_400(client: TestClient, api_keys: dict[str, str]) -> None:
    r = client.get("/collections/grid_cases/items", params={"datetime": "yesterday"},
                   headers={"X-API-Key": api_keys["analyst"]})
    assert r.status_code == 400


def test_case_collection_has_a_month_coarsened_temporal_extent(client: TestClient) -> None:
    interval = client.get("/collections/grid_cases").json()["extent"]["temporal"]["interval"][0]
    assert interval[0].endswith("-01T00:00:00Z") and interval[1].endswith("-01T00:00:00Z")


# --- limit, parameters ---------------------------------------------------------------------------

def test_limit_above_the_maximum_is_capped(client: TestClient) -> None:
    r = client.get(ITEMS, params={"limit": 1_000_000})
    assert r.status_code == 200 and r.json()["numberReturned"] == 6


def test_next_links_page_to_the_end(client: TestClient) -> None:
    url, seen = f"{ITEMS}?limit=2", []
    while url:
        body = client.get(url.replace("http://testserver", "")).json()
        seen += _ids(body)
        url = next((x["href"] for x in body["links"] if x["rel"] == "next"), None)
    assert sorted(seen) == [f"K{i}" for i in range(1, 7)]


def test_typo_in_a_parameter_is_400_with_a_suggestion(client: TestClient) -> None:
    r = client.get(ITEMS, params={"bbbox": "1,2,3,4"})
    assert r.status_code == 400
    assert "did you mean 'bbox'" in r.json()["errors"][0]["reason"]


def test_unknown_collection_parameter_is_400(client: TestClient) -> None:
    assert client.get("/collections", params={"citty": "testville"}).status_code == 400


# --- per city ----------------------------------------------------------------------------------

def test_city_narrows_the_collection_extent(client: TestClient, sample_engine: Engine) -> None:
    everywhere = client.get("/collections/service_points").json()["extent"]["spatial"]["bbox"][0]
    other = client.get("/collections/service_points",
                       params={"city": "otherville"}).json()["extent"]["spatial"]["bbox"][0]
    expected = _db(sample_engine, "SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] "
                   "FROM (SELECT ST_Extent(s.geom) e FROM service_point s JOIN city c ON "
                   "c.id = s.city_id WHERE c.code = 'otherville') x")[0]
    assert other == pytest.approx(expected) and everywhere[0] < other[0]


def test_tilejson_per_city_has_that_citys_bounds_and_centre(client: TestClient) -> None:
    tj = client.get("/tiles/service_points/tilejson.json", params={"city": "otherville"}).json()
    minx, miny, maxx, maxy = tj["bounds"]
    assert minx >= 118.0 and maxx <= 118.1
    assert tj["center"][:2] == pytest.approx([(minx + maxx) / 2, (miny + maxy) / 2])
    assert tj["tiles"][0].endswith("?city=otherville")


def test_tilejson_of_a_city_without_features_uses_the_city_bounds(client: TestClient) -> None:
    tj = client.get("/tiles/compounds/tilejson.json", params={"city": "otherville"}).json()
    assert tj["bounds"] == pytest.approx([118.0, 28.2, 118.1, 28.3])


# --- HTML, conformance, OpenAPI 3.0 ------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/conformance", "/collections", "/collections/compounds",
                                 "/collections/compounds/items", "/collections/compounds/queryables"])
def test_html_pages_have_no_script_and_a_strict_policy(client: TestClient, url: str) -> None:
    r = client.get(url, params={"f": "html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script" not in r.text
    assert "script-src" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_items_html_lists_the_features(client: TestClient) -> None:
    r = client.get(ITEMS, headers={"Accept": "text/html"}, params={"lang": "en"})
    assert "幸福小区1期" in r.text and "Features matched: 6" in r.text


def test_item_html_escapes_text(client: TestClient, sample_engine: Engine) -> None:
    with sample_engine.begin() as conn:
        fid = conn.execute(text(
            "INSERT INTO compound (city_id, external_id, name, residents, households, geom) SELECT id, "
            "'XSS', '<script>alert(1)</script>', 1, 1, ST_Multi(ST_Buffer(ST_SetSRID("
            "ST_MakePoint(117.09, 28.29), 4326), 0.001)) FROM city WHERE code = 'testville' "
            "RETURNING id")).scalar_one()
    try:
        r = client.get(f"{ITEMS}/{fid}", params={"f": "html"})
        assert r.status_code == 200 and "居民" in r.text
        assert "<script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    finally:
        with sample_engine.begin() as conn:
            conn.execute(text("DELETE FROM compound WHERE id = :id"), {"id": fid})


def test_conformance_is_truthful(client: TestClient) -> None:
    classes = client.get("/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/oas30") for c in classes)
    assert any(c.endswith("ogcapi-features-2/1.0/conf/crs") for c in classes)
    assert any(c.endswith("/conf/cql2-text") for c in classes)


def test_service_desc_is_openapi_30(client: TestClient) -> None:
    links = client.get("/").json()["links"]
    desc = next(x for x in links if x["rel"] == "service-desc"
                and x["type"].endswith("version=3.0"))
    r = client.get(desc["href"].replace("http://testserver", ""))
    assert r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = r.json()
    assert doc["openapi"].startswith("3.0")
    text_ = r.text
    assert '"type": "null"' not in text_ and '"const"' not in text_ and "prefixItems" not in text_
    # GDAL 3.8+ reads its page size from the collection's items path, limit as a component
    params = doc["paths"]["/collections/compounds/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/limit"} in params
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == 10_000


def test_openapi_30_rendition_is_valid_openapi_30(client: TestClient) -> None:
    from openapi_spec_validator import OpenAPIV30SpecValidator

    doc = client.get("/openapi-3.0.json").json()
    errors = [str(e)[:300] for e in OpenAPIV30SpecValidator(doc).iter_errors()]
    assert errors == []


def test_property_filters_take_type_names(client: TestClient) -> None:
    items = "/collections/service_points/items"
    by_code = client.get(items, params={"type": "red_station", "limit": 1000}).json()
    assert by_code["features"], "the sample city has red stations"
    for name in ("红色驿站", "Red station"):
        by_name = client.get(items, params={"type": name, "limit": 1000}).json()
        assert _ids(by_name) == _ids(by_code)
    r = client.get(items, params={"type": "红色驿"})
    assert r.status_code == 400
    assert r.json()["code"] == "unknown-service-type" and "red_station" in r.json()["suggestions"]
