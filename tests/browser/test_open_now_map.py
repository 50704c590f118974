"""The map at a moment (layers/static/openat.js) in a real headless Chromium on the Guixi
demo: choosing a weekday and hour redraws the coverage layers from the run of the stations
open then, and the numbers panel, its downloads and the link follow the moment; a moment
without a stored run says so and that the map shows the all-day run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import Engine, text

from tests.support.browser import new_page, open_map, settle

MOMENT = "Mo 22:00"
GAPS = "coverage_gaps_15"


@pytest.fixture(scope="module")
def runs(demo_engine: Engine) -> Iterator[dict[str, int]]:
    """Guixi's all-day coverage run and its run at Monday 22:00; removed after."""
    from geo.runs import CoverageParams, run_coverage

    with demo_engine.begin() as conn:
        ids = {"day": run_coverage(conn, "guixi").run_id,
               "night": run_coverage(conn, "guixi", CoverageParams(at=MOMENT)).run_id}
    yield ids
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = ANY(:ids)"),
                     {"ids": list(ids.values())})


@pytest.fixture
def page(browser: Any, runs: dict[str, int]) -> Iterator[Any]:
    pg = new_page(browser)
    yield pg
    pg.context.close()


def _gaps(server: str, service_type: str, at: str | None = None) -> dict[int, Any]:
    """The 15-minute gaps of ``service_type`` as the OGC collection serves them:
    compound id → feature."""
    r = httpx.get(f"{server}/collections/{GAPS}/items", params={
        "city": "guixi", "service_type": service_type, "limit": 10_000,
        **({"at": at} if at else {})})
    assert r.status_code == 200, r.text
    return {f["properties"]["compound_id"]: f for f in r.json()["features"]}


def _drawn_gaps(page: Any) -> set[int]:
    return set(page.evaluate(
        f"() => SC.map.queryRenderedFeatures({{layers: ['{GAPS}']}})"
        ".map(f => f.properties.compound_id)"))


def _wait_drawn(page: Any, *, equal: set[int] | None = None, having: int | None = None) -> None:
    """Wait (up to 30 s) until the map has loaded and draws exactly the gaps ``equal``, or
    draws the gap of compound ``having``: a switch of run reloads the layer's tiles, and
    on a busy machine the tiles of the former run may still be drawn for a while. The
    caller asserts what is drawn then."""
    try:
        page.wait_for_function(
            f"([eq, has]) => {{ if (!SC.map.loaded()) {{ return false; }} const got = new Set("
            f"SC.map.queryRenderedFeatures({{layers: ['{GAPS}']}})"
            ".map(f => f.properties.compound_id)); return eq !== null ? "
            "got.size === eq.length && eq.every(i => got.has(i)) : got.has(has); }",
            arg=[None if equal is None else sorted(equal), having], timeout=30_000)
    except PlaywrightTimeout:
        pass  # the caller's assertion says what is drawn instead


def _centre(feature: dict[str, Any]) -> tuple[float, float]:
    """(lat, lon) of the middle of a feature's outer ring's corners."""
    ring = feature["geometry"]["coordinates"][0][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2


def _moment_shown(page: Any, at: str, state: str = "done") -> None:
    """Wait until the control has settled on ``at`` ('' = all day) in ``state``."""
    page.wait_for_function(
        "([at, st]) => { const o = document.querySelector('#oa-out'); return o && "
        "o.dataset.at === at && o.dataset.state === st; }", arg=[at, state], timeout=30_000)


def _numbers_of(page: Any, at: str | None) -> dict[str, Any]:
    """Wait until the numbers panel answers for ``at`` (None: all day); its answer."""
    page.wait_for_function(
        "(at) => SC.numbers && SC.numbers.answer && SC.numbers.answer.at === at && "
        "!document.querySelector('#sec-numbers .sc-body').classList.contains('loading')",
        arg=at, timeout=30_000)
    return dict(page.evaluate("() => SC.numbers.answer"))


def _panel(server: str, service_type: str, at: str | None = None) -> dict[str, Any]:
    r = httpx.get(f"{server}/cities/guixi/coverage/panel", params={
        "service_type": service_type, "minutes": 15, **({"at": at} if at else {})})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_choosing_22_00_redraws_the_gap_layer_and_the_figures(
        page: Any, demo_server: str, artifacts: Path) -> None:
    types = httpx.get(f"{demo_server}/cities/guixi/coverage").json()["summary"][
        "service_types"]
    gaps = {t: (_gaps(demo_server, t), _gaps(demo_server, t, MOMENT)) for t in types}
    typ = max(types, key=lambda t: len(set(gaps[t][1]) - set(gaps[t][0])))
    day, night = gaps[typ]
    newly = sorted(set(night) - set(day))
    assert newly, "no compound loses its stations at 22:00"
    lat, lon = _centre(night[newly[0]])

    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.select_option("#cov-type", typ)
    page.select_option("#cov-min", "15")
    page.evaluate(f"SC.setLayer('{GAPS}', true)")
    page.evaluate("([la, lo]) => SC.view(la, lo, 14)", [lat, lon])
    settle(page)
    _moment_shown(page, "")
    before = _drawn_gaps(page)
    assert newly[0] not in before and before <= set(day)
    all_day = _numbers_of(page, None)
    assert all_day["totals"] == _panel(demo_server, typ)["totals"]
    page.screenshot(path=str(artifacts / "open_now_map_all_day.png"))

    page.requests.clear()
    page.check("input[name=oa-mode][value=choose]")
    page.select_option("#oa-day", "Mo")
    page.select_option("#oa-hour", "22:00")
    _moment_shown(page, MOMENT)
    answer = _numbers_of(page, MOMENT)
    settle(page)
    _wait_drawn(page, having=newly[0])
    after = _drawn_gaps(page)
    assert newly[0] in after and after <= set(night) and after != before
    assert any(f"/tiles/{GAPS}/" in u and "at=Mo%2022%3A00" in u for u in page.requests)
    style_tiles = page.evaluate(f"() => SC.map.getSource('{GAPS}').tiles[0]")
    assert "at=Mo%2022%3A00" in style_tiles

    # the figures beside the map are the API's for the moment, and so are the downloads
    want = _panel(demo_server, typ, MOMENT)
    assert answer["run_id"] == want["run_id"] and answer["totals"] == want["totals"]
    assert want["totals"]["residents_out"] > all_day["totals"]["residents_out"]
    shown_out = page.inner_text("#nb-out").replace(",", "").replace("\u202f", "")
    assert int(shown_out) == want["totals"]["residents_out"]
    assert "周一 22:00" in page.inner_text("#nb-at")
    assert "at=Mo%2022%3A00" in page.get_attribute("#nb-csv", "href")
    status = page.inner_text("#oa-out")
    assert "周一 22:00" in status and "仅计当时开放的站点" in status and "全天" not in status
    assert "at=Mo%2022%3A00" in page.evaluate("() => window.location.hash")
    page.screenshot(path=str(artifacts / "open_now_map_mo_22.png"))

    # back to all day: the all-day gaps again
    page.check("input[name=oa-mode][value=allday]")
    _moment_shown(page, "")
    _numbers_of(page, None)
    settle(page)
    _wait_drawn(page, equal=before)
    assert _drawn_gaps(page) == before
    assert page.problems == []


def test_a_moment_without_a_run_says_the_map_shows_all_day(
        page: Any, demo_server: str, artifacts: Path) -> None:
    candidates = [f"{d} {h:02d}:00" for d in ("Sa", "Su", "We") for h in (10, 3, 7, 20)]
    missing = next(at for at in candidates if httpx.get(
        f"{demo_server}/cities/guixi/coverage", params={"at": at}).status_code == 404)
    day, hour = missing.split()
    open_map(page, f"{demo_server}/map?city=guixi", expand=True)
    page.evaluate(f"SC.setLayer('{GAPS}', true)")
    page.check("input[name=oa-mode][value=choose]")
    page.select_option("#oa-day", day)
    page.select_option("#oa-hour", hour)
    _moment_shown(page, missing, "norun")
    status = page.inner_text("#oa-out")
    assert "尚无计算结果" in status and "全天结果" in status
    assert page.evaluate("() => SC.coverage.selection.at") is None
    # the gap layer's tiles are the all-day run's (a source takes new tiles asynchronously)
    page.wait_for_function(f"() => !SC.map.getSource('{GAPS}').tiles[0].includes('at=')",
                           timeout=30_000)
    _numbers_of(page, None)
    assert page.inner_text("#nb-at") == "全天"
    page.locator("#sec-coverage").screenshot(path=str(artifacts / "open_now_no_run.png"))
    # the only failed requests are look-ups of missing runs (no tile of a missing run)
    # (the look-up of the day chosen first may answer after the hour's: the control ignores it)
    failed = [u for s, u in page.responses if s >= 400]
    assert f"{demo_server}/cities/guixi/coverage?at={quote(missing, safe='')}" in failed
    assert all(u.startswith(f"{demo_server}/cities/guixi/coverage?at=") for u in failed)


def test_a_moment_taken_back_at_once_leaves_the_all_day_tiles(
        page: Any, demo_server: str) -> None:
    """A run found, then at once none (the answers of two quick choices): the layer ends
    on the all-day tiles, though its source had not yet taken the moment's."""
    open_map(page, f"{demo_server}/map?city=guixi")
    page.evaluate(f"SC.setLayer('{GAPS}', true)")
    settle(page)
    page.evaluate(f"() => {{ SC.coverage.moment('{MOMENT}'); SC.coverage.moment(null); }}")
    settle(page)
    page.wait_for_function(f"() => SC.map.loaded() && SC.map.getSource('{GAPS}').tiles[0]"
                           f".includes('city=guixi')", timeout=30_000)
    assert "at=" not in page.evaluate(f"() => SC.map.getSource('{GAPS}').tiles[0]")
    assert page.problems == []


def test_a_link_keeps_the_moment(page: Any, demo_server: str) -> None:
    open_map(page, f"{demo_server}/map?city=guixi#at=Mo%2022%3A00")
    _moment_shown(page, MOMENT)
    assert page.is_checked("input[name=oa-mode][value=choose]")
    assert page.evaluate("() => SC.coverage.selection.at") == MOMENT
    assert _numbers_of(page, MOMENT)["at"] == MOMENT


def test_the_time_control_in_english(page: Any, demo_server: str, artifacts: Path) -> None:
    open_map(page, f"{demo_server}/map?city=guixi&lang=en")
    _moment_shown(page, "")
    page.check("input[name=oa-mode][value=choose]")
    page.select_option("#oa-day", "Mo")
    _moment_shown(page, MOMENT)
    out = page.inner_text("#sec-coverage")
    assert "Opening hours" in out and "Mon 22:00" in out and "only the stations open then" in out
    page.locator("#sec-coverage").screenshot(path=str(artifacts / "open_now_control_en.png"))
