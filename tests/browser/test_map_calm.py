"""The calm default view on the demo cities: a real basemap with Chinese (or English)
labels, few layers on, panels that never overflow, the click that picks the feature meant,
labelled popups, a refused key that blanks nothing, a usable phone layout.

Screenshots of both demo cities at desktop (1280×800) and phone (390×844) widths, in
Chinese and English, go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.support.browser import (
    DESKTOP,
    PHONE,
    drawn,
    drawn_names,
    new_page,
    open_map,
    settle,
)


@pytest.fixture(scope="module")
def runs(demo_engine: Engine) -> Iterator[None]:
    """Coverage of both demo cities and Guixi's courier reach stored; removed after."""
    from geo.runs import CourierParams, run_courier, run_coverage
    from geo.store.cities import get_city

    with demo_engine.begin() as conn:
        ids = [run_coverage(conn, "guixi").run_id, run_coverage(conn, "wudaokou").run_id,
               run_courier(conn, get_city(conn, "guixi"), CourierParams(metres=1000)).run_id]
    yield
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = ANY(:ids)"), {"ids": ids})


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("city", ["guixi", "wudaokou"])
def test_basemap_and_calm_default(browser: Any, demo_server: str, demo_engine: Engine,
                                  runs: None, city: str, lang: str, artifacts: Path) -> None:
    with demo_engine.connect() as conn:  # where the city's named streets are
        street = conn.execute(text(
            "SELECT ST_Y(p) AS lat, ST_X(p) AS lon FROM (SELECT ST_Centroid(ST_Collect(geom))"
            " AS p FROM basemap_line b JOIN city c ON c.id = b.city_id"
            " WHERE c.code = :c AND b.layer = 'roads' AND b.name IS NOT NULL) s"),
            {"c": city}).one()
    page = new_page(browser, DESKTOP, "en-GB" if lang == "en" else "zh-CN")
    try:
        open_map(page, f"{demo_server}/map?city={city}&lang={lang}")
        # few layers on: the coverage view of one type and the service points
        assert set(page.evaluate("SC.layersOn()")) == {"coverage_circles_15", "service_points"}
        assert page.evaluate("SC.drawn('coverage_circles_15')") > 0
        # the basemap: named streets, water, green, built-up areas and place names
        assert drawn(page, "basemap:water") > 0 and drawn(page, "basemap:green") > 0
        assert drawn(page, "basemap:roads") > 50
        places = drawn_names(page, "basemap:labels")
        if city == "wudaokou":
            assert {"清华大学", "北京大学", "圆明园"} <= places
        else:
            assert "贵溪市" in places
        page.evaluate("([la, lo]) => SC.view(la, lo, 15)", [street.lat, street.lon])
        settle(page)
        page.wait_for_function(  # streets with names (labels are placed over a few frames)
            "() => new Set(SC.map.queryRenderedFeatures({layers: ['basemap:road-names']})"
            ".map(f => f.properties.name)).size >= 2", timeout=10_000)
        page.evaluate("SC.map.fitBounds(SC.config.bounds.map(p => [p[1], p[0]]),"
                      " {duration: 0})")
        assert "© OpenStreetMap contributors" in page.locator(".maplibregl-ctrl-attrib").inner_text()
        page.evaluate("SC.map.jumpTo({zoom: 14})")
        settle(page)
        page.screenshot(path=str(artifacts / f"map-calm-{city}-{lang}-desktop.png"))

        # panels never overflow sideways; the layers that are on show in the list
        widths = page.evaluate("[...document.querySelectorAll('#panel, #panel .sc-body')]"
                               ".map(e => [e.scrollWidth, e.clientWidth])")
        assert all(sw <= cw + 1 for sw, cw in widths), widths
        for name in page.evaluate("SC.layersOn()"):
            box = page.locator(f'#layers input[data-layer="{name}"]')
            box.scroll_into_view_if_needed()
            assert box.is_visible() and box.is_checked(), name
        # nothing reads "undefined", with every layer on
        page.evaluate("SC.state.layers.forEach(l => SC.setLayer(l.name, true))")
        page.evaluate("document.querySelectorAll('#panel details').forEach(d => d.open = true)")
        assert "undefined" not in page.locator("#panel").inner_text()
        assert "NaN" not in page.locator("#panel").inner_text()
        assert page.problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("city", ["guixi", "wudaokou"])
def test_phone_layout(browser: Any, demo_server: str, runs: None, city: str, lang: str,
                      artifacts: Path) -> None:
    page = new_page(browser, PHONE, "en-GB" if lang == "en" else "zh-CN")
    try:
        open_map(page, f"{demo_server}/map?city={city}&lang={lang}")
        # the map takes the whole width; nothing makes the page scroll sideways
        assert page.evaluate("SC.map.getCanvas().getBoundingClientRect().width") == PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate("document.getElementById('panel').getBoundingClientRect().right") <= 0
        assert drawn(page, "basemap:roads") > 0
        page.screenshot(path=str(artifacts / f"map-phone-{city}-{lang}.png"))
        # the drawer opens over the map, inside the screen, and its selectors work
        page.click("#drawer")
        page.wait_for_function("() => document.getElementById('panel')"
                               ".getBoundingClientRect().left >= 0")
        box = page.evaluate("(() => { const r = document.getElementById('panel')"
                            ".getBoundingClientRect(); return [r.left, r.right]; })()")
        assert 0 <= box[0] and box[1] <= PHONE["width"]
        page.select_option("#cov-min", "10")
        settle(page)
        assert "coverage_circles_10" in page.evaluate("SC.layersOn()")
        page.screenshot(path=str(artifacts / f"map-phone-{city}-{lang}-drawer.png"))
        page.click("#sec-key summary")  # the key box lives in the drawer on phones
        assert page.locator("#key").is_visible()
        page.click("#drawer")
        assert page.problems == []
    finally:
        page.context.close()


def test_a_click_on_a_compound_opens_the_compound(browser: Any, demo_server: str,
                                                  demo_engine: Engine, runs: None,
                                                  artifacts: Path) -> None:
    """Inside a courier catchment, a click on a compound shows the compound, not the
    catchment drawn above it."""
    with demo_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT k.name, ST_Y(ST_PointOnSurface(k.geom)) AS lat,"
            " ST_X(ST_PointOnSurface(k.geom)) AS lon FROM compound k"
            " JOIN courier_catchment_latest c ON c.city_id = k.city_id"
            " AND ST_Contains(c.geom, ST_PointOnSurface(k.geom))"
            " JOIN city ON city.id = k.city_id WHERE city.code = 'guixi'"
            " ORDER BY k.residents DESC LIMIT 1")).one()
    page = new_page(browser, DESKTOP)
    try:
        open_map(page, f"{demo_server}/map?city=guixi")
        for name in ("compounds", "courier_catchments"):
            page.evaluate("(n) => SC.setLayer(n, true)", name)
        page.evaluate("([la, lo]) => SC.view(la, lo, 17)", [row.lat, row.lon])
        settle(page)
        pt = page.evaluate("([la, lo]) => SC.toPage(la, lo)", [row.lat, row.lon])
        under = page.evaluate("([x, y]) => { const r = SC.map.getContainer()"
                              ".getBoundingClientRect(); return SC.map.queryRenderedFeatures("
                              "[x - r.left, y - r.top]).map(f => f.layer.id); }", pt)
        assert "courier_catchments" in under and "compounds" in under
        page.mouse.click(pt[0], pt[1])
        popup = page.locator(".maplibregl-popup-content")
        popup.wait_for(timeout=5000)
        t = popup.inner_text()
        assert row.name in t and "小区（按居民人数）" in t
        assert "服务范围" not in t
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / "map-click-compound.png"))
        assert page.problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_popups_speak_the_language_in_whole_people(browser: Any, demo_server: str,
                                                   demo_engine: Engine, runs: None,
                                                   lang: str) -> None:
    with demo_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ST_Y(ST_PointOnSurface(k.geom)) AS lat, ST_X(ST_PointOnSurface(k.geom)) AS lon"
            " FROM coverage_compound_latest m JOIN compound k ON k.id = m.compound_id"
            " JOIN city c ON c.id = m.city_id WHERE c.code = 'guixi'"
            " AND m.service_type = 'party_mass_centre' ORDER BY k.residents DESC LIMIT 1")).one()
    page = new_page(browser, DESKTOP, "en-GB" if lang == "en" else "zh-CN")
    try:
        open_map(page, f"{demo_server}/map?city=guixi&lang={lang}")
        page.evaluate("SC.layersOn().forEach(n => SC.setLayer(n, false));"
                      " SC.setLayer('coverage_compound_minutes', true)")
        page.evaluate("([la, lo]) => SC.view(la, lo, 17)", [row.lat, row.lon])
        settle(page)
        pt = page.evaluate("([la, lo]) => SC.toPage(la, lo)", [row.lat, row.lon])
        page.mouse.click(pt[0], pt[1])
        popup = page.locator(".maplibregl-popup-content")
        popup.wait_for(timeout=5000)
        t = popup.inner_text()
        for raw in ("nearest_min", "nearest_m", "residents", "party_mass_centre", "true"):
            assert raw not in t.split(), (raw, t)
        label = "Walk to the nearest service (min)" if lang == "en" else "到最近服务点步行时间（分钟）"
        assert label in t
        residents = t.split("Residents" if lang == "en" else "居民人数")[1].split("\n")[0].strip()
        assert residents.replace(",", "").isdigit(), residents  # whole people
        assert page.problems == []
    finally:
        page.context.close()


def test_a_refused_key_shows_a_message_and_public_layers_load(browser: Any, demo_server: str,
                                                              runs: None,
                                                              artifacts: Path) -> None:
    page = new_page(browser, DESKTOP)
    try:
        page.goto(f"{demo_server}/map?city=guixi")
        page.evaluate("sessionStorage.setItem('sc_api_key', 'sc2_not-a-key-anyone-was-given')")
        open_map(page, f"{demo_server}/map?city=guixi")
        msg = page.locator("#keymsg")
        assert msg.is_visible() and "密钥无效或已被吊销" in msg.inner_text()
        assert page.evaluate("SC.drawn('service_points')") > 0
        assert page.evaluate("SC.drawn('coverage_circles_15')") > 0
        refused = [u for status, u in page.responses if status == 401]
        assert refused and all("/keys/me" in u for u in refused)  # never a tile or the style
        page.screenshot(path=str(artifacts / "map-refused-key.png"))
        assert [p for p in page.problems if "status of 401" not in p] == []
    finally:
        page.context.close()


def test_a_key_revoked_while_the_map_isopen_map(browser: Any, demo_server: str,
                                              demo_engine: Engine, runs: None) -> None:
    from geo.store.keys import create_key, revoke_key

    with demo_engine.begin() as conn:
        key = create_key(conn, "t-map-revoked-later", role="analyst")[1]
    page = new_page(browser, DESKTOP)
    try:
        page.goto(f"{demo_server}/map?city=guixi")
        page.evaluate("(k) => sessionStorage.setItem('sc_api_key', k)", key)
        open_map(page, f"{demo_server}/map?city=guixi")
        assert page.evaluate("SC.role") == "analyst"
        assert page.locator("#keymsg").is_hidden()
        with demo_engine.begin() as conn:
            revoke_key(conn, "t-map-revoked-later")
        # new tiles are asked for until the server (its key cache expired) refuses the key
        page.wait_for_function(
            "() => { if (SC.keyRefused) return true;"
            " SC.map.jumpTo({zoom: SC.map.getZoom() + (SC.map.getZoom() > 16 ? -3 : 0.7)});"
            " return false; }", polling=1000, timeout=30_000)
        assert page.locator("#keymsg").is_visible()
        settle(page)
        assert page.evaluate("SC.drawn('service_points')") > 0  # public layers still drawn
        assert [p for p in page.problems if "status of 401" not in p] == []
    finally:
        page.context.close()
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM api_key WHERE name = 't-map-revoked-later'"))


def test_map_opens_on_the_first_demo_city(browser: Any, demo_server: str) -> None:
    page = new_page(browser, DESKTOP)
    try:
        open_map(page, f"{demo_server}/map")
        assert page.evaluate("SC.config.city") == "guixi"
        assert page.locator("#city").input_value() == "guixi"
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_city_added_with_city_add_has_its_basemap(browser: Any, demo_server: str,
                                                    added_city: str, viewport: dict[str, int],
                                                    artifacts: Path) -> None:
    page = new_page(browser, viewport)
    try:
        open_map(page, f"{demo_server}/map?city={added_city}")
        assert drawn(page, "basemap:roads") > 20 and drawn(page, "basemap:buildings") > 0
        assert "清华大学" in drawn_names(page, "basemap:labels")
        assert page.locator("#city").input_value() == added_city
        kind = "desktop" if viewport is DESKTOP else "phone"
        page.screenshot(path=str(artifacts / f"map-added-city-{kind}.png"))
        assert page.problems == []
    finally:
        page.context.close()
