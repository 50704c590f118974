"""The load benchmark's client, memory probe and report (the full run is `bench load`)."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlparse

from sqlalchemy import Engine

from benchmarks.load import page_paths, to_markdown, tree_rss_mb
from benchmarks.serving import load


def test_memory_probe_sees_this_process() -> None:
    assert tree_rss_mb(os.getpid()) > 10


def test_client_counts_answers_and_errors(server: str, sample_engine: Engine) -> None:
    port = urlparse(server).port
    paths = page_paths(sample_engine, 6) + ["/collections/nope/items"]
    r = asyncio.run(load(port, paths, clients=3))  # type: ignore[arg-type]
    assert r["requests"] == 7 and sum(r["statuses"].values()) == 7
    assert r["statuses"]["200"] == 6 and r["errors"] == 1
    assert r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]


def test_markdown_states_each_goal() -> None:
    one = {"requests": 1, "throughput_rps": 1.0, "p50_ms": 1, "p95_ms": 1, "p99_ms": 300,
           "max_ms": 1, "statuses": {"200": 1}, "errors": 0}
    md = to_markdown({"quick": True, "date": "d", "clients": 100, "workers": 2,
                      "database": "x", "tiles": 1, "machine": {"cpus": 2},
                      "server_rss_mb": {"idle": 1, "peak": 2, "end": 2},
                      "results": {"tiles (cached)": one},
                      "verdict": {"tiles (cached)": {"goal_p99_ms": 200, "p99_ms": 300,
                                                     "errors": 0, "goal_met": False},
                                  "memory": {"goal_peak_mb": 1500, "peak_mb": 2,
                                             "goal_met": True}}})
    assert "NOT met (p99 1.5× the goal" in md and "→ MET" in md
