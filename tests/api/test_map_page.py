"""The /map page: offline assets, language switch, optional basemap."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from fastapi.testclient import TestClient

from api.app import create_app
from geo.settings import Settings


def _config(html: str) -> dict[str, object]:
    m = re.search(r'<script id="sc-config" type="application/json">(\{.*?\})</script>', html)
    assert m
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def test_map_is_chinese_by_default_and_loads_only_local_assets(client: TestClient) -> None:
    html = client.get("/map").text
    assert "<title>服务圈地图</title>" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    for src in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html):
        assert client.get(src).status_code == 200, src


def test_language_switch_keeps_city(client: TestClient) -> None:
    html = client.get("/map", params={"city": "testville"}).text
    assert 'href="?lang=en&amp;city=testville"' in html
    assert "<title>Service circle map</title>" in client.get("/map?lang=en").text


def test_no_basemap_unless_configured(client: TestClient, sample_settings: Settings) -> None:
    assert _config(client.get("/map").text)["basemap_url"] is None
    url = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    with TestClient(create_app(replace(sample_settings, basemap_url=url))) as other:
        assert _config(other.get("/map").text)["basemap_url"] == url


def test_city_bounds_frame_the_map(client: TestClient) -> None:
    bounds = _config(client.get("/map", params={"city": "testville"}).text)["bounds"]
    assert bounds == [[28.2, 117.0], [28.3, 117.1]]


def test_vendored_licences_present(client: TestClient) -> None:
    assert "MapLibre contributors" in client.get("/static/vendor/maplibre/LICENSE.txt").text
    assert "5.24.1" in client.get("/static/vendor/README").text


def test_first_city_by_default_and_unknown_city_404(client: TestClient) -> None:
    html = client.get("/map").text
    assert _config(html)["city"] == "otherville"  # first by code
    assert '<option value="testville">测试市</option>' in html
    assert client.get("/map", params={"city": "atlantis"}).status_code == 404


def test_api_docs_use_local_assets(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
