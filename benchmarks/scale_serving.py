"""Serving tier scale-out: tile throughput of one server process next to two.

The same seeded tiles as ``bench tiles`` (z12–16 over the first demo city's compounds,
service points and street edges) are requested from ``servicecircle serve
--workers N`` for N = 1 and N = 2, each time with the shared tile cache (the database's
``tile_cache`` table) emptied first:

- ``cold``: every tile once — rendered by PostGIS, stored in the shared cache;
- ``warm``: ``requests`` requests cycling over the same tiles — served from each process's
  own LRU, or from the shared cache the first time a process sees a tile another rendered.

The load comes from ``clients`` keep-alive connections of a small asyncio client in this
process; the kernel spreads the connections over the server processes. On a machine with
few CPUs the client, the server processes and PostgreSQL share them, so the ratio shows
what a second process gains *here*, not what a second machine would.
"""

from __future__ import annotations

import asyncio
import os
import platform
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import text

from benchmarks.serving import OURS, free_port, load, service_env, uvicorn_server
from benchmarks.tiles import _database, pick_tiles
from geo.settings import Settings

WORKERS = (1, 2)
CLIENTS = 16


def _clear_shared_cache(settings: Settings) -> None:
    from geo.store import migrate

    engine = migrate.make_engine(settings)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM tile_cache"))
    finally:
        engine.dispose()


def run(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark; return the figures (see :func:`to_markdown`)."""
    from geo.store import migrate

    per_zoom = 4 if quick else 40
    warm_requests = 600 if quick else 4000
    load_before = round(os.getloadavg()[0], 2)
    base = Settings.from_env()
    repeats = 1 if quick else 3
    runs: dict[str, list[dict[str, Any]]] = {}
    with _database(base) as (settings, origin):
        engine = migrate.make_engine(settings)
        try:
            tiles = pick_tiles(engine, per_zoom=per_zoom)
        finally:
            engine.dispose()
        paths = [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for layer, _, z, x, y in tiles]
        far = [f"/tiles/compounds/12/{x}/0.mvt" for x in range(4 * CLIENTS)]
        warm_paths = [paths[i % len(paths)] for i in range(warm_requests)]
        # interleaved repeats (1, 2, 1, 2, …): other work on a shared machine drifts, and
        # each configuration should see the same drift
        for _ in range(repeats):
            for workers in WORKERS:
                _clear_shared_cache(settings)
                port = free_port()
                with uvicorn_server(OURS,
                                    service_env(settings), port=port, ready_path="/health",
                                    workers=workers, start_s=180.0):
                    asyncio.run(load(port, far, clients=CLIENTS))  # open every process's pools
                    runs.setdefault(str(workers), []).append({
                        "cold": asyncio.run(load(port, paths, clients=CLIENTS)),
                        "warm": asyncio.run(load(port, warm_paths, clients=CLIENTS)),
                        "load_average_1min": round(os.getloadavg()[0], 2),
                    })
    median = {w: {phase: float(np.median([r[phase]["throughput_rps"] for r in rs]))
                  for phase in ("cold", "warm")} for w, rs in runs.items()}
    ratios = {phase: round(median["2"][phase] / median["1"][phase], 2)
              for phase in ("cold", "warm")}
    return {
        "benchmark": "scale_serving", "quick": quick,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_average_1min_before": load_before,
                    "load_average_1min_after": round(os.getloadavg()[0], 2)},
        "database": origin, "tiles": len(tiles), "clients": CLIENTS,
        "warm_requests": warm_requests, "repeats": repeats, "runs": runs,
        "median_throughput_rps": median, "ratio_2_over_1": ratios,
    }


def to_markdown(result: dict[str, Any]) -> str:
    """A short report of :func:`run`'s figures."""
    m = result["machine"]
    lines = [(f"# Serving scale-out: 1 vs 2 server processes "
             f"({'quick' if result['quick'] else 'full'}, {result['date']})"), "",
             (f"{result['tiles']} tiles (layers compounds, service_points, street_edges, z12–z16) "
             f"on the {result['database']} database; {result['clients']} keep-alive clients; "
             f"shared tile cache emptied before each configuration. Machine: {m['cpus']} CPUs "
             f"shared by the load client, the server processes, PostgreSQL and other work "
             f"(1-min load average {m['load_average_1min_before']} before, "
             f"{m['load_average_1min_after']} after)."), "",
             ("| processes | run | pass | requests | req/s | p50 ms | p95 ms | p99 ms | errors "
             "| load avg |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    for workers, rs in result["runs"].items():
        for i, run_ in enumerate(rs, 1):
            for phase in ("cold", "warm"):
                r = run_[phase]
                lines.append(f"| {workers} | {i} | {phase} | {r['requests']} | "
                             f"{r['throughput_rps']} | {r['p50_ms']} | {r['p95_ms']} | "
                             f"{r['p99_ms']} | {r['errors']} | {run_['load_average_1min']} |")
    med = result["median_throughput_rps"]
    lines += ["", "Median req/s: " + "; ".join(
        f"{w} process{'es' if w != '1' else ''}: cold {m['cold']}, warm {m['warm']}"
        for w, m in med.items()) + "."]
    r = result["ratio_2_over_1"]
    lines += ["", (f"Throughput of 2 processes over 1 (medians): cold {r['cold']}×, "
              f"warm {r['warm']}×."), "",
              ("`cold` renders every tile in PostGIS once (the database does most of the work); "
              "`warm` serves the same tiles from the processes' own caches, and from the shared "
              "cache the first time a process meets a tile the other rendered. With "
              f"{m['cpus']} CPUs the load client and PostgreSQL compete with the server "
              "processes for the same cores, so these ratios are what a second process gains "
              "on this machine; a second process on its own machine (behind a load balancer, "
              "same database and shared cache) is not measured here. Runs alternate 1, 2, 1, 2, … "
              "so both configurations see the same drift of the machine's other work; the "
              "load average column shows how busy it was.")]
    return "\n".join(lines) + "\n"
