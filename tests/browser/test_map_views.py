"""Numbers beside the map, views that travel, the case period and one colour meaning, in a
real headless Chromium on both demo cities and a city added with ``city add``, at desktop
and phone (390 px) widths, in Chinese and English.

- the panel's totals, table rows and downloads are the panel endpoint's (one computation);
  a table row highlights its feature and flies to it;
- a link reproduces the view (position, layers, type, minutes, case period, city, lang),
  and changing the view rewrites the link;
- the PNG export is the map as drawn; the print layout has title, legend, a scale bar
  that measures what the map shows, north arrow, attribution and date;
- the period control offers the data's months and says "no cases in this period" when
  that is the truth; the month slider draws that month's hot spots;
- every colour of the legend means one thing, whatever layers are turned on.

Screenshots go to tests/artifacts/map-views-*.png.
"""

from __future__ import annotations

import csv
import io
import math
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine, text

from geo.domain import DEFAULT_SERVICE_TYPE, SERVICE_TYPES
from tests.support.browser import (
    DESKTOP,
    PHONE,
    locale_of,
    new_page,
    open_map,
    settle,
)

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def runs(demo_engine: Engine) -> Iterator[None]:
    """Coverage runs of both demo cities stored; removed after."""
    from geo.runs import run_coverage

    with demo_engine.begin() as conn:
        ids = [run_coverage(conn, "guixi").run_id, run_coverage(conn, "wudaokou").run_id]
    yield
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = ANY(:ids)"), {"ids": ids})


def _drawer(page: Any, viewport: str) -> None:
    """On a phone, open the drawer holding the panels."""
    if viewport == "phone":
        page.click("#drawer")
        page.wait_for_function("() => document.getElementById('panel')"
                               ".getBoundingClientRect().left >= 0")


def _no_sideways_overflow(page: Any) -> None:
    widths = page.evaluate("[...document.querySelectorAll('#panel, #panel .sc-body')]"
                           ".map(e => [e.id || e.parentElement.id, e.scrollWidth, e.clientWidth])")
    assert all(sw <= cw + 1 for _, sw, cw in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _whole(n: float, lang: str) -> str:
    return f"{round(n):,}"  # both zh-CN and en group thousands with commas


# ---- numbers beside the map ------------------------------------------------------------

@pytest.mark.parametrize(("city", "lang", "viewport"), [
    ("guixi", "zh", "desktop"), ("wudaokou", "en", "desktop"),
    ("guixi", "en", "phone"), ("wudaokou", "zh", "phone")])
def test_numbers_beside_the_map(browser: Any, demo_server: str, runs: None, city: str,
                                lang: str, viewport: str, artifacts: Path) -> None:
    page = new_page(browser, VIEWPORTS[viewport], locale_of(lang))
    try:
        open_map(page, f"{demo_server}/map?city={city}&lang={lang}")
        page.wait_for_function("() => SC.numbers && SC.numbers.answer !== null", timeout=20_000)
        # one default type: the map's selector, the panel and siting
        assert page.input_value("#cov-type") == DEFAULT_SERVICE_TYPE
        assert page.input_value("#sw-type") == DEFAULT_SERVICE_TYPE
        api = httpx.get(f"{demo_server}/cities/{city}/coverage/panel",
                        params={"lang": lang}, timeout=60).json()
        assert api["service_type"] == DEFAULT_SERVICE_TYPE
        _drawer(page, viewport)
        t = api["totals"]
        assert page.inner_text("#nb-in") == _whole(t["residents_in"], lang)
        assert page.inner_text("#nb-out") == _whole(t["residents_out"], lang)
        assert page.inner_text("#nb-compounds") == (
            f"{_whole(t['compounds_in'], lang)} / {_whole(t['compounds_out'], lang)}")
        assert t["residents_out"] > 0 and t["residents_in"] > 0
        # the table: the endpoint's community rows, most residents outside first
        rows = [r for r in api["rows"] if r["unit_kind"] == "community"]
        shown = page.locator("#nb-table tbody tr").all()
        assert len(shown) == len(rows) > 0
        top = max(rows, key=lambda r: (r["residents_out"], r["residents"]))
        first = shown[0].locator("td").all_inner_texts()
        assert first[1] == _whole(top["residents_out"], lang)
        # the chart: one bar per unit (at most 8), the type's colour from the vocabulary
        bars = page.locator("#nb-chart rect.in")
        assert 0 < bars.count() <= 8
        assert bars.first.get_attribute("fill") == SERVICE_TYPES[DEFAULT_SERVICE_TYPE].color
        # downloads: exactly the rows shown by the panel (all three kinds)
        href = page.get_attribute("#nb-csv", "href")
        assert href == api["downloads"]["csv"]
        body = httpx.get(demo_server + href, timeout=60).content.decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(body)))
        assert len(table) - 1 == len(api["rows"])
        assert sum(int(r[10]) for r in table[1:] if r[0] == table[1][0]) == sum(
            r["residents_out"] for r in api["rows"] if r["unit_kind"] == "community")
        assert page.get_attribute("#nb-xlsx", "href") == api["downloads"]["xlsx"]
        # a row highlights its feature and flies to it
        shown[0].click()
        page.wait_for_function("() => SC.numbers.selected !== null", timeout=10_000)
        if viewport == "phone":
            page.click("#drawer")  # close the drawer to see the map
        settle(page)
        sel = page.evaluate("SC.numbers.selected")
        assert sel["id"] == top["unit_id"]
        lon, lat = page.evaluate("[SC.map.getCenter().lng, SC.map.getCenter().lat]")
        b = sel["bbox"]
        assert b[0] <= lon <= b[2] and b[1] <= lat <= b[3]
        assert page.evaluate("SC.map.queryRenderedFeatures({layers: ['sc-highlight']})"
                             ".length") > 0
        page.screenshot(path=str(artifacts / f"map-views-numbers-{city}-{lang}-{viewport}.png"))
        if viewport == "phone":
            page.click("#drawer")
        _no_sideways_overflow(page)
        # another type and threshold: the panel follows the selectors
        page.select_option("#cov-min", "10")
        page.wait_for_function("() => SC.numbers.answer.minutes === 10", timeout=20_000)
        api10 = httpx.get(f"{demo_server}/cities/{city}/coverage/panel",
                          params={"lang": lang, "minutes": 10}, timeout=60).json()
        assert page.inner_text("#nb-out") == _whole(api10["totals"]["residents_out"], lang)
        assert page.problems == []
    finally:
        page.context.close()


# ---- views that travel -------------------------------------------------------------------

def _state(page: Any) -> dict[str, Any]:
    return page.evaluate(
        "({zoom: SC.map.getZoom(), lon: SC.map.getCenter().lng, lat: SC.map.getCenter().lat,"
        " layers: SC.layersOn().sort(), type: document.getElementById('cov-type').value,"
        " minutes: document.getElementById('cov-min').value, period: SC.hotspots.period(),"
        " city: SC.config.city, lang: SC.lang})")


def _centre(engine: Engine, city: str) -> tuple[float, float]:
    with engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(ST_Centroid(bounds)), ST_Y(ST_Centroid(bounds)) FROM city"
            " WHERE code = :c"), {"c": city}).one()
    return float(lat), float(lon)


@pytest.mark.parametrize(("city", "lang", "viewport"), [
    ("guixi", "zh", "desktop"), ("wudaokou", "en", "phone"), ("added", "zh", "desktop"),
    ("added", "en", "phone")])
def test_a_link_reproduces_the_view(browser: Any, demo_server: str, demo_engine: Engine,
                                    runs: None, added_city: str, city: str, lang: str,
                                    viewport: str, artifacts: Path) -> None:
    added = city == "added"
    city = added_city if added else city
    lat, lon = _centre(demo_engine, city)
    link = (f"{demo_server}/map?city={city}&lang={lang}#map=15.5/{lat:.5f}/{lon:.5f}"
            "&layers=coverage_gaps_10,service_points&type=grid_station&minutes=10"
            "&period=2024-02/2024-04")
    page = new_page(browser, VIEWPORTS[viewport], locale_of(lang))
    try:
        open_map(page, link)
        s = _state(page)
        assert (s["city"], s["lang"]) == (city, lang)
        assert abs(s["zoom"] - 15.5) < 0.01
        assert abs(s["lat"] - lat) < 1e-4 and abs(s["lon"] - lon) < 1e-4
        assert s["layers"] == ["coverage_gaps_10", "service_points"]
        assert (s["type"], s["minutes"]) == ("grid_station", "10")
        assert s["period"] == ["2024-02", "2024-04"]
        page.screenshot(path=str(artifacts / f"map-views-link-{city}-{lang}-{viewport}.png"))

        # change the view: the address follows
        page.evaluate("SC.setLayer('compounds', true)")
        page.select_option("#cov-min", "5")
        page.select_option("#cov-type", "party_mass_centre")
        page.evaluate("SC.map.jumpTo({zoom: 14.25})")
        page.evaluate("SC.hotspots.period('2024-05', '2024-06'); SC.changed('period')")
        settle(page)
        page.wait_for_function("() => location.hash.includes('map=14.25/')", timeout=5000)
        url = page.url
        assert f"city={city}" in url and f"lang={lang}" in url
        if added:  # no coverage run yet: the panel says so, without asking for one
            assert "analyze coverage" in page.inner_text("#sec-numbers")
            assert not any("/coverage/panel" in u for u in page.requests)
        for part in ("minutes=5", "type=party_mass_centre", "period=2024-05/2024-06",
                     "compounds"):
            assert part in url, (part, url)
        # the other language keeps the view
        assert page.get_attribute("#lang", "href").split("#")[1] == url.split("#")[1]
        before = _state(page)
    finally:
        page.context.close()
    # the new link in a fresh browser context: the same view
    again = new_page(browser, VIEWPORTS[viewport], locale_of(lang))
    try:
        open_map(again, url)
        after = _state(again)
        assert abs(after.pop("zoom") - before.pop("zoom")) < 0.01
        for k in ("lat", "lon"):
            assert abs(after.pop(k) - before.pop(k)) < 1e-4
        assert after == before
        assert again.problems == []
    finally:
        again.context.close()


def test_the_city_selector_keeps_the_view(browser: Any, demo_server: str, runs: None) -> None:
    page = new_page(browser)
    try:
        open_map(page, f"{demo_server}/map?city=guixi#layers=coverage_circles_10&minutes=10")
        page.select_option("#city", "wudaokou")
        page.wait_for_url("**city=wudaokou**")
        page.wait_for_function("() => window.SC && SC.ready === true", timeout=20_000)
        settle(page)
        s = _state(page)
        assert s["city"] == "wudaokou" and s["layers"] == ["coverage_circles_10"]
        assert s["minutes"] == "10"
        lat, lon = page.evaluate("[SC.config.bounds[0][0], SC.config.bounds[0][1]]")
        assert s["lat"] > lat and s["lon"] > lon  # framed on Wudaokou, not Guixi's position
    finally:
        page.context.close()


# ---- export ---------------------------------------------------------------------------------

def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(("city", "lang", "viewport"), [
    ("guixi", "zh", "desktop"), ("wudaokou", "en", "phone"), ("added", "zh", "desktop")])
def test_png_and_print_layout(browser: Any, demo_server: str, runs: None, added_city: str,
                              city: str, lang: str, viewport: str, artifacts: Path) -> None:
    city = added_city if city == "added" else city
    page = new_page(browser, VIEWPORTS[viewport], locale_of(lang))
    try:
        open_map(page, f"{demo_server}/map?city={city}&lang={lang}")
        _drawer(page, viewport)
        page.click("#sec-views summary")
        with page.expect_download() as dl:
            page.click("#v-png")
        path = dl.value.path()
        data = Path(path).read_bytes()
        canvas = page.evaluate("[SC.map.getCanvas().width, SC.map.getCanvas().height]")
        assert _png_size(data) == tuple(canvas)
        assert dl.value.suggested_filename.startswith(f"servicecircle-{city}-")
        # the image is the map as drawn: many colours, not a blank buffer
        colours = page.evaluate(
            "async () => { const b = await SC.views.png(); const i = await createImageBitmap(b);"
            " const c = new OffscreenCanvas(i.width, i.height), g = c.getContext('2d');"
            " g.drawImage(i, 0, 0); const d = g.getImageData(0, 0, i.width, i.height).data;"
            " const s = new Set(); for (let k = 0; k < d.length; k += 4 * 97)"
            " s.add(d[k] << 16 | d[k + 1] << 8 | d[k + 2]); return s.size; }")
        assert colours > 20, colours

        # the print layout
        mpp_map = page.evaluate("SC.views.metresPerPixel()")
        page.click("#v-print")
        page.locator("#print-sheet #ps-img").wait_for(timeout=10_000)
        title = page.inner_text("#ps-title")
        city_name = page.evaluate("document.getElementById('city').selectedOptions[0].textContent")
        assert city_name in title
        type_label = SERVICE_TYPES[DEFAULT_SERVICE_TYPE].label(lang)
        assert type_label in title
        assert page.locator("#ps-legend .row").count() > 0
        assert page.locator("#ps-north").is_visible()
        assert "© OpenStreetMap contributors" in page.inner_text("#ps-attrib")
        assert datetime.now(UTC).date().isoformat() in page.inner_text("#ps-date")
        # the scale bar measures the map: metres ÷ bar pixels = metres per sheet pixel
        metres = float(page.get_attribute("#ps-scale", "data-metres"))
        bar_px = page.evaluate("document.querySelector('#ps-scale .bar')"
                               ".getBoundingClientRect().width")
        assert 20 < bar_px
        img_scale = page.evaluate("document.getElementById('ps-img').getBoundingClientRect().width"
                                  " / SC.map.getCanvas().clientWidth")
        # independent: haversine across the map's middle row, in map pixels
        a, b = page.evaluate("(() => { const c = SC.map.getContainer(), y = c.clientHeight / 2;"
                             " const p = SC.map.unproject([0, y]), q = SC.map.unproject("
                             "[c.clientWidth, y]); return [[p.lng, p.lat], [q.lng, q.lat]]; })()")
        width_px = page.evaluate("SC.map.getContainer().clientWidth")
        mpp = _haversine_m(tuple(a), tuple(b)) / width_px
        assert abs(mpp - mpp_map) / mpp < 0.01
        assert abs(metres / bar_px - mpp / img_scale) / (mpp / img_scale) < 0.03
        assert str(int(metres)) in page.inner_text("#ps-scale") or "km" in page.inner_text("#ps-scale")
        page.screenshot(path=str(artifacts / f"map-views-print-{city}-{lang}-{viewport}.png"),
                        full_page=True)
        page.emulate_media(media="print")  # printed alone: the sheet, not the app
        assert page.locator("#bar").is_hidden() and page.locator("#map").is_hidden()
        assert page.locator("#ps-title").is_visible()
        page.emulate_media(media="screen")
        page.click("#ps-close")
        assert page.locator("#print-sheet").is_hidden()
        assert page.problems == []
    finally:
        page.context.close()


# ---- the case period ------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "viewport"), [("zh", "desktop"), ("en", "phone")])
def test_case_period_offers_the_data_months(browser: Any, demo_server: str, runs: None,
                                            lang: str, viewport: str, artifacts: Path) -> None:
    months = httpx.get(f"{demo_server}/cities/guixi/cases/months", timeout=60).json()
    assert months["first"] and months["months"]
    page = new_page(browser, VIEWPORTS[viewport], locale_of(lang))
    try:
        open_map(page, f"{demo_server}/map?city=guixi&lang={lang}", expand=True)
        page.wait_for_function("() => SC.hotspots.months.length > 0", timeout=20_000)
        _drawer(page, viewport)
        assert page.get_attribute("#hs-start", "min") == months["first"]
        assert page.get_attribute("#hs-end", "max") == months["last"]
        text_ = page.inner_text("#hs-period")
        assert months["first"] in text_ and months["last"] in text_
        assert page.get_attribute("#hs-month", "max") == str(len(months["months"]) - 1)

        # a period before the data: the truth is "no cases", not "no hot spots"
        y = int(months["first"][:4]) - 1
        page.fill("#hs-start", f"{y}-01")
        page.fill("#hs-end", f"{y}-03")
        page.click("#hs-run")
        expect = "该时段没有案件" if lang == "zh" else "No cases in this period"
        page.wait_for_function("(t) => document.getElementById('hs-status').textContent === t",
                               arg=expect, timeout=10_000)
        none = "没有显著热点" if lang == "zh" else "No significant"
        assert none not in page.inner_text("#hs-status")
        assert page.evaluate("SC.hotspots.drawn()") == 0

        # the month slider: one month's hot spots, as the API computes them for that month
        i = max(range(len(months["months"])), key=lambda k: months["months"][k]["n_cases"] or 0)
        month = months["months"][i]["month"]
        page.evaluate("SC.hotspots.last = null")
        page.evaluate("(i) => { const s = document.getElementById('hs-month'); s.value = String(i);"
                      " s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }",
                      i)
        page.wait_for_function("() => SC.hotspots.last !== null", timeout=120_000)
        assert page.evaluate("SC.hotspots.period()") == [month, month]
        assert month in page.inner_text("#hs-month-out")
        y2, m2 = int(month[:4]), int(month[5:])
        end = f"{y2 + m2 // 12}-{m2 % 12 + 1:02d}-01"
        api = httpx.get(f"{demo_server}/cities/guixi/cases/hotspots",
                        params={"resolution": 9, "start": f"{month}-01", "end": end},
                        timeout=120).json()
        assert page.evaluate("SC.hotspots.drawn()") == len(api["features"]) > 0
        assert f"period={month}/{month}" in page.url
        page.screenshot(path=str(artifacts / f"map-views-period-{lang}-{viewport}.png"))
        assert page.problems == []
    finally:
        page.context.close()


# ---- one colour meaning ------------------------------------------------------------------------

def _legend_meanings(page: Any) -> dict[str, set[str]]:
    rows = page.evaluate(
        "[...document.querySelectorAll('.sc-legend .row')].map(r => { const s ="
        " r.querySelector('.sw, .ln, .pt'); return [getComputedStyle(s).backgroundColor,"
        " r.textContent.slice(s.textContent.length).trim()]; })")
    out: dict[str, set[str]] = {}
    for colour, label in rows:
        out.setdefault(colour, set()).add(label)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_colour_meaning_whatever_is_turned_on(browser: Any, demo_server: str, runs: None,
                                                  lang: str, artifacts: Path) -> None:
    page = new_page(browser, DESKTOP, locale_of(lang))
    try:
        open_map(page, f"{demo_server}/map?city=guixi&lang={lang}", expand=True)
        names = page.evaluate("SC.state.layers.filter(l => l.drawn).map(l => l.name)")
        muted = 0
        for name in names:
            page.evaluate("(n) => SC.setLayer(n, true)", name)
            # one meaning per colour: the same term (e.g. a service type and that type's
            # reach: "小哥驿站", "小哥驿站服务范围") — never two things
            clash = {c: ls for c, ls in _legend_meanings(page).items()
                     if not all(x.startswith(min(ls, key=len)) for x in ls)}
            assert clash == {}, (name, clash)
            meanings = page.evaluate("SC.layersOn().map(n => SC.meaning(n)).filter(Boolean)")
            assert len(set(meanings)) <= 1, (name, meanings)
            muted += page.locator(".sc-muted").count()
        assert muted > 0  # turning on another meaning said what it turned off
        settle(page)
        page.screenshot(path=str(artifacts / f"map-views-one-meaning-{lang}.png"))
        assert page.problems == []
    finally:
        page.context.close()


def test_popup_units_and_whole_people_on_the_gap_layer(browser: Any, demo_server: str,
                                                       demo_engine: Engine, runs: None) -> None:
    with demo_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT g.name, g.residents, ST_Y(ST_PointOnSurface(k.geom)) AS lat,"
            " ST_X(ST_PointOnSurface(k.geom)) AS lon FROM coverage_gap_latest g"
            " JOIN compound k ON k.id = g.compound_id JOIN city c ON c.id = g.city_id"
            " WHERE c.code = 'guixi' AND g.service_type = :t AND g.minutes = 15"
            " ORDER BY g.residents DESC LIMIT 1"), {"t": DEFAULT_SERVICE_TYPE}).one()
    page = new_page(browser, DESKTOP, "en-GB")
    try:
        link = (f"{demo_server}/map?city=guixi&lang=en#map=17/{row.lat:.6f}/{row.lon:.6f}"
                f"&layers=coverage_gaps_15&type={quote(DEFAULT_SERVICE_TYPE)}&minutes=15")
        open_map(page, link)
        pt = page.evaluate("([la, lo]) => SC.toPage(la, lo)", [row.lat, row.lon])
        page.mouse.click(pt[0], pt[1])
        popup = page.locator(".maplibregl-popup-content")
        popup.wait_for(timeout=5000)
        t = popup.inner_text()
        assert row.name in t
        assert f"{round(row.residents):,}" in t
        cells = [c.strip() for ln in t.splitlines() for c in ln.split("\t")]
        for raw in ("nearest_min", "budget_m", "residents", DEFAULT_SERVICE_TYPE):
            assert raw not in cells, (raw, t)  # labels and values, never field names
        assert "(min)" in t or "min" in t
        assert page.problems == []
    finally:
        page.context.close()
