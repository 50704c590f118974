"""The map's re-gridding layer (grid_proposal) in a real headless Chromium on the Guixi demo:
off at start, listed with the base layers, turned on it draws the stored proposal's grids in
range and out of range, labelled with their households (Chinese and English)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import Engine, text

from tests.support.browser import locale_of, new_page, open_map, settle


@pytest.fixture(scope="module")
def proposal(demo_engine: Engine) -> Iterator[dict[str, Any]]:
    """炼厂社区's proposal saved for Guixi (one grid out of range: 怡景公寓 alone exceeds
    it); removed after."""
    from geo.runs import RegridParams, run_regrid

    with demo_engine.begin() as conn:
        run = run_regrid(conn, "guixi", RegridParams(community="炼厂社区", save=True))
        rows = conn.execute(text("""
            SELECT proposal, households, in_range, ST_AsBinary(geom) FROM regrid_grid
            WHERE run_id = :r"""), {"r": run.run_id}).all()
    union = shapely.union_all([shapely.from_wkb(bytes(r[3])) for r in rows])
    yield {"run_id": run.run_id, "proposals": {int(r[0]) for r in rows},
           "households": {int(r[0]): r[1] for r in rows},
           "out": {int(r[0]) for r in rows if not r[2]}, "centre": union.centroid}
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": run.run_id})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_turning_the_proposal_layer_on(browser: Any, demo_server: str, artifacts: Path,
                                       proposal: dict[str, Any], lang: str) -> None:
    page = new_page(browser, locale=locale_of(lang))
    c = proposal["centre"]
    open_map(page, f"{demo_server}/map?city=guixi&lang={lang}#map=14/{c.y:.6f}/{c.x:.6f}",
             expand=True)
    assert "grid_proposal" not in page.evaluate("SC.layersOn()")  # off at start
    title = "网格优化方案（最新）" if lang == "zh" else "Proposed grids (latest)"
    label = page.locator('#layers details[data-group="base"] label', has_text=title)
    label.locator("input").check()
    settle(page)
    assert "grid_proposal" in page.evaluate("SC.layersOn()")
    drawn = page.evaluate("""() => SC.map.queryRenderedFeatures({layers: ['grid_proposal']})
        .map(f => [f.properties.proposal, f.properties.in_range])""")
    assert {p for p, _ in drawn} == proposal["proposals"]
    assert {p for p, ok in drawn if not ok} == proposal["out"] != set()
    # labels are placed (and faded in) after the fills are drawn: wait for them
    page.wait_for_function("""() => SC.map.queryRenderedFeatures(
        {layers: ['grid_proposal:label']}).length > 0""", timeout=20_000)
    texts = set(page.evaluate("""() => SC.map.queryRenderedFeatures(
        {layers: ['grid_proposal:label']}).map(f => f.properties.households)"""))
    assert texts and texts <= set(proposal["households"].values())
    page.screenshot(path=str(artifacts / f"map-grid-proposal-{lang}.png"))
    # no coverage run is stored here: the panels say so instead of asking (no 404)
    assert [u for s, u in page.responses if s >= 400] == []
    assert page.problems == []
    page.context.close()
