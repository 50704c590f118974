"""The tile benchmark's tile choice, load client and report, on the sample database."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from sqlalchemy import Engine

from benchmarks.serving import load
from benchmarks.tiles import pick_tiles, to_markdown


def test_tiles_are_seeded_and_within_zoom_ranges(sample_engine: Engine) -> None:
    a = pick_tiles(sample_engine, per_zoom=3)
    assert a == pick_tiles(sample_engine, per_zoom=3)
    assert {z for _, _, z, _, _ in a} == {12, 13, 14, 15, 16}
    assert all(z >= 13 for layer, _, z, _, _ in a if layer == "street_edges")


def test_load_client_counts_statuses(server: str, sample_engine: Engine) -> None:
    port = urlparse(server).port
    paths = [f"/tiles/{la}/{z}/{x}/{y}.mvt" for la, _, z, x, y in
             pick_tiles(sample_engine, per_zoom=2)]
    r = asyncio.run(load(port, paths, clients=3))  # type: ignore[arg-type]
    assert r["requests"] == len(paths)
    assert sum(r["statuses"].values()) == len(paths)
    assert set(r["statuses"]) <= {"200", "204"}
    assert r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"]


def test_markdown_states_the_verdict() -> None:
    one = {"requests": 1, "throughput_rps": 1.0, "p50_ms": 1, "p95_ms": 1, "p99_ms": 1,
           "statuses": {"200": 1}}
    md = to_markdown({"quick": True, "date": "d", "tiles": 1, "zooms": [12, 16],
                      "layers": ["compounds"], "database": "x", "concurrency": 1,
                      "machine": {"cpus": 2}, "goal": "g",
                      "results": {"servicecircle": {"warm": one}, "tipg": {"warm": one}},
                      "verdict": {"warm": {"throughput_ratio": 1.0, "p95_ms": 1,
                                           "goal_met": False}}})
    assert "goal NOT met" in md
