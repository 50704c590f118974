"""The map under its Content-Security-Policy: no violations, the key kept per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    yield ctx
    ctx.close()


def _page(context: Any) -> Any:
    pg = context.new_page()
    pg.problems = []  # console errors (CSP violations are reported there) and exceptions
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    return pg


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.SC && window.SC.ready === true", timeout=20_000)
    page.evaluate("document.querySelectorAll('#layers details').forEach(d => d.open = true)")
    page.wait_for_load_state("networkidle")


def test_key_is_kept_for_the_session_only(context: Any, server: str,
                                          api_keys: dict[str, str]) -> None:
    page = _page(context)
    page.goto(f"{server}/map?city=testville")
    # a key an older version left in localStorage is removed when the map opens
    page.evaluate("localStorage.setItem('sc_api_key', 'old-key')")
    _open(page, f"{server}/map?city=testville")
    assert page.evaluate("localStorage.getItem('sc_api_key')") is None
    assert "session" in (page.get_attribute("#key", "title") or "") or \
        "会话" in (page.get_attribute("#key", "title") or "")
    page.fill("#key", api_keys["analyst"])
    page.click("#keysave")
    _open(page, f"{server}/map?city=testville")
    assert page.evaluate("sessionStorage.getItem('sc_api_key')") == api_keys["analyst"]
    assert page.evaluate("localStorage.getItem('sc_api_key')") is None
    texts = page.locator("#layers label").all_inner_texts()
    assert any("网格事件" in t for t in texts)  # the key still unlocks the restricted layer
    assert page.problems == []

    other = _page(context)  # a new tab is a new session: no key
    _open(other, f"{server}/map?city=testville")
    assert other.evaluate("sessionStorage.getItem('sc_api_key')") is None
    assert not any("网格事件" in t for t in
                   other.locator("#layers label").all_inner_texts())


def test_policy_blocks_injected_script(context: Any, server: str) -> None:
    page = _page(context)
    _open(page, f"{server}/map?city=testville")
    # markup slipped into the page cannot run inline code under the map's policy
    page.evaluate("""() => {
        window.pwned = false;
        const s = document.createElement('script');
        s.textContent = 'window.pwned = true';
        document.body.appendChild(s);
        const i = document.createElement('img');
        i.src = 'x'; i.setAttribute('onerror', 'window.pwned = true');
        document.body.appendChild(i);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is False
    assert any("Content Security Policy" in p for p in page.problems)
