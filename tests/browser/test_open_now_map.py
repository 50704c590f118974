"""The map's open-now control (layers/static/openat.js) in a real headless Chromium on the
Guixi demo: all day, a chosen weekday and hour, and now — the figures shown are the
coverage panel's for that moment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.support.browser import new_page


@pytest.fixture(scope="module")
def runs(demo_engine: Engine) -> Iterator[dict[str, int]]:
    """Guixi's all-day coverage run and its run at Monday 22:00; removed after."""
    from geo.runs import CoverageParams, run_coverage

    with demo_engine.begin() as conn:
        ids = {"day": run_coverage(conn, "guixi").run_id,
               "night": run_coverage(conn, "guixi", CoverageParams(at="Mo 22:00")).run_id}
    yield ids
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = ANY(:ids)"),
                     {"ids": list(ids.values())})


@pytest.fixture
def page(browser: Any, runs: dict[str, int]) -> Iterator[Any]:
    pg = new_page(browser)
    yield pg
    pg.context.close()


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.SC && SC.ready === true && SC.openAt", timeout=30_000)


def _shown(page: Any, at: str) -> dict[str, str]:
    """Wait until the control shows the figures of ``at`` ('' = all day); its data."""
    page.wait_for_function(
        "(at) => { const o = document.querySelector('#oa-out'); return o && "
        "o.dataset.at === at && o.dataset.state !== 'loading'; }", arg=at, timeout=30_000)
    return page.evaluate("() => Object.assign({}, document.querySelector('#oa-out').dataset)")


def _panel(server: str, shown: dict[str, str], **params: str) -> dict[str, Any]:
    """The panel answer for the type and minutes the control used."""
    r = httpx.get(f"{server}/cities/guixi/coverage/panel",
                  params={"service_type": shown["type"], "minutes": shown["minutes"], **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_time_control_shows_coverage_of_the_open_stations(
        page: Any, demo_server: str, artifacts: Path) -> None:
    _open(page, f"{demo_server}/map?city=guixi")
    day = _shown(page, "")
    want_day = _panel(demo_server, day)["totals"]
    assert day["state"] == "done" and day["type"]
    assert (int(day["residentsIn"]), int(day["residentsOut"])) == (
        want_day["residents_in"], want_day["residents_out"])
    assert "全天" in page.inner_text("#oa-out")

    page.check("input[name=oa-mode][value=choose]")
    page.select_option("#oa-day", "Mo")
    page.select_option("#oa-hour", "22:00")
    night = _shown(page, "Mo 22:00")
    want_night = _panel(demo_server, night, at="Mo 22:00")["totals"]
    assert night["state"] == "done"
    assert (int(night["residentsIn"]), int(night["residentsOut"])) == (
        want_night["residents_in"], want_night["residents_out"])
    assert int(night["residentsIn"]) < int(day["residentsIn"])
    text_shown = page.inner_text("#oa-out")
    assert "周一 22:00" in text_shown and "仅计开放站点" in text_shown
    page.locator("#sec-coverage").screenshot(path=str(artifacts / "open_now_control.png"))

    # another hour with the same stations closed is answered by the same run
    page.select_option("#oa-day", "Th")
    assert _shown(page, "Th 22:00")["residentsIn"] == night["residentsIn"]

    page.check("input[name=oa-mode][value=now]")
    now = page.evaluate("() => document.querySelector('#oa-out').dataset.at")
    assert re.fullmatch(r"(Mo|Tu|We|Th|Fr|Sa|Su) \d\d:\d\d", now)
    shown = _shown(page, now)
    # a moment whose run is not stored says so (the demo stores a few moments)
    assert shown["state"] == "done" or "尚无计算结果" in page.inner_text("#oa-out")
    problems = [p for p in page.problems if "404" not in p]
    assert problems == []


def test_the_time_control_in_english(page: Any, demo_server: str, artifacts: Path) -> None:
    _open(page, f"{demo_server}/map?city=guixi&lang=en")
    _shown(page, "")
    page.check("input[name=oa-mode][value=choose]")
    page.select_option("#oa-day", "Mo")
    _shown(page, "Mo 22:00")
    out = page.inner_text("#sec-coverage")
    assert "Opening hours" in out and "Residents inside" in out and "open stations only" in out
    page.locator("#sec-coverage").screenshot(path=str(artifacts / "open_now_control_en.png"))
