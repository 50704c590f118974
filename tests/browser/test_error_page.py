"""The map's error page in a real browser: styled, in Chinese or English, suggestions as
links, nothing blocked by its Content-Security-Policy (which allows no script at all)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1000, "height": 640}, locale="zh-CN")
    pg = ctx.new_page()
    pg.problems = []  # console errors (CSP violations are reported there) and exceptions
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type == "error"
          and "404" not in m.text else None)  # the page's own 404 status is logged too
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    yield pg
    ctx.close()


@pytest.mark.parametrize(("lang", "heading", "words"), [
    ("zh", "没有找到", "您要找的是不是"), ("en", "Not found", "Did you mean")])
def test_a_typo_in_the_city_shows_a_page_with_the_close_city(page: Any, server: str,
                                                              artifacts: Path, lang: str,
                                                              heading: str, words: str) -> None:
    resp = page.goto(f"{server}/map?city=testvile&lang={lang}")
    assert resp.status == 404
    assert page.inner_text("h1") == heading and words in page.inner_text(".suggest")
    # the inline styles apply (the policy allows them; an unstyled page has a white body)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == \
        "rgb(244, 246, 247)"
    page.screenshot(path=str(artifacts / f"error_page_{lang}.png"))
    page.click(".suggest a")
    page.wait_for_url(f"{server}/map?city=testville&lang={lang}")
    assert page.problems == []
