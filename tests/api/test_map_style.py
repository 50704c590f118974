"""The MapLibre style of a city (/map/style.json): built from the catalogue and the
vocabulary, absolute tile URLs, the caller's layers only; online basemaps by settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geo.crs.chinese import wgs84_to_gcj02
from geo.domain import SERVICE_TYPES
from geo.settings import Settings
from layers.catalog import default_registry


def _style(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/map/style.json", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _main(style: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lyr["id"]: lyr for lyr in style["layers"]
            if lyr.get("metadata", {}).get("sc:part") == "main"}


def test_every_public_layer_with_absolute_city_urls(client: TestClient) -> None:
    style = _style(client, city="testville")
    assert style["version"] == 8 and "glyphs" not in style  # labels drawn with local fonts
    public = {lyr.name for lyr in default_registry() if lyr.public and lyr.group != "basemap"}
    assert set(_main(style)) == public
    for name in public:
        (url,) = style["sources"][name]["tiles"]
        assert url.startswith("http://testserver/tiles/" + name + "/{z}/{x}/{y}.mvt?city=testville")
    basemap = style["sources"]["basemap"]
    assert basemap["tiles"] == ["http://testserver/tiles/basemap/{z}/{x}/{y}.mvt?city=testville"]
    assert basemap["attribution"] == "© OpenStreetMap contributors"
    # only the calm default is on: one coverage view, the service points
    on = {i for i, lyr in _main(style).items() if lyr["layout"]["visibility"] == "visible"}
    assert on == {"coverage_circles_15", "service_points"}


def test_selection_reaches_the_filtered_sources(client: TestClient) -> None:
    style = _style(client, city="testville", service_type="red_station", minutes=10)
    assert style["sources"]["coverage_grid_share"]["tiles"][0].endswith(
        "city=testville&service_type=red_station&minutes=10")
    assert style["sources"]["coverage_circles_5"]["tiles"][0].endswith(
        "city=testville&service_type=red_station")  # a fixed threshold: no minutes filter
    assert "service_type" not in style["sources"]["compounds"]["tiles"][0]
    bad = client.get("/map/style.json", params={"service_type": "nope", "minutes": 7})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"service_type", "minutes"}


def test_colours_come_from_the_vocabulary(client: TestClient) -> None:
    colour = _main(_style(client))["service_points"]["paint"]["circle-color"]
    assert colour[:2] == ["match", ["to-string", ["get", "type"]]]
    pairs = dict(zip(colour[2:-1:2], colour[3:-1:2], strict=True))
    assert pairs == {code: t.color for code, t in SERVICE_TYPES.items()}


def test_restricted_layers_for_analysts_only(client: TestClient,
                                             api_keys: dict[str, str]) -> None:
    assert "grid_cases" not in _main(_style(client))
    r = client.get("/map/style.json", headers={"X-API-Key": api_keys["analyst"]})
    assert "grid_cases" in _main(r.json())
    assert client.get("/map/style.json",
                      headers={"X-API-Key": api_keys["revoked"]}).status_code == 401


def test_unknown_city_404(client: TestClient) -> None:
    assert client.get("/map/style.json", params={"city": "atlantis"}).status_code == 404


def _online(sample_settings: Settings, **changes: Any) -> dict[str, Any]:
    with TestClient(create_app(replace(sample_settings, **changes))) as other:
        return _style(other, city="testville")


def test_tianditu_needs_its_key_and_shows_its_review_number(sample_settings: Settings) -> None:
    style = _online(sample_settings, basemap="tianditu", basemap_key="k123",
                    basemap_review_number="GS(0000)0000号")
    raster = [s for s in style["sources"].values() if s["type"] == "raster"]
    assert len(raster) == 2  # the map and its annotation
    assert all("tk=k123" in t and "tianditu.gov.cn" in t for s in raster for t in s["tiles"])
    assert "审图号 GS(0000)0000号" in raster[0]["attribution"]
    assert "basemap" not in style["sources"]  # instead of the offline one
    assert style["metadata"]["sc:gcj02_shift"] == [0.0, 0.0]  # CGCS2000 ≈ WGS-84
    with pytest.raises(Exception, match="basemap"):
        _online(sample_settings, basemap="tianditu")  # no key: refused at start-up


def test_gcj02_tiles_come_with_the_city_shift(sample_settings: Settings) -> None:
    style = _online(sample_settings, basemap="amap", basemap_review_number="GS(0000)0001号")
    assert style["metadata"]["sc:datum"] == "gcj02"
    lon, lat = style["center"]
    glon, glat = wgs84_to_gcj02(lon, lat)
    dlon, dlat = style["metadata"]["sc:gcj02_shift"]
    assert dlon == pytest.approx(float(glon) - lon, abs=1e-12)
    assert dlat == pytest.approx(float(glat) - lat, abs=1e-12)
    assert 0.001 < abs(dlon) + abs(dlat) < 0.02  # hundreds of metres in China
    (source,) = (s for s in style["sources"].values() if s["type"] == "raster")
    assert "高德" in source["attribution"] and "审图号 GS(0000)0001号" in source["attribution"]


def test_online_tiles_are_allowed_by_the_map_policy(sample_settings: Settings) -> None:
    with TestClient(create_app(replace(sample_settings, basemap="amap"))) as other:
        csp = other.get("/map").headers["content-security-policy"]
    assert "connect-src 'self' https://webrd01.is.autonavi.com;" in csp
    assert "img-src 'self' data: https://webrd01.is.autonavi.com;" in csp


def test_one_default_service_type_for_map_panel_and_siting(client: TestClient) -> None:
    from geo.domain import DEFAULT_SERVICE_TYPE, DEFAULT_SITING_TYPE

    v = client.get("/vocabulary").json()["defaults"]
    assert v["service_type"] == v["siting_service_type"] == DEFAULT_SERVICE_TYPE == \
        DEFAULT_SITING_TYPE
    style = _style(client, city="testville")
    assert style["metadata"]["sc:selection"]["service_type"] == DEFAULT_SERVICE_TYPE
    assert style["sources"]["coverage_circles_15"]["tiles"][0].endswith(
        f"service_type={DEFAULT_SERVICE_TYPE}")
    panel = client.get("/cities/testville/coverage/panel")
    if panel.status_code == 200:  # the sample city may hold no coverage run
        assert panel.json()["service_type"] == DEFAULT_SERVICE_TYPE
