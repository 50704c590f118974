"""The planners' map on Guixi: coverage selectors, case hot-spot filters, siting gain, popups.

A real headless Chromium (Debian's) drives the page served by a real uvicorn server on the
session database with the demo cities and stored coverage, case and courier runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from geo.domain import SERVICE_TYPES
from tests.support.browser import click_at, drawn, new_page, open_map, settle, zoom_centre


@pytest.fixture(scope="module")
def runs(demo_engine: Engine) -> Iterator[dict[str, int]]:
    """Coverage (5/10/15 min), case hot-spot and courier runs stored for Guixi; removed after."""
    from geo.runs import CasesParams, CourierParams, run_cases, run_courier, run_coverage
    from geo.store.cities import get_city

    with demo_engine.begin() as conn:
        city = get_city(conn, "guixi")
        ids = {"coverage": run_coverage(conn, "guixi").run_id,
               "cases": run_cases(conn, city, CasesParams(resolution=8,
                                                          permutations=99)).run_id,
               "courier": run_courier(conn, city, CourierParams(metres=1000)).run_id}
    yield ids
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = ANY(:ids)"),
                     {"ids": list(ids.values())})


@pytest.fixture
def page(browser: Any, runs: dict[str, int]) -> Iterator[Any]:
    pg = new_page(browser)
    yield pg
    pg.context.close()


def _on(page: Any) -> set[str]:
    return set(page.evaluate("SC.layersOn()"))


def _types_with_circles(engine: Engine, minutes: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT service_type, count(*) AS n FROM service_circle_union_latest u "
            "JOIN city c ON c.id = u.city_id WHERE c.code = 'guixi' AND u.minutes = :m "
            "GROUP BY service_type"), {"m": minutes}).all()
    return {r.service_type: int(r.n) for r in rows}


def test_service_type_and_minutes_drive_coverage_tiles(page: Any, demo_server: str,
                                                        demo_engine: Engine,
                                                        artifacts: Path) -> None:
    types15 = _types_with_circles(demo_engine, 15)
    assert len(types15) >= 2, types15
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    zoom_centre(page, 13)
    settle(page)
    first, second = sorted(types15)[:2]
    page.evaluate("SC.setLayer('coverage_gaps_15', true)")

    page.select_option("#cov-type", first)
    settle(page)
    assert {"coverage_circles_15", "coverage_gaps_15"} <= _on(page)
    assert any("/tiles/coverage_circles_15/" in u and f"service_type={first}" in u
               for u in page.requests)
    n_first = drawn(page, "coverage_circles_15")
    assert n_first > 0

    page.requests.clear()
    page.select_option("#cov-type", second)
    settle(page)
    assert any("/tiles/coverage_gaps_15/" in u and f"service_type={second}" in u
               for u in page.requests)
    assert not any(f"service_type={first}" in u for u in page.requests)

    page.requests.clear()
    page.select_option("#cov-min", "5")
    settle(page)
    on = _on(page)
    assert {"coverage_circles_5", "coverage_gaps_5"} <= on
    assert not {"coverage_circles_15", "coverage_gaps_15"} & on
    assert any("/tiles/coverage_circles_5/" in u and f"service_type={second}" in u
               for u in page.requests)
    assert page.locator(".sc-legend h5", has_text="5分钟步行服务圈").count() == 1
    rows = page.evaluate(  # legend rows of the circles layer: the chosen type only
        "(() => { const out = []; let el = [...document.querySelectorAll('.sc-legend h5')]"
        ".find(h => h.textContent.startsWith('5分钟步行服务圈')).nextElementSibling;"
        " while (el && el.tagName !== 'H5') { out.push(el.textContent); el = el.nextElementSibling; }"
        " return out; })()")
    assert rows == [SERVICE_TYPES[second].zh]
    page.screenshot(path=str(artifacts / "map-coverage-selectors.png"))

    # "all types" draws at least as many circles as any single type
    page.select_option("#cov-min", "15")
    page.select_option("#cov-type", "")
    settle(page)
    n_all = drawn(page, "coverage_circles_15")
    assert n_all > n_first
    assert page.problems == []


def test_grid_share_tiles_follow_both_selectors(page: Any, demo_server: str) -> None:
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.locator("#layers label", has_text="网格服务圈覆盖率").locator("input").click()
    settle(page)
    page.requests.clear()
    with page.expect_request(lambda r: "/tiles/coverage_grid_share/" in r.url
                             and "service_type=red_station" in r.url and "minutes=10" in r.url,
                             timeout=20_000):
        page.select_option("#cov-type", "red_station")
        page.select_option("#cov-min", "10")
    settle(page)
    assert any("/tiles/coverage_grid_share/" in u and "service_type=red_station" in u
               and "minutes=10" in u for u in page.requests)
    # a layer without a minutes filter never gets one
    assert not any("/tiles/coverage_compound_minutes/" in u and "minutes=" in u
                   for u in page.requests)
    assert page.problems == []


def _hotspot_api(server: str, query: str) -> tuple[int, int, int]:
    j = httpx.get(f"{server}/cities/guixi/cases/hotspots?resolution=9&{query}",
                  timeout=120).json()
    bins = [f["properties"]["bin"] for f in j["features"]]
    return len(bins), sum(b > 0 for b in bins), sum(b < 0 for b in bins)


def _case_months(engine: Engine) -> tuple[str, str]:
    with engine.connect() as conn:
        lo, hi = conn.execute(text(
            "SELECT to_char(min(reported_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM'),"
            " to_char(max(reported_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM')"
            " FROM grid_case g JOIN city c ON c.id = g.city_id WHERE c.code = 'guixi'")).one()
    return lo, hi


def _run_hotspots(page: Any) -> dict[str, Any]:
    page.evaluate("SC.hotspots.last = null")
    page.click("#hs-run")
    page.wait_for_function("() => SC.hotspots.last !== null ||"
                           " document.querySelector('#hs-status.error') !== null", timeout=120_000)
    status = page.locator("#hs-status").inner_text()
    assert page.evaluate("SC.hotspots.last") is not None, status
    return {"status": status, **page.evaluate("SC.hotspots.last"),
            "drawn": page.evaluate("SC.hotspots.drawn()")}


def test_case_filters_change_hot_spot_cells(page: Any, demo_server: str, demo_engine: Engine,
                                            artifacts: Path) -> None:
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    labels = page.locator(".sc-hotspots .hs-cats label").all_inner_texts()
    assert len(labels) == 7 and "环境卫生" in labels and "治安稳定" in labels

    page.click("#hs-run")
    page.locator("#hs-status.loading").wait_for(timeout=5000)  # loading state shown
    page.wait_for_function("() => SC.hotspots.last !== null", timeout=120_000)
    all_cats = {"status": page.locator("#hs-status").inner_text(),
                **page.evaluate("SC.hotspots.last"),
                "drawn": page.evaluate("SC.hotspots.drawn()")}
    n, hot, cold = _hotspot_api(demo_server, "")
    assert (all_cats["cells"], all_cats["hot"], all_cats["cold"]) == (n, hot, cold)
    assert all_cats["drawn"] == n
    assert f"热点 {hot}" in all_cats["status"] and f"冷点 {cold}" in all_cats["status"]
    assert hot > 0
    assert all_cats["meta"]["access"] == "public"
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "map-hotspots-all.png"))

    # one category, first half of the period
    lo, hi = _case_months(demo_engine)
    for box in page.locator("input[name=hs-cat]").all():
        if box.get_attribute("value") != "sanitation":
            box.uncheck()
    first, last = int(lo[:4]) * 12 + int(lo[5:]) - 1, int(hi[:4]) * 12 + int(hi[5:]) - 1
    mid = (first + last) // 2  # months since year 0, inclusive end of the chosen period
    page.fill("#hs-start", lo)
    page.fill("#hs-end", f"{mid // 12}-{mid % 12 + 1:02d}")
    one = _run_hotspots(page)
    end = f"{(mid + 1) // 12}-{(mid + 1) % 12 + 1:02d}-01"
    n1, hot1, cold1 = _hotspot_api(demo_server,
                                   f"categories=sanitation&start={lo}-01&end={end}")
    assert (one["cells"], one["hot"], one["cold"]) == (n1, hot1, cold1)
    assert (one["hot"], one["cold"]) != (all_cats["hot"], all_cats["cold"])
    page.screenshot(path=str(artifacts / "map-hotspots-sanitation.png"))
    assert page.problems == []


def test_hot_spot_errors_are_shown_in_the_page(page: Any, demo_server: str) -> None:
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.fill("#hs-start", "2025-06")
    page.fill("#hs-end", "2025-01")  # end before start
    page.click("#hs-run")
    page.locator("#hs-status.error").wait_for(timeout=30_000)
    assert "查询失败" in page.locator("#hs-status").inner_text()
    for box in page.locator("input[name=hs-cat]").all():
        box.uncheck()
    page.click("#hs-run")
    assert page.locator("#hs-status").inner_text() == "请至少选择一个类别"
    # the browser logs the 422 response itself; nothing else may fail
    assert [p for p in page.problems if "status of 422" not in p] == []


def test_siting_click_shows_the_api_gain(page: Any, demo_server: str, demo_engine: Engine,
                                         artifacts: Path) -> None:
    # the most populous compound outside every red station's 15-minute circle
    with demo_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ST_Y(ST_PointOnSurface(k.geom)) AS lat, ST_X(ST_PointOnSurface(k.geom)) AS lon"
            " FROM coverage_compound_latest m JOIN compound k ON k.id = m.compound_id"
            " JOIN city c ON c.id = m.city_id WHERE c.code = 'guixi'"
            " AND m.service_type = 'red_station' AND m.snapped"
            " AND (m.nearest_min IS NULL OR m.nearest_min > 15)"
            " ORDER BY m.residents DESC LIMIT 1")).one()
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.evaluate("([la, lo]) => SC.view(la, lo, 16)", [row.lat, row.lon])
    settle(page)
    page.select_option("#sw-type", "red_station")
    page.click("#sw-drop")
    click_at(page, row.lat, row.lon)
    page.locator("#sw-out b").wait_for(timeout=60_000)
    lon, lat = page.evaluate("(() => { const p = SC.siting.markers()[0].getLngLat();"
                             " return [p.lng, p.lat]; })()")
    answer = httpx.post(f"{demo_server}/cities/guixi/siting/whatif",
                        json={"service_type": "red_station", "minutes": 15,
                              "sites": [[lon, lat]]}, timeout=60).json()
    gain = round(answer["gain"])
    assert gain > 0
    assert page.locator("#sw-out b").inner_text() == f"新增 +{gain:,} 人"
    assert page.locator(".maplibregl-popup").count() == 0  # dropping, not inspecting
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "map-siting.png"))
    assert page.problems == []


def test_compound_popup_shows_labels_not_codes(page: Any, demo_server: str,
                                              demo_engine: Engine, artifacts: Path) -> None:
    with demo_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT k.name, k.property_management AS pm, ST_Y(p) AS lat, ST_X(p) AS lon FROM ("
            " SELECT name, property_management, ST_PointOnSurface(geom) AS p, residents"
            " FROM compound WHERE city_id = (SELECT id FROM city WHERE code = 'guixi')"
            " AND property_management = 'unmanaged' ORDER BY residents DESC LIMIT 1) k")).one()
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.evaluate("SC.layersOn().forEach(n => SC.setLayer(n, false)); SC.setLayer('compounds', true)")
    page.evaluate("([la, lo]) => SC.view(la, lo, 17)", [row.lat, row.lon])
    settle(page)
    click_at(page, row.lat, row.lon)
    popup = page.locator(".maplibregl-popup-content")
    popup.wait_for(timeout=5000)
    textc = popup.inner_text()
    assert row.name in textc
    assert "无物业" in textc and "unmanaged" not in textc
    assert "编号" not in textc and "所属社区" not in textc  # internal ids hidden
    page.wait_for_timeout(400)
    page.screenshot(path=str(artifacts / "map-popup-compound.png"))
    assert page.problems == []


def test_coverage_popup_labels_type_and_percent(page: Any, demo_server: str) -> None:
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.evaluate("SC.layersOn().forEach(n => SC.setLayer(n, false))")
    page.locator("#layers label", has_text="网格服务圈覆盖率").locator("input").click()
    settle(page)  # as a person would: the layer drawn before its type is changed
    page.select_option("#cov-type", "party_mass_centre")
    zoom_centre(page, 14)
    settle(page)
    # the tiles of the chosen type replace those of the previous one
    page.wait_for_function("""() => { const fs = SC.map.queryRenderedFeatures(
        {layers: ['coverage_grid_share']});
        return fs.length > 0 && fs.every(f => f.properties.service_type === 'party_mass_centre'); }""",
                           timeout=20_000)
    assert drawn(page, "coverage_grid_share") > 0
    # a point inside a drawn grid: the label point of the first feature's first ring
    box = page.evaluate("(() => { const f = SC.map.queryRenderedFeatures("
                        "{layers: ['coverage_grid_share']})[0], g = f.geometry;"
                        " const ring = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0];"
                        " const xs = ring.map(c => c[0]), ys = ring.map(c => c[1]);"
                        " const lon = (Math.min(...xs) + Math.max(...xs)) / 2,"
                        " lat = (Math.min(...ys) + Math.max(...ys)) / 2;"
                        " return SC.toPage(lat, lon); })()")
    page.mouse.click(box[0], box[1])
    popup = page.locator(".maplibregl-popup-content")
    popup.wait_for(timeout=5000)
    t = popup.inner_text()
    assert "党群服务中心" in t and "party_mass_centre" not in t
    assert "%" in t
    assert page.problems == []


def test_courier_stations_are_sized_by_residents(page: Any, demo_server: str) -> None:
    import math

    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.evaluate("SC.setLayer('courier_reach', true)")
    zoom_centre(page, 13)
    residents = page.evaluate("SC.map.queryRenderedFeatures({layers: ['courier_reach']})"
                              ".map(f => f.properties.residents)")
    assert len(set(residents)) >= 2
    # the drawn radius: sqrt-scaled on residents, as the legend's symbols
    expr = page.evaluate("SC.map.getPaintProperty('courier_reach', 'circle-radius')")
    sym = page.evaluate("SC.map.getStyle().metadata['sc:symbol']")
    assert expr == ["min", sym["max"], ["+", sym["min"], ["*", sym["per_sqrt"], ["sqrt", [
        "max", 0, ["to-number", ["coalesce", ["get", "residents"], 0]]]]]]]
    radii = [min(sym["max"], sym["min"] + sym["per_sqrt"] * math.sqrt(r)) for r in sorted(residents)]
    assert radii[0] < radii[-1]  # more residents reached, larger symbol
    assert all(a <= b for a, b in itertools.pairwise(radii))
    sizes = page.evaluate("(() => { const h = [...document.querySelectorAll('.sc-legend h5')]"
                          ".find(e => e.textContent.includes('按覆盖居民')); const out = [];"
                          " let el = h.nextElementSibling; while (el && el.tagName !== 'H5') {"
                          " out.push(el.querySelector('.pt').getBoundingClientRect().width);"
                          " el = el.nextElementSibling; } return out; })()")
    assert len(sizes) >= 3 and sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert page.problems == []


def test_tile_filters_are_validated_and_applied(demo_server: str, demo_engine: Engine,
                                              runs: dict[str, int]) -> None:
    import math

    import mapbox_vector_tile

    with demo_engine.connect() as conn:
        lon, lat = conn.execute(text("SELECT ST_X(ST_Centroid(bounds)), ST_Y(ST_Centroid(bounds))"
                                     " FROM city WHERE code = 'guixi'")).one()
    z = 13
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    base = f"{demo_server}/tiles/coverage_grid_share/{z}/{x}/{y}.mvt?city=guixi"
    bad = httpx.get(base + "&minutes=7")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "minutes"
    assert httpx.get(base + "&service_type=x';drop").status_code == 422
    assert httpx.get(base + "&name=a").status_code == 422  # not a declared filter

    def features(url: str) -> list[dict[str, Any]]:
        r = httpx.get(url)
        assert r.status_code == 200, r.status_code
        return mapbox_vector_tile.decode(r.content)["coverage_grid_share"]["features"]

    everything = features(base)
    chosen = features(base + "&minutes=10&service_type=party_mass_centre")
    assert 0 < len(chosen) < len(everything)
    assert {(f["properties"]["service_type"], f["properties"]["minutes"]) for f in chosen} == {
        ("party_mass_centre", 10)}
    n_expected = sum(1 for f in everything if f["properties"]["service_type"] ==
                     "party_mass_centre" and f["properties"]["minutes"] == 10)
    assert len(chosen) == n_expected


def test_english_panels(browser: Any, demo_server: str, runs: dict[str, int],
                        artifacts: Path) -> None:
    page = new_page(browser, locale="en-GB")
    try:
        open_map(page, f"{demo_server}/map?city=guixi&lang=en", expand=True)
        assert "Service type" in page.locator(".sc-coverage").inner_text()
        assert "Red station" in page.locator("#cov-type").inner_text()
        cats = page.locator(".sc-hotspots .hs-cats label").all_inner_texts()
        assert "Sanitation" in cats and "Public order" in cats
        assert "Hot spot, 99 % confidence" in page.locator(".sc-hotspots").inner_text()
        page.click("#hs-run")
        page.wait_for_function("() => SC.hotspots.last !== null", timeout=120_000)
        assert " hot " in page.locator("#hs-status").inner_text()
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / "map-english.png"))
        assert page.problems == []
    finally:
        page.context.close()
