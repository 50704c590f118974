"""The finder page at phone width (390 px): a tap, a searched address or the device's
location finds the nearest 小哥驿站 (courier rest station) and draws its route, in
Chinese and in English. Screenshots: tests/artifacts/finder-*.png."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import PHONE, locale_of, new_page

START = (117.2301, 28.2939)  # on 建设路, Guixi
TIMEOUT = 30_000


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized page (touch, the device's location at ``START``), collecting errors."""
    lang = getattr(request, "param", "zh")
    pg = new_page(browser, PHONE, locale_of(lang), is_mobile=True, has_touch=True,
                  geolocation={"longitude": START[0], "latitude": START[1]},
                  permissions=["geolocation"])
    yield pg
    pg.context.close()


def _api(server: str, **params: Any) -> Any:
    url = f"{server}/cities/guixi/finder/nearest?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def _open(page: Any, server: str, lang: str) -> None:
    page.goto(f"{server}/finder?city=guixi&lang={lang}")
    page.wait_for_function("() => window.SCF && SCF.ready === true", timeout=TIMEOUT)
    page.evaluate("() => SCF.idle()")


def _answered(page: Any) -> Any:
    page.wait_for_function("() => SCF.answer !== null && !SCF.busy", timeout=TIMEOUT)
    page.evaluate("() => SCF.idle()")
    page.wait_for_function("() => SCF.routeDrawn() > 0", timeout=TIMEOUT)
    return page.evaluate("() => SCF.answer")


@pytest.mark.parametrize(("phone", "lang", "unit", "service"),
                         [("zh", "zh", "分钟", "充电"), ("en", "en", "min", "Charging")],
                         indirect=["phone"])
def test_a_tap_finds_the_nearest_courier_station_and_draws_its_route(
        phone: Any, demo_server: str, artifacts: Path, lang: str, unit: str,
        service: str) -> None:
    page = phone
    _open(page, demo_server, lang)
    assert page.evaluate("() => document.getElementById('ftype').value") == "courier_station"
    x, y = page.evaluate("""([lon, lat]) => {
        var p = SCF.map.project([lon, lat]), r = SCF.map.getContainer().getBoundingClientRect();
        return [p.x + r.left, p.y + r.top]; }""", list(START))
    assert 0 < x < PHONE["width"] and 120 < y < PHONE["height"] - 150
    page.touchscreen.tap(x, y)
    answer = _answered(page)
    want = _api(demo_server, lon=answer["origin"]["lon"], lat=answer["origin"]["lat"],
                service_type="小哥驿站", mode="walk", k=3, lang=lang)
    assert [s["name"] for s in answer["stations"]] == [s["name"] for s in want["stations"]]
    first = page.locator("#flist li").first
    assert want["stations"][0]["name"] in first.inner_text()
    assert unit in first.inner_text() and service in first.inner_text()
    assert want["stations"][0]["opening_hours"]  # the demo's stations carry their hours
    assert want["stations"][0]["opening_hours"] in first.inner_text()
    assert page.locator("#flist li").count() == 3
    drawn = page.evaluate("() => SCF.map.queryRenderedFeatures({layers: ['f-routes']})"
                          ".map(f => f.properties.rank)")
    assert 1 in drawn
    page.screenshot(path=str(artifacts / f"finder-{lang}.png"))
    assert page.problems == []


def test_a_searched_address_is_the_start(phone: Any, demo_server: str, artifacts: Path) -> None:
    page = phone
    _open(page, demo_server, "zh")
    page.locator("#fq").fill("建设路")
    page.wait_for_selector("#fplaces li", timeout=TIMEOUT)
    page.locator("#fplaces li", has_text="建设路").first.click()
    answer = _answered(page)
    assert answer["place"]["name"] == "建设路"
    assert page.locator("#fstatus").inner_text().endswith("建设路")
    page.screenshot(path=str(artifacts / "finder-search.png"))
    assert page.problems == []


def test_my_location_is_the_start_and_riding_is_faster(phone: Any, demo_server: str) -> None:
    page = phone
    _open(page, demo_server, "zh")
    page.locator("#flocate").click()
    walk = _answered(page)
    assert walk["origin"] == pytest.approx({"lon": START[0], "lat": START[1]})
    page.evaluate("() => { SCF.answer = null; }")
    page.locator("#fmode input[value=ride]").check()
    ride = _answered(page)
    assert ride["mode"] == "ride"
    assert ride["stations"][0]["minutes"] < walk["stations"][0]["minutes"]
    assert page.problems == []
