"""Tile benchmark: our ``/tiles`` endpoint next to tipg serving the same PostGIS tables.

Both servers run as separate uvicorn processes (one worker each) on 127.0.0.1, reading the
same database: the configured one when it holds the demo cities, otherwise a throwaway
database loaded with the demo (dropped afterwards). A fixed, seeded set of tiles at zoom
12–16 over the first demo city's compounds, service points and street edges is requested
with a bounded number of requests by a small keep-alive HTTP/1.1 client at fixed
concurrency. Each server first gets 32 empty tiles outside the set (opening its database
pool), then two passes:

- ``cold``: every tile once (our tile cache empty; tipg has no cache);
- ``warm``: ``requests`` requests cycling over the same tiles (a map used by many people).

Throughput is requests per second; latencies are per request, in milliseconds.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from benchmarks.serving import OURS, free_port, load, service_env, uvicorn_server
from geo.settings import Settings

#: (our layer, table) pairs served by both servers.
LAYERS = [("compounds", "compound"), ("service_points", "service_point"),
          ("street_edges", "street_edge")]
ZOOMS = range(12, 17)
SEED = 20261122
GOAL_RATIO = 3.0
GOAL_P95_MS = 50.0


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def pick_tiles(engine: Engine, *, per_zoom: int) -> list[tuple[str, str, int, int, int]]:
    """Seeded ``(layer, table, z, x, y)`` tiles over the first city's compound extent."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e "
            "FROM compound WHERE city_id = (SELECT min(id) FROM city)) s")).one()
    if row[0] is None:
        raise RuntimeError("the benchmark database has no compounds")
    minx, miny, maxx, maxy = (float(v) for v in row)
    from layers.catalog import get_layer

    rng = np.random.default_rng(SEED)
    tiles = []
    for layer, table in LAYERS:
        lyr = get_layer(layer)
        for z in ZOOMS:
            if not lyr.minzoom <= z <= lyr.maxzoom:
                continue
            x0, y1 = _tile_of(minx, miny, z)
            x1, y0 = _tile_of(maxx, maxy, z)
            cells = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
            idx = rng.choice(len(cells), size=min(per_zoom, len(cells)), replace=False)
            tiles += [(layer, table, z, *cells[int(i)]) for i in sorted(idx)]
    return tiles


def _paths(tiles: list[tuple[str, str, int, int, int]], columns: dict[str, str]
           ) -> tuple[list[str], list[str]]:
    ours = [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for layer, _, z, x, y in tiles]
    tipg = [f"/collections/public.{table}/tiles/WebMercatorQuad/{z}/{x}/{y}"
            f"?properties={columns[layer]}" for layer, table, z, x, y in tiles]
    return ours, tipg


@contextmanager
def _database(base: Settings) -> Any:
    """Settings of a database holding the demo: the configured one, or a throwaway one."""
    from geo.store import cluster, migrate

    if base.embedded and not cluster.ready(base):
        cluster.up(base)
    try:
        eng = migrate.make_engine(base)
        with eng.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM compound")).scalar_one()
        eng.dispose()
    except Exception:  # noqa: BLE001 - no such database or not migrated: use a throwaway one
        n = 0
    if n:
        yield base, "configured"
        return
    from geo.demo import load_demo

    with migrate.scratch_database(base, f"sc_bench_tiles_{os.getpid()}", fill=load_demo) as s:
        yield s, "throwaway demo"


def run(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark; return the figures (see :func:`to_markdown`)."""
    from geo.store import migrate
    from layers.catalog import get_layer

    per_zoom = 4 if quick else 80
    warm_requests = 600 if quick else 3000
    concurrency = 8
    base = Settings.from_env()
    with _database(base) as (settings, origin):
        engine = migrate.make_engine(settings)
        try:
            tiles = pick_tiles(engine, per_zoom=per_zoom)
        finally:
            engine.dispose()
        columns = {name: ",".join(get_layer(name).source.visible_columns(personal=False))
                   for name, _ in LAYERS}
        ours, tipg = _paths(tiles, columns)
        url = settings.url().replace("postgresql+psycopg://", "postgresql://")
        tipg_env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]',
                    "TIPG_DB_TABLES": '["public.compound","public.service_point",'
                                      '"public.street_edge"]',
                    "TIPG_MAX_FEATURES_PER_TILE": "100000"}
        p_ours, p_tipg = free_port(), free_port()
        results: dict[str, Any] = {}
        with ExitStack() as stack:
            stack.enter_context(uvicorn_server(OURS,
                                               service_env(settings), port=p_ours,
                                               ready_path="/health"))
            stack.enter_context(uvicorn_server("tipg.main:app", tipg_env, port=p_tipg,
                                               ready_path="/healthz"))
            # warm-up: open both servers' database pools on empty tiles outside the set
            far = [("compounds", "compound", 12, x, 0) for x in range(4 * concurrency)]
            far_ours, far_tipg = _paths(far, columns)
            for name, port, paths, warmup in (("servicecircle", p_ours, ours, far_ours),
                                              ("tipg", p_tipg, tipg, far_tipg)):
                warm_paths = [paths[i % len(paths)] for i in range(warm_requests)]
                asyncio.run(load(port, warmup, clients=concurrency))
                results[name] = {
                    "cold": asyncio.run(load(port, paths, clients=concurrency)),
                    "warm": asyncio.run(load(port, warm_paths, clients=concurrency)),
                }
    verdict = {}
    for phase in ("cold", "warm"):
        ratio = (results["servicecircle"][phase]["throughput_rps"]
                 / results["tipg"][phase]["throughput_rps"])
        p95 = results["servicecircle"][phase]["p95_ms"]
        verdict[phase] = {"throughput_ratio": round(ratio, 2), "p95_ms": p95,
                          "goal_met": bool(ratio >= GOAL_RATIO and p95 < GOAL_P95_MS)}
    return {
        "benchmark": "tiles", "quick": quick,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
        "database": origin, "tiles": len(tiles), "zooms": [min(ZOOMS), max(ZOOMS)],
        "layers": [name for name, _ in LAYERS], "concurrency": concurrency,
        "warm_requests": warm_requests,
        "goal": f">= {GOAL_RATIO:g}x tipg throughput and p95 < {GOAL_P95_MS:g} ms",
        "results": results, "verdict": verdict,
    }


def to_markdown(result: dict[str, Any]) -> str:
    """A short report table of :func:`run`'s figures."""
    setup = (f"{result['tiles']} tiles (z{result['zooms'][0]}–z{result['zooms'][1]}, layers "
             f"{', '.join(result['layers'])}) on the {result['database']} database; "
             f"concurrency {result['concurrency']}; {result['machine']['cpus']} CPUs shared "
             f"(1-min load average {result['machine'].get('load_average_1min', '?')} at the end); "
             "both servers one uvicorn worker on 127.0.0.1.")
    lines = [f"# Tile benchmark ({'quick' if result['quick'] else 'full'}, {result['date']})", "",
             setup, "",
             "| server | pass | requests | req/s | p50 ms | p95 ms | p99 ms | statuses |",
             "|---|---|---|---|---|---|---|---|"]
    for name, phases in result["results"].items():
        for phase, r in phases.items():
            lines.append(f"| {name} | {phase} | {r['requests']} | {r['throughput_rps']} | "
                         f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['statuses']} |")
    lines += ["", (f"Goal: {result['goal']}. `cold` = first request of each tile (our cache "
              "empty), `warm` = the same tiles requested again (our in-process cache; tipg has "
              "none)."), ""]
    for phase, v in result["verdict"].items():
        lines.append(f"- {phase}: {v['throughput_ratio']}x tipg, p95 {v['p95_ms']} ms → "
                     f"goal {'MET' if v['goal_met'] else 'NOT met'}")
    return "\n".join(lines) + "\n"
