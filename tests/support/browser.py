"""Helpers of the browser tests (tests/browser): a page that records its problems, waiting
until the map has drawn, opening the map, counting drawn features, clicking a place.

Waits are conditions (the map's own ``SC.idle``, network idle), never sleeps.
"""

from __future__ import annotations

from typing import Any

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: Every panel of the map has started (map.js calls ``SC.setReady`` after its panels, and
#: the other scripts' panels start in that call).
READY = "() => window.SC && SC.ready === true"


def new_page(browser: Any, viewport: dict[str, int] | None = None, locale: str = "zh-CN",
             **context: Any) -> Any:
    """A page in a new context (``context``: more options of Playwright's ``new_context``,
    e.g. ``geolocation``) recording ``problems`` (console errors, uncaught exceptions),
    ``requests`` (URLs) and ``responses`` ((status, URL))."""
    pg = browser.new_context(viewport=viewport or DESKTOP, locale=locale,
                             accept_downloads=True, **context).new_page()
    pg.problems = []
    pg.requests = []
    pg.responses = []
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("response", lambda r: pg.responses.append((r.status, r.url)))
    return pg


def locale_of(lang: str) -> str:
    return "en-GB" if lang == "en" else "zh-CN"


def settle(page: Any) -> None:
    """Wait until the map has drawn everything asked for (tiles loaded, labels placed)."""
    page.wait_for_load_state("networkidle")
    page.evaluate("SC.idle().then(() => { SC.settled = true; }); SC.settled = false")
    page.wait_for_function("() => SC.settled", timeout=20_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => SC.map.loaded()", timeout=20_000)


def open_map(page: Any, url: str, *, expand: bool = False) -> None:
    """Go to ``url`` and wait until the map and its panels are ready and drawn;
    ``expand``: open every collapsible section and layer group."""
    page.goto(url)
    page.wait_for_function(READY, timeout=20_000)
    if expand:
        page.evaluate("document.querySelectorAll('#panel details').forEach(d => d.open = true)")
    settle(page)


def drawn(page: Any, style_layer: str) -> int:
    """Features drawn now by the style layer ``style_layer``."""
    return int(page.evaluate(
        "(id) => SC.map.queryRenderedFeatures({layers: [id]}).length", style_layer))


def drawn_names(page: Any, style_layer: str) -> set[str]:
    return set(page.evaluate(
        "(id) => SC.map.queryRenderedFeatures({layers: [id]})"
        ".map(f => f.properties.name).filter(Boolean)", style_layer))


def click_at(page: Any, lat: float, lon: float) -> None:
    """Click the map at (lat, lon)."""
    pt = page.evaluate("([la, lo]) => SC.toPage(la, lo)", [lat, lon])
    page.mouse.click(pt[0], pt[1])


def zoom_centre(page: Any, zoom: float) -> None:
    page.evaluate("(z) => SC.map.jumpTo({zoom: z})", zoom)
    settle(page)
