"""The HTML pages of the OGC API in Chromium: styled by their stylesheet under their
Content-Security-Policy (no violation), links that lead from the landing page to a feature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    pg.problems = []  # console errors (CSP violations are reported there)
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type == "error" else None)
    yield pg
    ctx.close()


def test_browsing_from_the_landing_page_to_a_feature(page: Any, server: str,
                                                     artifacts: Path) -> None:
    page.goto(f"{server}/")  # a browser's Accept: text/html gets the HTML landing page
    page.click("a[rel=data]")
    page.click("a[href^='/collections/compounds/items?f=html']")
    rows = page.locator("tbody tr")
    assert rows.count() == 6
    assert "幸福小区1期" in rows.first.inner_text()
    heading = page.locator("h1").inner_text()
    assert heading.endswith("要素") and "method" not in heading
    assert "居民" in page.locator("thead").inner_text()  # column labels in Chinese
    # the stylesheet applied (a CSP violation would leave the browser's default)
    border = page.evaluate("getComputedStyle(document.querySelector('th')).borderTopStyle")
    assert border == "solid"
    page.screenshot(path=str(artifacts / "ogc_items_html.png"), full_page=True)
    rows.first.locator("a").click()
    assert "residents" in page.locator("table").inner_text()
    assert page.problems == []
