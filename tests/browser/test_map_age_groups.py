"""The map says whom a service type serves and counts them: the gap popup of an elderly
canteen names residents 60+, their walking speed and their number (zh and en)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.support.browser import new_page, settle


@pytest.fixture(scope="module")
def coverage_run(demo_engine: Engine) -> Iterator[int]:
    """A coverage run of Guixi (5/10/15 min), removed after."""
    from geo.runs import run_coverage

    with demo_engine.begin() as conn:
        run_id = run_coverage(conn, "guixi").run_id
    yield run_id
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": run_id})






@pytest.mark.parametrize(("lang", "locale", "group", "serves"), [
    ("zh", "zh-CN", "60岁以上居民", "服务对象"), ("en", "en-GB", "residents 60+", "Serves")])
def test_elderly_canteen_gap_popup_names_residents_60_plus(
        browser: Any, demo_server: str, demo_engine: Engine, coverage_run: int,
        artifacts: Path, lang: str, locale: str, group: str, serves: str) -> None:
    with demo_engine.connect() as conn:
        gap = conn.execute(text(
            "SELECT g.name, g.target, g.speed_m_per_min, ST_Y(ST_PointOnSurface(g.geom)) AS lat,"
            " ST_X(ST_PointOnSurface(g.geom)) AS lon FROM coverage_gap_latest g"
            " JOIN city c ON c.id = g.city_id WHERE c.code = 'guixi'"
            " AND g.service_type = 'elderly_canteen' AND g.minutes = 15"
            " ORDER BY g.target DESC, g.id LIMIT 1")).one()
    assert gap.target > 0 and gap.speed_m_per_min == 60.0
    page = new_page(browser, locale=locale)
    try:
        page.goto(f"{demo_server}/map?city=guixi&lang={lang}")
        page.wait_for_function("() => window.SC && SC.ready === true && SC.coverage",
                               timeout=20_000)
        page.evaluate("document.querySelectorAll('#panel details').forEach(d => d.open = true)")
        page.evaluate("SC.layersOn().forEach(n => SC.setLayer(n, false));"
                      " SC.setLayer('coverage_gaps_15', true)")
        page.evaluate("([la, lo]) => SC.view(la, lo, 17)", [gap.lat, gap.lon])
        settle(page)
        with page.expect_request(lambda r: "/tiles/coverage_gaps_15/" in r.url
                                 and "service_type=elderly_canteen" in r.url):
            page.select_option("#cov-type", "elderly_canteen")
        settle(page)
        who = page.locator("#cov-who").inner_text()
        assert serves in who and group in who and "60" in who  # the panel says whom and how fast
        pt = page.evaluate("([la, lo]) => SC.toPage(la, lo)", [gap.lat, gap.lon])
        page.mouse.click(pt[0], pt[1])
        popup = page.locator(".maplibregl-popup-content")
        popup.wait_for(timeout=10_000)
        t = popup.inner_text()
        assert gap.name in t and group in t and "age_60_plus" not in t
        assert f"{gap.target:,}" in t or str(gap.target) in t
        page.wait_for_timeout(400)  # popup fade-in
        page.screenshot(path=str(artifacts / f"map-popup-elderly-{lang}.png"))
        assert page.problems == []
    finally:
        page.context.close()
