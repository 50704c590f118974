"""Security headers: a Content-Security-Policy per page, nosniff, no framing, no referrer."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import basemap_source, map_csp
from geo.settings import Settings

COMMON = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
          "referrer-policy": "no-referrer"}


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def _common(r) -> None:
    for k, v in COMMON.items():
        assert r.headers.get(k) == v, (r.url, k)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def _inline_scripts(html: str) -> list[str]:
    """``<script>`` tags that would run code written in the page itself."""
    tags = re.findall(r"<script\b[^>]*>", html)
    return [t for t in tags if "src=" not in t and 'type="application/json"' not in t]


@pytest.mark.parametrize("path", ["/map", "/map?lang=en&city=testville", "/docs"])
def test_pages_run_scripts_from_this_origin_only(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    _common(r)
    d = _directives(r.headers["content-security-policy"])
    assert d["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert _inline_scripts(r.text) == []


@pytest.mark.parametrize("path", ["/layers", "/health", "/static/map.js", "/openapi.json",
                                  "/map?city=atlantis", "/collections/nope/items",
                                  "/cities/guixi/siting/plan?x=1"])
def test_every_response_has_the_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    _common(r)
    if path != "/map?city=atlantis":  # the map's 404 is still the map path
        assert _directives(r.headers["content-security-policy"])["default-src"] == ["'none'"]


def test_server_errors_have_the_headers(sample_settings: Settings) -> None:
    app = create_app(sample_settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    _common(r)


def test_map_config_is_data_not_code() -> None:
    # the config is JSON in a non-executable block; a value holding </script> cannot close it
    from api.routes.map import STRINGS, _env

    evil = "</script><script>alert(1)</script>"
    html = _env.get_template("map.html").render(
        lang="zh", s=STRINGS["zh"], switch="?lang=en", cities=[],
        config={"city": evil, "strings": STRINGS["zh"]})
    assert evil not in html and _inline_scripts(html) == []
    block = re.search(r'<script id="sc-config" type="application/json">(.*?)</script>', html)
    assert block and json.loads(block.group(1))["city"] == evil


def test_basemap_origin_allowed_for_images() -> None:
    assert "img-src 'self' data:;" in map_csp(None)
    csp = map_csp("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert _directives(csp)["img-src"] == ["'self'", "data:", "https://*.tile.openstreetmap.org"]
    assert basemap_source("https://a.b;script-src *") == "https:"  # cannot add directives
    assert basemap_source("javascript:alert(1)") == ""
