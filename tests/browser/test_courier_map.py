"""The planners' map shows courier-station reach and unreached compounds in Guixi."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.support.browser import new_page


@pytest.fixture(scope="module")
def courier_runs(demo_engine: Engine) -> Iterator[None]:
    """Both courier presets stored for Guixi (committed), removed afterwards."""
    from geo.runs import CourierParams, run_courier
    from geo.store.cities import get_city

    with demo_engine.begin() as conn:
        city = get_city(conn, "guixi").id
        run_courier(conn, city, CourierParams(metres=1000))
        run_courier(conn, city, CourierParams(service_type="parcel_station", mode="walk",
                                              minutes=5))
    yield
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE kind = 'courier_reach'"))


@pytest.fixture(scope="module")
def page(browser: Any, courier_runs: None) -> Iterator[Any]:
    pg = new_page(browser)
    yield pg
    pg.context.close()


def test_courier_layers_are_listed_and_drawn(page: Any, demo_server: str,
                                             artifacts: Path) -> None:
    page.goto(f"{demo_server}/map?city=guixi")
    page.wait_for_function("() => window.SC && window.SC.ready === true", timeout=20_000)
    page.evaluate("document.querySelectorAll('#layers details').forEach(d => d.open = true)")
    texts = page.locator("#layers label").all_inner_texts()
    for title in ("小哥驿站服务范围（骑行）", "小哥驿站（按覆盖居民）", "小哥驿站未覆盖小区"):
        assert any(title in t for t in texts), (title, texts)
        page.locator("#layers label", has_text=title).locator("input").check()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => SC.map.loaded()", timeout=20_000)
    on = page.evaluate("SC.layersOn()")
    assert {"courier_catchments", "courier_reach", "courier_unreached"} <= set(on)
    for name in ("courier_catchments", "courier_reach", "courier_unreached"):
        assert page.evaluate("(n) => SC.drawn(n)", name) > 0, name
    page.screenshot(path=str(artifacts / "map-courier.png"))
    assert page.problems == []
