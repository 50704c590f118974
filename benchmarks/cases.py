"""Benchmark: case hexagon counts on 1,000,000 cases and Gi* on 5,000 cells.

Targets (issue): any category set and window → hex counts ≤ 0.5 s on 1,000,000 cases;
Gi* with 999 permutations on 5,000 cells ≤ 5 s. Medians of repeated runs with random
(seeded) category sets and windows; ``quick`` uses 100,000 cases and fewer repeats.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from datetime import timedelta
from typing import Any

import h3
import numpy as np
import pandas as pd

from geo.cases.counts import KNOWN_CATEGORIES, CaseIndex, counts_frame
from geo.cases.hotspots import gi_star
from geo.demo.synthetic_cases import synthetic_cases

HEX_TARGET_S = 0.5
GI_TARGET_S = 5.0
#: About Guixi's built-up area and its surroundings (≈ 33 km × 33 km).
BOUNDS = (117.05, 28.10, 117.35, 28.40)


def _timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _summary(times: list[float], target: float) -> dict[str, Any]:
    med = statistics.median(times)
    return {"median_s": round(med, 4), "min_s": round(min(times), 4),
            "max_s": round(max(times), 4), "repeats": len(times), "target_s": target,
            "met": med <= target}


def run(quick: bool = False) -> dict[str, Any]:
    """Time hex counts (index + any filter) and Gi* (999 permutations, 5,000 cells)."""
    n = 100_000 if quick else 1_000_000
    repeats = 5 if quick else 20
    gi_repeats = 2 if quick else 5
    rng = np.random.default_rng(2026)
    gen_s, cases = _timed(lambda: synthetic_cases(n, seed=1, bounds=BOUNDS, clusters=20))
    out: dict[str, Any] = {"cases": n, "generate_s": round(gen_s, 2), "quick": quick,
                           "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    for res in (8, 9):
        build_s, index = _timed(lambda r=res: CaseIndex.from_cases(cases, resolution=r))
        agg, full, cells = [], [], []
        t0 = pd.Timestamp("2026-01-01", tz="UTC")
        for _ in range(repeats):
            k = int(rng.integers(1, len(KNOWN_CATEGORIES) + 1))
            cats = list(rng.choice(np.array(KNOWN_CATEGORIES), k, replace=False))
            a, b = sorted(rng.uniform(0, 365, 2))
            start = (t0 + timedelta(days=float(a))).to_pydatetime()
            end = (t0 + timedelta(days=float(b) + 1)).to_pydatetime()
            t_agg, counts = _timed(lambda ix=index, c=cats, s=start, e=end: ix.counts(
                categories=c, start=s, end=e))
            t_geo, frame = _timed(lambda c=counts: counts_frame(c))
            agg.append(t_agg)
            full.append(t_agg + t_geo)
            cells.append(len(frame))
        out[f"hex_counts_res{res}"] = {
            "index_build_s": round(build_s, 2), "cells_median": int(statistics.median(cells)),
            "counts": _summary(agg, HEX_TARGET_S),
            "counts_with_polygons": _summary(full, HEX_TARGET_S)}
    centre = h3.latlng_to_cell(28.25, 117.2, 9)
    disk = sorted(h3.grid_disk(centre, 41))[:5000]
    y = rng.poisson(3, len(disk))
    frame = pd.DataFrame({"h3": disk, "n_cases": y})
    times = []
    for i in range(gi_repeats):
        t, res_gi = _timed(lambda s=i: gi_star(frame, permutations=999, seed=s))
        times.append(t)
    out["gi_star_5000_cells_999_permutations"] = {
        **_summary(times, GI_TARGET_S), "cells": len(disk),
        "hot_cells_last_run": int((res_gi.cells["bin"] > 0).sum())}
    out["met"] = bool(out["hex_counts_res9"]["counts_with_polygons"]["met"]
                      and out["gi_star_5000_cells_999_permutations"]["met"])
    return out


def to_markdown(result: dict[str, Any]) -> str:
    """A short report of the figures and whether the targets are met."""
    def yes(ok: bool) -> str:
        return "met" if ok else "NOT met"

    title = (f"# Case aggregation and hot spots ({result['cases']:,} cases"
             f"{', quick' if result['quick'] else ''})")
    machine = (f"Machine: {result['machine']['cpus']} CPUs, Python "
               f"{result['machine']['python']}. Generating the cases took "
               f"{result['generate_s']} s.")
    lines = [title, "", machine, "",
             "| step | median (s) | min–max (s) | repeats | target (s) | result |",
             "|---|---:|---:|---:|---:|---|"]
    for res in (8, 9):
        h = result[f"hex_counts_res{res}"]
        for label, key in (("hex counts", "counts"), ("hex counts + polygons", "counts_with_polygons")):
            s = h[key]
            lines.append(f"| {label}, H3 res {res} (~{h['cells_median']} cells), random category "
                         f"set and window | {s['median_s']} | {s['min_s']}–{s['max_s']} | "
                         f"{s['repeats']} | {s['target_s']} | {yes(s['met'])} |")
    g = result["gi_star_5000_cells_999_permutations"]
    lines.append(f"| Gi*, {g['cells']} cells, 999 permutations | {g['median_s']} | "
                 f"{g['min_s']}–{g['max_s']} | {g['repeats']} | {g['target_s']} | "
                 f"{yes(g['met'])} |")
    lines += ["", "Building the index (H3 cell of every case, once per resolution): "
              + ", ".join(f"res {r}: {result[f'hex_counts_res{r}']['index_build_s']} s"
                          for r in (8, 9)) + ".",
              "", f"Both targets {yes(result['met'])}." if result["met"]
              else "At least one target is NOT met.", ""]
    return "\n".join(lines)
