"""An online GCJ-02 basemap (高德) on the web map, without the network: the provider's
tiles are answered by the test, and the map cuts each WGS-84 tile out of them moved by
the city's GCJ-02 shift; its attribution and review number (审图号) are shown."""

from __future__ import annotations

import math
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine

from api.app import create_app
from geo.crs.chinese import wgs84_to_gcj02
from geo.settings import Settings
from tests.support.sample import live_server

REVIEW = "GS(0000)0002号"


def _png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A plain PNG of one colour (zlib + struct, no imaging library)."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def amap_server(settings: Settings, demo_engine: Engine) -> Iterator[str]:
    with live_server(create_app(replace(settings, basemap="amap",
                                        basemap_review_number=REVIEW))) as url:
        yield url


def _tile(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Global pixel position (256-pixel tiles) of lon/lat at zoom z, Web Mercator."""
    world = 256 * 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return (lon + 180) / 360 * world, y * world


def test_gcj02_tiles_are_moved_onto_our_data(browser: Any, amap_server: str) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    problems: list[str] = []
    asked: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    def provider(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=_png((200, 220, 240)))

    page.route(re.compile(r"https://webrd01\.is\.autonavi\.com/.*"), provider)
    try:
        page.goto(f"{amap_server}/map?city=wudaokou")
        page.wait_for_function("() => window.SC && SC.ready === true", timeout=20_000)
        page.wait_for_load_state("networkidle")
        page.wait_for_function("() => SC.map.loaded()", timeout=20_000)
        attribution = page.locator(".maplibregl-ctrl-attrib").inner_text()
        assert "高德" in attribution and f"审图号 {REVIEW}" in attribution
        assert "© OpenStreetMap contributors" in attribution
        assert asked, "no provider tile was asked for"

        # the window of provider tiles for one WGS-84 tile at the centre, against the exact
        # GCJ-02 position of that tile's north-west corner (pyproj-free Mercator)
        meta = page.evaluate("SC.map.getStyle().metadata")
        lon, lat = page.evaluate("[SC.map.getCenter().lng, SC.map.getCenter().lat]")
        z = 16
        px, py = _tile(lon, lat, z)
        x, y = int(px // 256), int(py // 256)
        n = math.pi - 2 * math.pi * y / 2**z
        west, north = x / 2**z * 360 - 180, math.degrees(math.atan(math.sinh(n)))
        glon, glat = wgs84_to_gcj02(west, north)
        gx, gy = _tile(float(glon), float(glat), z)
        parts = page.evaluate("([z, x, y, s]) => SC.gcjWindow(z, x, y, s)",
                              [z, x, y, meta["sc:gcj02_shift"]])
        first = parts[0]  # the provider tile holding the window's top-left corner
        assert (first[0], first[1]) == (int(gx // 256), int(gy // 256))
        assert abs(first[2] - (first[0] * 256 - gx)) <= 1.0  # pixels
        assert abs(first[3] - (first[1] * 256 - gy)) <= 1.0
        assert len(parts) in (1, 2, 4)
        # that shift is hundreds of metres: the provider's tiles were asked for moved
        dx_m = (gx - px) * 156543.03 * math.cos(math.radians(lat)) / 2**z
        assert 100 < abs(dx_m) < 1000
        assert problems == []
    finally:
        page.context.close()
