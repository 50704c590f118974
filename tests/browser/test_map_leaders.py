"""Leaders' tools on the web map: the N best sites with progress, large numbered proposals
with their popups, circles and the compounds they bring inside, a dropped site, saving the
scenario and downloading its report — on a demo city and a city added with ``city add``,
at desktop and phone widths, in Chinese and English. Every figure shown is checked against
the API's answer; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine, text

from tests.support.browser import DESKTOP, PHONE, locale_of, new_page, settle

GAIN = {"zh": "新增 +{:,} 人", "en": "New +{:,} residents"}
#: The panel's line of whom the type serves and how fast they walk (the answer's walkers).
WALKERS = {"zh": "{m}分钟步行圈：{who}，{d:,}米", "en": "{m}-minute walk: {who}, {d:,} m"}






def _open(page: Any, url: str, phone: bool) -> None:
    page.goto(url)
    try:
        page.wait_for_function("() => window.SC && SC.ready === true && SC.siting",
                               timeout=30_000)
    except Exception:
        print(page.problems, page.content()[:3000])
        raise
    settle(page)
    if phone:
        page.click("#drawer")
    page.evaluate("SC.openSection('siting')")
    page.locator("#sw-plan").scroll_into_view_if_needed()


def _plan(page: Any, p: int) -> dict[str, Any]:
    """Ask for the ``p`` best sites from the panel; wait for them and their circles. Returns
    the what-if answer the panel shows."""
    page.evaluate("""() => { SC.sawProgress = false; const el = document.getElementById('sw-progress');
        new MutationObserver(() => { if (!el.hidden) SC.sawProgress = true; })
          .observe(el, {attributes: true}); SC.siting.answer = null; }""")
    page.fill("#sw-p", str(p))
    page.click("#sw-plan")
    page.wait_for_function("() => SC.siting.answer !== null"
                           " && document.getElementById('sw-progress').hidden", timeout=90_000)
    assert page.evaluate("SC.sawProgress")
    return page.evaluate("SC.siting.answer")  # type: ignore[no-any-return]


def _lonlats(page: Any, which: str) -> list[list[float]]:
    return page.evaluate(f"SC.siting.{which}().map(m => [m.getLngLat().lng, m.getLngLat().lat])")


def _whatif(server: str, city: str, sites: list[list[float]]) -> dict[str, Any]:
    r = httpx.post(f"{server}/cities/{city}/siting/whatif",
                   json={"service_type": "red_station", "minutes": 15, "sites": sites,
                         "circles": True}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _rendered(page: Any, layer: str) -> int:
    return int(page.evaluate(f"SC.map.queryRenderedFeatures({{layers: ['{layer}']}}).length"))


def _check_plan(page: Any, server: str, city: str, lang: str, p: int) -> dict[str, Any]:
    shown = _plan(page, p)
    sites = _lonlats(page, "proposals")
    assert page.locator(".sc-proposal").all_inner_texts() == [str(i + 1) for i in range(p)]
    api = _whatif(server, city, sites)  # the same sites asked of the API directly
    assert round(api["gain"]) > 0
    assert page.locator("#sw-out b").inner_text() == GAIN[lang].format(round(api["gain"]))
    assert page.locator("#sw-title").inner_text() == api["title"][lang]
    assert page.locator("#sw-walkers").inner_text() == WALKERS[lang].format(
        m=15, who=api["walkers"][lang], d=round(api["walkers"]["budget_m"]))
    assert sorted(f["properties"]["id"] for f in shown["compounds"]["features"]) == sorted(
        api["newly_covered"])
    settle(page)
    assert _rendered(page, "sc-siting-circles") > 0
    assert _rendered(page, "sc-siting-compounds") > 0
    return api


def _marker_popup(page: Any, api: dict[str, Any], lang: str) -> str:
    box = page.locator(".sc-proposal").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".maplibregl-popup-content")
    popup.wait_for(timeout=5_000)
    t = popup.inner_text()
    gain = round(api["sites"][0]["gain"])
    assert f"+{gain:,}" in t and ("No. 1" if lang == "en" else "第1名") in t
    assert api["walkers"][lang] in t
    assert page.locator(".maplibregl-popup").count() == 1  # the marker's popup only
    return t


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_best_sites_are_drawn_ranked_with_their_circles(browser: Any, demo_server: str,
                                                        viewport: dict[str, int], lang: str,
                                                        artifacts: Path) -> None:
    phone = viewport is PHONE
    page = new_page(browser, viewport, locale_of(lang))
    try:
        _open(page, f"{demo_server}/map?city=guixi&lang={lang}", phone)
        api = _check_plan(page, demo_server, "guixi", lang, 5)
        kind = "phone" if phone else "desktop"
        page.screenshot(path=str(artifacts / f"map-leaders-best-{lang}-{kind}-panel.png"))
        if phone:
            page.click("#drawer")  # close the drawer: the map takes the screen
            page.wait_for_function("() => document.getElementById('panel')"
                                   ".getBoundingClientRect().right <= 0")
        t = _marker_popup(page, api, lang)
        assert "undefined" not in t and "NaN" not in t
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / f"map-leaders-best-{lang}-{kind}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert page.problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_elderly_canteens_are_sited_for_residents_60_plus_walking_60_m_per_min(
        browser: Any, demo_server: str, lang: str) -> None:
    page = new_page(browser, DESKTOP, locale_of(lang))
    try:
        _open(page, f"{demo_server}/map?city=guixi&lang={lang}", False)
        page.select_option("#sw-type", "elderly_canteen")
        shown = _plan(page, 1)
        assert shown["walkers"]["budget_m"] == 900 and shown["walkers"]["target_group"] == \
            "age_60_plus"
        said = {"zh": "15分钟步行圈：60岁以上居民，步行60米/分钟，900米",
                "en": "15-minute walk: residents 60+, walking 60 m/min, 900 m"}
        assert page.locator("#sw-walkers").inner_text() == said[lang]
        assert page.problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_dropped_site_draws_its_circle_and_recolours_compounds(browser: Any, demo_server: str,
                                                                 lang: str,
                                                                 artifacts: Path) -> None:
    best = httpx.post(f"{demo_server}/cities/guixi/siting/plan", json={"p": 1}, timeout=60)
    lon, lat = best.json()["sites"]["features"][0]["geometry"]["coordinates"]
    page = new_page(browser, DESKTOP, locale_of(lang))
    try:
        _open(page, f"{demo_server}/map?city=guixi&lang={lang}", False)
        page.evaluate("([la, lo]) => SC.view(la, lo, 15)", [lat, lon])
        settle(page)
        page.click("#sw-drop")
        page.evaluate("SC.siting.answer = null")
        pt = page.evaluate("([la, lo]) => SC.toPage(la, lo)", [lat, lon])
        page.mouse.click(pt[0], pt[1])
        page.wait_for_function("() => SC.siting.answer !== null", timeout=60_000)
        page.click("#sw-drop")  # stop dropping
        site = _lonlats(page, "markers")
        api = _whatif(demo_server, "guixi", site)
        gain = round(api["gain"])
        assert gain > 0
        assert page.locator("#sw-out b").inner_text() == GAIN[lang].format(gain)
        assert page.locator(".sc-site .tip").inner_text() == f"#1 +{gain:,}"
        settle(page)
        drawn = page.evaluate("SC.map.getSource('sc-siting-compounds').serialize().data"
                              ".features.map(f => f.properties.id)")
        assert set(drawn) == set(api["newly_covered"])  # recoloured: exactly those brought in
        assert _rendered(page, "sc-siting-circles") > 0
        # a click on a recoloured compound says so, in whole people
        far = max(api["compounds"]["features"], key=lambda f: shape(f["geometry"]).distance(
            shapely.Point(lon, lat)))
        inner = shape(far["geometry"]).representative_point()
        page.evaluate("([la, lo]) => SC.view(la, lo, 17)", [inner.y, inner.x])
        settle(page)
        pt = page.evaluate("([la, lo]) => SC.toPage(la, lo)", [inner.y, inner.x])
        page.mouse.click(pt[0], pt[1])
        popup = page.locator(".maplibregl-popup-content")
        popup.wait_for(timeout=5_000)
        t = popup.inner_text()
        assert ("Compound brought inside" if lang == "en" else "新纳入服务圈的小区") in t
        assert f"{round(far['properties']['weight']):,}" in t
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / f"map-leaders-dropped-{lang}.png"))
        assert page.problems == []
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def analyst_key(demo_engine: Engine) -> Iterator[str]:
    from geo.store.keys import create_key

    with demo_engine.begin() as conn:
        key = create_key(conn, "t-map-leaders", role="analyst")[1]
    yield key
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM api_key WHERE name = 't-map-leaders'"))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_save_the_scenario_and_download_its_report(browser: Any, demo_server: str,
                                                   analyst_key: str, artifacts: Path,
                                                   tmp_path: Path) -> None:
    page = new_page(browser, DESKTOP, locale_of("zh"))
    try:
        # without a key: saving is refused in the page, nothing is sent
        _open(page, f"{demo_server}/map?city=guixi", False)
        _plan(page, 3)
        page.click("#sw-save")
        assert "分析人员密钥" in page.locator("#sw-saved").inner_text()
        assert page.locator("#sw-pdf").is_hidden()

        page.evaluate("(k) => sessionStorage.setItem('sc_api_key', k)", analyst_key)
        _open(page, f"{demo_server}/map?city=guixi", False)
        answer = _plan(page, 3)
        page.click("#sw-save")
        page.locator("#sw-pdf").wait_for(state="visible", timeout=30_000)
        title = answer["title"]["zh"]
        assert title == "贵溪 新建红色驿站3处 方案"
        assert title in page.locator("#sw-saved").inner_text()
        page.screenshot(path=str(artifacts / "map-leaders-saved.png"))
        with page.expect_download(timeout=60_000) as dl:
            page.click("#sw-pdf")
        pdf = tmp_path / "report.pdf"
        dl.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF")
        text_ = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout
        assert title in text_ and "Guixi — proposal: 3 new Red station sites" in text_
        for f in answer["sites"]:  # the gains shown on the map are the report's
            assert f"{round(f['gain']):,}" in text_
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf),
                        str(artifacts / "map-leaders-report")], check=True)
        assert page.problems == []
    finally:
        page.context.close()


# --- a city added with `city add`, its compounds and a station imported -------------------

ADDED = "t-leaders-added"


def cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """``servicecircle ARGS`` on the test session's database."""
    env = {**os.environ, "SERVICECIRCLE_DATABASE_URL": settings.url(),
           "SERVICECIRCLE_DB_NAME": settings.db_name}
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          check=False, capture_output=True, text=True, env=env, timeout=300,
                          cwd=Path(__file__).parents[2])
BBOX = (116.318, 39.991, 116.332, 40.004)


@pytest.fixture(scope="module")
def added_city(settings: Any, demo_engine: Engine, tmp_path_factory: Any) -> Iterator[str]:
    """A city added with ``servicecircle city add`` from the Wudaokou extract, with twelve
    compounds and one red station imported by ``servicecircle import``."""
    root = Path(__file__).parents[2]
    r = cli(settings, "city", "add", ADDED, "--osm", str(root / "data" / "osm" / "wudaokou_2017.osm"),
            "--bbox", ",".join(map(str, BBOX)), "--name-zh", "新城", "--name-en", "Newtown")
    assert r.returncode == 0, r.stderr
    d = tmp_path_factory.mktemp("added")
    x0, y0, x1, y1 = BBOX
    feats = []
    for i in range(12):
        x = x0 + (x1 - x0) * (0.15 + 0.7 * (i % 4) / 3)
        y = y0 + (y1 - y0) * (0.15 + 0.7 * (i // 4) / 2)
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(
            shapely.box(x - 0.0006, y - 0.0004, x + 0.0006, y + 0.0004)),
            "properties": {"external_id": f"NK{i + 1}", "name": f"新城小区{i + 1}",
                           "households": 300 + 10 * i, "residents": 900 + 30 * i}})
    (d / "compounds.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    (d / "points.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x0 + 0.001, y0 + 0.001]},
         "properties": {"external_id": "NP1", "type": "red_station", "name": "新城红色驿站"}}]}),
        encoding="utf-8")
    for kind, f in (("compounds", "compounds.geojson"), ("service-points", "points.geojson")):
        r = cli(settings, "import", kind, str(d / f), "--city", ADDED)
        assert r.returncode == 0, r.stderr
    yield ADDED
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM city WHERE code = :c"), {"c": ADDED})


@pytest.mark.parametrize(("viewport", "lang"), [(DESKTOP, "zh"), (PHONE, "en")],
                         ids=["desktop-zh", "phone-en"])
def test_best_sites_in_a_city_added_with_city_add(browser: Any, demo_server: str,
                                                  added_city: str, viewport: dict[str, int],
                                                  lang: str, artifacts: Path) -> None:
    phone = viewport is PHONE
    page = new_page(browser, viewport, locale_of(lang))
    try:
        _open(page, f"{demo_server}/map?city={added_city}&lang={lang}", phone)
        api = _check_plan(page, demo_server, added_city, lang, 2)
        assert api["title"]["zh"] == "新城 新建红色驿站2处 方案"
        if phone:
            page.click("#drawer")
            page.wait_for_function("() => document.getElementById('panel')"
                                   ".getBoundingClientRect().right <= 0")
        _marker_popup(page, api, lang)
        page.wait_for_timeout(300)
        kind = "phone" if phone else "desktop"
        page.screenshot(path=str(artifacts / f"map-leaders-added-city-{lang}-{kind}.png"))
        assert page.problems == []
    finally:
        page.context.close()
