"""Odd values never produce a 500 or leak database text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

URLS = [
    "/collections/compounds/items/99999999999999999999999",
    "/tiles/compounds/99999999999999999999/1/1.mvt",
    "/tiles/compounds/14/99999999999999999999/1.mvt",
    "/search?q=%27%20OR%201%3D1--",
    "/collections/compounds/items?bbox=,,,",
    "/collections/compounds/items?bbox=1e400,0,1,1",
    "/collections/compounds/items?residents=abc",
    "/collections/compounds/items?offset=99999999999999999999",
    "/collections/compounds/items?limit=1e3",
    "/collections/compounds/items?city=%00",
    "/collections/compounds/items?name=%00",
    "/search?q=%00",
    "/tiles/compounds/14/1/1.mvt?city=%00",
    "/map?city=%00",
    "/layers/%00",
    "/tiles/compounds/tilejson.json?city=x%00",
]


@pytest.mark.parametrize("url", URLS)
def test_no_server_error_and_no_database_text(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json"
    for leak in ("psycopg", "SELECT", "sqlalchemy", "Traceback"):
        assert leak not in r.text
