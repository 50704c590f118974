"""Browser timing of the planners' map: time to first tiles and to a full coverage view,
at opening and after pans, measured in Chromium.

A throwaway database holds the demo cities with a stored coverage run; our service runs as
one uvicorn worker; Debian's Chromium (Playwright, software WebGL as in the browser tests)
opens ``/map`` on Guixi at desktop (1280×800) and phone (390×844) sizes, in the calm
default view (the 15-minute circles of one type, the service points, the basemap).

Measured in the page (``performance.now()``, milliseconds):

- **open**: from navigation start to the first tile of any source drawn into the map
  (MapLibre's ``data`` event of a tile), and to the full view (every source loaded and the
  frame drawn: ``SC.idle``);
- **pan**: the map jumps by a whole screen to ground it has not shown (a new set of tiles
  each time, a fresh server cache only for the first visit of each tile); from the jump to
  the first new tile, and to the full coverage view.

Reported: median and 90th percentile over the pans, and the single opening.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from benchmarks.common import cpus, goal, goal_rows, load_avg
from benchmarks.serving import OURS, free_port, service_env, uvicorn_server
from geo.settings import Settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-quic", "--no-first-run",
        "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CITY = "guixi"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
ZOOM = 15.0
#: Goals (milliseconds, median over pans), with software WebGL on this machine.
GOAL_FIRST_MS = 500.0
GOAL_FULL_MS = 2000.0

# In the page: the time of the next tile drawn and of the next full view after ``start``.
_WATCH = """() => {
  window.__t = {first: null, full: null};
  SC.map.on('data', e => { if (e.tile && window.__t.first === null) window.__t.first = performance.now(); });
}"""
# Before the page's scripts: watch for the map and note its first tile drawn (tiles are
# fetched in MapLibre's worker, out of the page's resource timing).
_OPEN = """(function wait() {
  if (window.SC && SC.map) {
    SC.map.on('data', e => { if (e.tile && !window.__openFirst) window.__openFirst = performance.now(); });
    SC.map.on('idle', () => { if (SC.ready && !window.__openFull) window.__openFull = performance.now(); });
  } else { requestAnimationFrame(wait); }
}());"""
_PAN = """async ([dx, dy]) => {
  await SC.idle();
  window.__t.first = null;
  const t0 = performance.now();
  const c = SC.map.getContainer();
  SC.map.panBy([dx * c.clientWidth, dy * c.clientHeight], {duration: 0});
  await SC.idle();
  const t1 = performance.now();
  return {first: window.__t.first === null ? null : window.__t.first - t0, full: t1 - t0};
}"""
# A walk over new ground: right, right, down, left, left, down, right, right, …
_STEPS = [(1, 0), (1, 0), (0, 1), (-1, 0), (-1, 0), (0, 1), (1, 0), (1, 0), (0, 1), (-1, 0),
          (-1, 0), (0, -1)]


def _fill(conn: Connection) -> None:
    from geo.demo import load_demo
    from geo.runs import run_coverage

    load_demo(conn)
    run_coverage(conn, CITY)


@contextmanager
def _database(base: Settings) -> Iterator[Settings]:
    from geo.store import cluster, migrate

    if base.embedded and not cluster.ready(base):
        cluster.up(base)
    with migrate.scratch_database(base, f"sc_bench_map_{os.getpid()}", fill=_fill) as s:
        yield s


def _measure(browser: Any, base: str, size: dict[str, int], pans: int) -> dict[str, Any]:
    ctx = browser.new_context(viewport=size, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.add_init_script(_OPEN)
        page.goto(f"{base}/map?city={CITY}", wait_until="commit")
        page.wait_for_function("() => window.SC && SC.map", timeout=60_000)
        page.evaluate(_WATCH)
        # the opening, in milliseconds since navigation start
        page.wait_for_function("() => SC.ready === true", timeout=60_000)
        # the first idle with the panels started; else (idle came before them) the next
        full_open = page.evaluate("SC.idle().then(() => window.__openFull || performance.now())")
        first_open = page.evaluate("window.__openFirst")
        page.evaluate(f"SC.map.jumpTo({{zoom: {ZOOM}}})")
        page.evaluate("SC.idle()")
        runs = [page.evaluate(_PAN, list(_STEPS[i % len(_STEPS)])) for i in range(pans)]
        return {"open_first_tile_ms": first_open, "open_full_view_ms": full_open,
                "pans": runs}
    finally:
        ctx.close()


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": statistics.median(ordered),
            "p90_ms": ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))],
            "n": len(ordered)}


def run(quick: bool = False) -> dict[str, Any]:
    """Open the map and pan it in Chromium; timings in milliseconds."""
    from playwright.sync_api import sync_playwright

    pans = 4 if quick else len(_STEPS)
    out: dict[str, Any] = {"benchmark": "map", "quick": quick, "city": CITY, "zoom": ZOOM,
                           "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "cpus": cpus(), "machine": platform.machine(), "sizes": {}}
    with _database(Settings.from_env()) as settings:
        port = free_port()
        with uvicorn_server(OURS, service_env(settings),
                            port=port, ready_path="/health"), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                for name, size in SIZES.items():
                    m = _measure(browser, f"http://127.0.0.1:{port}", size, pans)
                    firsts = [r["first"] for r in m["pans"] if r["first"] is not None]
                    out["sizes"][name] = {
                        "viewport": size, "open_first_tile_ms": m["open_first_tile_ms"],
                        "open_full_view_ms": m["open_full_view_ms"],
                        "pan_first_tile": _stats(firsts) if firsts else None,
                        "pan_full_view": _stats([r["full"] for r in m["pans"]]),
                        "pans": m["pans"]}
            finally:
                browser.close()
    desk = out["sizes"]["desktop"]
    out["load_avg"] = load_avg()
    out["goals"] = {
        "pan: first tile, median (desktop)": goal(
            (desk["pan_first_tile"] or {"median_ms": float("inf")})["median_ms"],
            GOAL_FIRST_MS, unit="ms"),
        "pan: full coverage view, median (desktop)": goal(
            desk["pan_full_view"]["median_ms"], GOAL_FULL_MS, unit="ms")}
    return out


def to_markdown(result: dict[str, Any]) -> str:
    """The figures as a Markdown page."""
    title = (f"# Map in the browser: first tiles and full coverage view "
             f"({'quick' if result['quick'] else 'full'}, {result['created_at']})")
    about = (f"Chromium (headless, software WebGL) opens `/map?city={result['city']}` in the "
             "calm default view (15-minute circles of the default type, service points, the "
             "offline basemap) from one uvicorn worker on 127.0.0.1, then pans by a whole "
             f"screen at zoom {result['zoom']:g} onto new ground; {result['cpus']} CPUs shared "
             f"(1-min load average {result['load_avg']:.2f} at the end). Milliseconds, "
             "measured in the page (`performance.now()`): first tile = MapLibre's first tile "
             "`data` event after the pan; full view = every source loaded and drawn "
             "(`SC.idle`).")
    head = ("| viewport | open: first tile | open: full view | pan: first tile (median / p90) "
            "| pan: full view (median / p90) | pans |")
    lines = [title, "", about, "", head, "|---|---|---|---|---|---|"]
    for name, s in result["sizes"].items():
        ft, fv = s["pan_first_tile"], s["pan_full_view"]
        lines.append(
            f"| {name} {s['viewport']['width']}×{s['viewport']['height']} | "
            f"{s['open_first_tile_ms']:.0f} | {s['open_full_view_ms']:.0f} | "
            + (f"{ft['median_ms']:.0f} / {ft['p90_ms']:.0f}" if ft else "–")
            + f" | {fv['median_ms']:.0f} / {fv['p90_ms']:.0f} | {fv['n']} |")
    lines += ["", *goal_rows(result["goals"]), ""]
    return "\n".join(lines)
