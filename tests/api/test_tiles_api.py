"""Vector tiles: content checked against PostGIS, addressing errors, caching, TileJSON."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.store.tiles import BUFFER, EXTENT
from tests.support.sample import tile_of


def _decode(content: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})


def _postgis_count(engine: Engine, table: str, z: int, x: int, y: int) -> int:
    """Features whose geometry meets the tile envelope grown by the buffer (the oracle)."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            f"SELECT count(*) FROM {table} WHERE ST_Intersects(ST_Transform(geom, 3857), "
            "ST_TileEnvelope(:z, :x, :y, margin => :m))"),
            {"z": z, "x": x, "y": y, "m": BUFFER / EXTENT}).scalar_one())


def _coords(geom: dict[str, Any]) -> Iterator[tuple[float, float]]:
    def walk(c: Any) -> Iterator[tuple[float, float]]:
        if isinstance(c[0], (int, float)):
            yield (c[0], c[1])
        else:
            for sub in c:
                yield from walk(sub)
    yield from walk(geom["coordinates"])


TILES = [("compounds", 117.03, 28.225, 14), ("compounds", 117.05, 28.25, 12),
         ("service_points", 117.04, 28.26, 14), ("grids", 117.05, 28.25, 13),
         ("street_edges", 117.03, 28.22, 15)]


@pytest.mark.parametrize(("layer", "table", "lon", "lat", "z"), [
    (la, {"compounds": "compound", "service_points": "service_point", "grids": "grid",
          "street_edges": "street_edge"}[la], lon, lat, z) for la, lon, lat, z in TILES])
def test_tile_feature_count_matches_postgis(client: TestClient, sample_engine: Engine,
                                            layer: str, table: str, lon: float, lat: float,
                                            z: int) -> None:
    z, x, y = tile_of(lon, lat, z)
    r = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    feats = _decode(r.content)[layer]["features"]
    expected = _postgis_count(sample_engine, table, z, x, y)
    assert expected > 0
    assert len(feats) == expected


def test_tile_attributes_and_geometry_within_extent_and_buffer(client: TestClient,
                                                               sample_engine: Engine) -> None:
    z, x, y = tile_of(117.05, 28.25, 12)
    tile = _decode(client.get(f"/tiles/compounds/{z}/{x}/{y}.mvt").content)["compounds"]
    assert tile["extent"] == EXTENT
    for f in tile["features"]:
        assert {"name", "residents", "households"} <= set(f["properties"])
        for cx, cy in _coords(f["geometry"]):
            assert -BUFFER <= cx <= EXTENT + BUFFER and -BUFFER <= cy <= EXTENT + BUFFER
    with sample_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT residents FROM compound WHERE ST_Intersects(ST_Transform(geom, 3857), "
            "ST_TileEnvelope(:z, :x, :y, margin => :m)) ORDER BY residents"),
            {"z": z, "x": x, "y": y, "m": BUFFER / EXTENT}).scalars().all()
    assert sorted(f["properties"]["residents"] for f in tile["features"]) == list(expected)


def test_service_point_tile_has_types(client: TestClient) -> None:
    z, x, y = tile_of(117.05, 28.26, 12)
    feats = _decode(client.get(f"/tiles/service_points/{z}/{x}/{y}.mvt").content)[
        "service_points"]["features"]
    assert {f["properties"]["type"] for f in feats} >= {"red_station", "courier_station"}


def test_empty_tile_is_204_with_etag(client: TestClient) -> None:
    z, x, y = tile_of(10.0, 50.0, 14)
    r = client.get(f"/tiles/compounds/{z}/{x}/{y}.mvt")
    assert r.status_code == 204 and r.content == b""
    assert r.headers["etag"] and "max-age" in r.headers["cache-control"]


@pytest.mark.parametrize("path", ["25/0/0", "-1/0/0", "3/8/0", "3/0/8", "3/-1/0"])
def test_bad_tile_address_is_422_problem(client: TestClient, path: str) -> None:
    r = client.get(f"/tiles/compounds/{path}.mvt")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["a/0/0", "3/x/0", "3/0/1.5"])
def test_non_integer_tile_address_is_422(client: TestClient, path: str) -> None:
    assert client.get(f"/tiles/compounds/{path}.mvt").status_code == 422


def test_zoom_outside_layer_range_is_404(client: TestClient) -> None:
    r = client.get("/tiles/compounds/5/26/13.mvt")  # compounds start at zoom 12
    assert r.status_code == 404
    assert "zoom" in r.json()["detail"]


def test_unknown_layer_is_404(client: TestClient) -> None:
    r = client.get("/tiles/nope/12/3379/1714.mvt")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_if_none_match_gives_304(client: TestClient) -> None:
    z, x, y = tile_of(117.05, 28.25, 12)
    url = f"/tiles/compounds/{z}/{x}/{y}.mvt"
    etag = client.get(url).headers["etag"]
    r = client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_data_change_invalidates_cached_tile(client: TestClient, sample_engine: Engine) -> None:
    z, x, y = tile_of(117.05, 28.25, 12)
    url = f"/tiles/compounds/{z}/{x}/{y}.mvt"
    before = client.get(url)
    n_before = len(_decode(before.content)["compounds"]["features"])
    with sample_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO compound (city_id, external_id, name, households, residents, geom) "
            "SELECT id, 'TMP', '临时小区', 1, 3, ST_Multi(ST_Buffer(ST_SetSRID("
            "ST_MakePoint(117.05, 28.25), 4326), 0.001)) FROM city WHERE code = 'testville'"))
    time.sleep(0.6)  # version counters are re-read at most every 0.5 s
    try:
        after = client.get(url)
        assert after.headers["etag"] != before.headers["etag"]
        assert len(_decode(after.content)["compounds"]["features"]) == n_before + 1
    finally:
        with sample_engine.begin() as conn:
            conn.execute(text("DELETE FROM compound WHERE external_id = 'TMP'"))
    time.sleep(0.6)
    assert len(_decode(client.get(url).content)["compounds"]["features"]) == n_before


def test_tilejson(client: TestClient) -> None:
    tj = client.get("/tiles/service_points/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"][0].endswith("/tiles/service_points/{z}/{x}/{y}.mvt")
    assert tj["vector_layers"][0]["id"] == "service_points"
    assert (tj["minzoom"], tj["maxzoom"]) == (10, 22)
    assert tj["attribution"] == "© OpenStreetMap contributors"
    assert tj["bounds"][0] < tj["bounds"][2]


def test_tilejson_hides_personal_fields_from_anonymous(client: TestClient) -> None:
    fields = client.get("/tiles/grid_cases/tilejson.json").json()["vector_layers"][0]["fields"]
    assert "description" not in fields and "category" in fields


def test_personal_tiles_are_private_and_public_tiles_public(client: TestClient,
                                                            api_keys: dict[str, str]) -> None:
    z, x, y = tile_of(117.05, 28.25, 12)
    r = client.get(f"/tiles/grid_cases/{z}/{x}/{y}.mvt", headers={"X-API-Key": api_keys["analyst"]})
    assert r.headers["cache-control"].startswith("private")
    r = client.get(f"/tiles/compounds/{z}/{x}/{y}.mvt")
    assert r.headers["cache-control"].startswith("public")


def test_cors_preflight_allows_key_header(client: TestClient) -> None:
    r = client.options("/tiles/compounds/12/0/0.mvt", headers={
        "Origin": "http://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "X-API-Key"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"


def test_tilejson_for_one_city(client: TestClient) -> None:
    tj = client.get("/tiles/compounds/tilejson.json", params={"city": "testville"}).json()
    assert tj["tiles"][0].endswith("/tiles/compounds/{z}/{x}/{y}.mvt?city=testville")


def test_city_filter_on_tiles(client: TestClient) -> None:
    z, x, y = tile_of(118.02, 28.25, 12)  # otherville's parcel stations
    assert client.get(f"/tiles/service_points/{z}/{x}/{y}.mvt").status_code == 200
    r = client.get(f"/tiles/service_points/{z}/{x}/{y}.mvt", params={"city": "testville"})
    assert r.status_code == 204
    assert client.get(f"/tiles/service_points/{z}/{x}/{y}.mvt",
                      params={"city": "atlantis"}).status_code == 404


def test_to_pyformat_keeps_casts_and_escapes_percent() -> None:
    from geo.store.tiles import to_pyformat

    assert to_pyformat("SELECT t.a::bigint, :z, '%' FROM x WHERE y = :city_id") == \
        "SELECT t.a::bigint, %(z)s, '%%' FROM x WHERE y = %(city_id)s"


def test_served_tile_equals_store_rendering(client: TestClient, sample_engine: Engine) -> None:
    from geo.store.tiles import render_tile
    from layers.catalog import get_layer

    z, x, y = tile_of(117.05, 28.25, 13)
    served = _decode(client.get(f"/tiles/compounds/{z}/{x}/{y}.mvt").content)["compounds"]
    with sample_engine.connect() as conn:
        stored = _decode(render_tile(conn, get_layer("compounds"), z, x, y))["compounds"]
    key = lambda f: f["id"]
    assert sorted(served["features"], key=key) == sorted(stored["features"], key=key)
