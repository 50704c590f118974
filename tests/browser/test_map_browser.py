"""The planners' map in a real headless Chromium (Debian's, no browser download)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import new_page, open_map, settle


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    pg = new_page(browser)
    yield pg
    pg.context.close()


def _overlay_count(page: Any) -> int:
    return len(page.evaluate("SC.layersOn()"))


def test_map_shows_layers_toggles_and_popups(page: Any, server: str,
                                             artifacts: Path) -> None:
    open_map(page, f"{server}/map?city=testville", expand=True)
    assert page.title() == "服务圈地图"
    labels = page.locator("#layers label")
    texts = labels.all_inner_texts()
    assert any("网格" in t for t in texts) and any("小区" in t for t in texts)
    assert not any("网格事件" in t for t in texts)  # raw cases hidden from anonymous users
    assert page.evaluate("SC.drawn('service_points')") > 0
    assert "© OpenStreetMap contributors" in page.locator(".maplibregl-ctrl-attrib").inner_text()
    assert page.locator(".maplibregl-ctrl-scale").count() == 1

    page.screenshot(path=str(artifacts / "map-overview.png"))

    # toggle the grids layer off and on through the layer control
    grids = page.locator("#layers label").filter(
        has_text="网格").filter(has_not_text="事件").first
    before = _overlay_count(page)
    grids.locator("input").click()
    assert _overlay_count(page) == before + 1
    assert "网格" in page.locator(".sc-legend h5").all_inner_texts()
    grids.locator("input").click()
    assert _overlay_count(page) == before
    assert "网格" not in page.locator(".sc-legend h5").all_inner_texts()

    # click inside compound K4 (lon 117.055-117.065, lat 28.22-28.23): a popup opens
    page.evaluate("SC.setLayer('compounds', true)")
    page.evaluate("SC.view(28.225, 117.06, 16)")
    settle(page)
    pt = page.evaluate("SC.toPage(28.225, 117.06)")
    page.mouse.click(pt[0], pt[1])
    popup = page.locator(".maplibregl-popup-content")
    popup.wait_for(timeout=5000)
    assert "幸福小区4期" in popup.inner_text() or "网格" in popup.inner_text()
    assert "居民人数" in popup.inner_text() or "名称" in popup.inner_text()  # zh labels
    page.wait_for_timeout(400)  # popup fade-in
    page.screenshot(path=str(artifacts / "map.png"))
    assert page.problems == []


def test_search_by_name_lists_and_zooms(page: Any, server: str) -> None:
    open_map(page, f"{server}/map?city=testville", expand=True)
    page.fill("#q", "幸福小区2")
    page.locator("#results li").first.wait_for(timeout=5000)
    assert "幸福小区2期" in page.locator("#results").inner_text()
    page.locator("#results li").first.click()
    settle(page)
    assert page.evaluate("SC.map.getZoom()") >= 15
    assert page.problems == []


def test_english_switch(page: Any, server: str) -> None:
    open_map(page, f"{server}/map?city=testville", expand=True)
    page.click("#lang")
    page.wait_for_function("() => window.SC && window.SC.ready === true", timeout=20_000)
    assert page.title() == "Service circle map"
    assert "Legend" in page.locator("#sec-legend").inner_text()
    assert any("Compounds" in t for t in page.locator("#layers label").all_inner_texts())
    assert page.problems == []


def test_analyst_key_shows_restricted_case_layer(page: Any, server: str,
                                                 api_keys: dict[str, str]) -> None:
    open_map(page, f"{server}/map?city=testville", expand=True)
    page.fill("#key", api_keys["analyst"])
    page.click("#keysave")
    page.wait_for_function("() => window.SC && window.SC.ready === true", timeout=20_000)
    page.evaluate("document.querySelectorAll('#layers details').forEach(d => d.open = true)")
    texts = page.locator("#layers label").all_inner_texts()
    assert any("网格事件" in t for t in texts)
    page.evaluate("document.querySelectorAll('#layers details').forEach(d => d.open = true)")
    page.locator("#layers label", has_text="网格事件").locator("input").click()
    settle(page)
    assert "grid_cases" in page.evaluate("SC.layersOn()")
    assert page.problems == []


def test_demo_city_map(page: Any, demo_server: str, artifacts: Path) -> None:
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    assert page.evaluate("SC.map.queryRenderedFeatures().length") > 50  # basemap and layers
    assert page.evaluate("SC.drawn('service_points')") > 0  # service point markers
    page.screenshot(path=str(artifacts / "map-guixi.png"))
    assert page.problems == []


def test_api_docs_render_offline(page: Any, server: str) -> None:
    page.goto(f"{server}/docs")
    page.locator(".opblock").first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() > 10
    assert page.problems == []
