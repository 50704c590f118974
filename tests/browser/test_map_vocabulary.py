"""The map takes every type, label and colour from the vocabulary: a service type added at
run time (``servicecircle types add``) appears in the coverage selector, the legend, on
the map and in the siting panel, in its own colour; red stations have one colour in all.

A real headless Chromium (Debian's) on the session database with the demo cities.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from geo.domain import SERVICE_TYPES, added_type_color
from geo.store.imports import add_service_type
from tests.support.browser import click_at, new_page, open_map, settle

CODE, ZH, EN = "youth_station", "青年驿站", "Youth station"


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def added(demo_engine: Engine) -> Iterator[dict[str, float]]:
    """``youth_station`` added with the store function ``types add`` uses, one youth station
    in Guixi on its most populous compound; where to drop a new one (the second); removed
    after."""
    with demo_engine.begin() as conn:
        add_service_type(conn, CODE, name_zh=ZH, name_en=EN)
        a, b = conn.execute(text(
            "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(k.geom) AS p"
            " FROM compound k JOIN city c ON c.id = k.city_id WHERE c.code = 'guixi'"
            " ORDER BY k.residents DESC LIMIT 2) s")).all()
        conn.execute(text(
            "INSERT INTO service_point (city_id, external_id, type, name, geom) SELECT id,"
            " 'vocab-test-1', :t, '测试青年驿站', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
            " FROM city WHERE code = 'guixi'"), {"t": CODE, "lon": a.lon, "lat": a.lat})
    yield {"lon": a.lon, "lat": a.lat, "drop_lon": b.lon, "drop_lat": b.lat}
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM service_point WHERE external_id = 'vocab-test-1'"))
        conn.execute(text("DELETE FROM service_type WHERE code = :t"), {"t": CODE})


def _open(browser: Any, url: str, locale: str = "zh-CN") -> Any:
    pg = new_page(browser, locale=locale)
    open_map(pg, url, expand=True)
    return pg


def _options(page: Any, select: str) -> list[list[str]]:
    return page.locator(f"{select} option").evaluate_all(
        "els => els.map(o => [o.value, o.textContent])")


def _legend_colour(page: Any, label: str) -> str:
    """Background of the legend symbol of the service points' row ``label``."""
    return page.evaluate(
        "(label) => { const h = [...document.querySelectorAll('.sc-legend h5')]"
        ".find(e => ['服务阵地', 'Service points'].some(t => e.textContent.startsWith(t)));"
        " let el = h.nextElementSibling;"
        " while (el && el.tagName !== 'H5') { if (el.textContent.endsWith(label))"
        " return getComputedStyle(el.querySelector('.pt')).backgroundColor;"
        " el = el.nextElementSibling; } return null; }", label)


def _drawn_colour(page: Any, code: str) -> str | None:
    """The colour the style gives service points of type ``code``, if one is drawn now."""
    return page.evaluate(  # type: ignore[no-any-return]
        "(code) => { const drawn = SC.map.queryRenderedFeatures({layers: ['service_points']})"
        ".some(f => f.properties.type === code); if (!drawn) return null;"
        " const e = SC.map.getPaintProperty('service_points', 'circle-color');"
        " const i = e.indexOf(code); return i > 0 ? e[i + 1] : null; }", code)


def test_added_type_reaches_selectors_legend_map_and_siting(browser: Any, demo_server: str,
                                                            added: dict[str, float],
                                                            artifacts: Path) -> None:
    colour = added_type_color(CODE)
    page = _open(browser, f"{demo_server}/map?city=guixi")
    try:
        assert [CODE, ZH] == _options(page, "#cov-type")[-1]  # after the built-in types
        assert [CODE, ZH] == _options(page, "#sw-type")[-1]
        assert _legend_colour(page, ZH) == _rgb(colour)

        # coverage tiles are asked for the added type and accepted (no 422 in the console)
        page.requests.clear()
        page.select_option("#cov-type", CODE)
        settle(page)
        assert any("/tiles/coverage_circles_15/" in u and f"service_type={CODE}" in u
                   for u in page.requests)

        # the youth station on the map, drawn in its colour with its glyph
        page.evaluate("([la, lo]) => SC.view(la, lo, 16)", [added["lat"], added["lon"]])
        settle(page)
        assert _drawn_colour(page, CODE) == colour
        page.evaluate("(label) => [...document.querySelectorAll('.sc-legend .row')]"
                      ".find(r => r.textContent.endsWith(label)).scrollIntoView()", ZH)
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / "map-added-type-legend.png"))

        # the siting panel: swatch and dropped site in the type's colour, the API's gain
        page.evaluate("([la, lo]) => SC.view(la, lo, 16)",
                      [added["drop_lat"], added["drop_lon"]])
        settle(page)
        page.select_option("#sw-type", CODE)
        swatch = page.locator("#sw-swatch")
        assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == _rgb(colour)
        assert swatch.inner_text() == ZH[0]
        page.click("#sw-drop")
        click_at(page, added["drop_lat"], added["drop_lon"])
        page.locator("#sw-out b").wait_for(timeout=60_000)
        lon, lat = page.evaluate("(() => { const p = SC.siting.markers()[0].getLngLat();"
                                 " return [p.lng, p.lat]; })()")
        answer = httpx.post(f"{demo_server}/cities/guixi/siting/whatif",
                            json={"service_type": CODE, "sites": [[lon, lat]]}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert page.locator("#sw-out b").inner_text() == f"新增 +{round(answer.json()['gain']):,} 人"
        assert page.evaluate("decodeURIComponent(SC.siting.markers()[0].getElement()"
                             ".querySelector('img').src)").count(f'fill="{colour}"') == 1
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / "map-added-type.png"))
        assert page.problems == []
    finally:
        page.context.close()


def test_added_type_in_english(browser: Any, demo_server: str, added: dict[str, float]) -> None:
    page = _open(browser, f"{demo_server}/map?city=guixi&lang=en", locale="en-GB")
    try:
        assert [CODE, EN] in _options(page, "#cov-type")
        assert [CODE, EN] in _options(page, "#sw-type")
        assert ["red_station", "Red station"] in _options(page, "#sw-type")
        assert _legend_colour(page, EN) == _rgb(added_type_color(CODE))
        assert page.problems == []
    finally:
        page.context.close()


def test_red_station_has_one_colour_everywhere(browser: Any, demo_server: str,
                                               added: dict[str, float]) -> None:
    red = SERVICE_TYPES["red_station"].color
    assert red is not None
    page = _open(browser, f"{demo_server}/map?city=guixi")
    try:
        styles = page.evaluate(
            "SC.state.layers.filter(l => ['type', 'service_type'].includes(l.style.property))"
            ".map(l => [l.name, l.style.classes.find(c => c.value === 'red_station').color])")
        assert {n.split("_")[0] for n, _ in styles} >= {"service", "coverage"}
        assert {c for _, c in styles} == {red}  # the tile styles
        assert _legend_colour(page, "红色驿站") == _rgb(red)  # the legend
        page.select_option("#sw-type", "red_station")  # the siting panel
        assert page.locator("#sw-swatch").evaluate(
            "e => getComputedStyle(e).backgroundColor") == _rgb(red)
        assert page.problems == []
    finally:
        page.context.close()
