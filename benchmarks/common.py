"""What the benchmarks share: timing on a shared machine, a generated city, the NetworkX
baseline graph.

The generated city is a seeded, jittered street grid in UTM 50N (EPSG:32650) with 12 % of
the blocks' sides removed; the NetworkX baseline follows the common OSMnx approach
(points snapped to the nearest node, edge weight ``length`` in metres).
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from geo.network.graph import StreetNetwork
from geo.settings import Settings

UTM = 32650


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """Median wall-clock seconds, every run's seconds, the last result; the median CPU
    seconds of the process go to ``timed.cpu`` (the machine is shared)."""
    times, cpu_s, out = [], [], None
    for _ in range(repeats):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu_s.append(time.process_time() - c)
    timed.cpu = statistics.median(cpu_s)  # type: ignore[attr-defined]
    return statistics.median(times), times, out


def goal(measured: float, target: float, *, unit: str = "s",
         at_least: bool = False) -> dict[str, Any]:
    """A goal's figures: ``target_<unit>``, ``measured_<unit>`` and whether it is ``met``
    (measured at most the target, or at least it with ``at_least``; no unit: no suffix)."""
    sfx = f"_{unit}" if unit else ""
    return {f"target{sfx}": target, f"measured{sfx}": measured,
            "met": bool(measured >= target if at_least else measured <= target)}


def goal_rows(goals: dict[str, dict[str, Any]]) -> list[str]:
    """The Markdown section of :func:`goal` figures: a table, one goal a row."""
    lines = ["## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    for name, v in goals.items():
        meas = next(val for k, val in v.items() if k.startswith("measured"))
        lines.append(f"| {name} | {meas:.2f} | {'yes' if v['met'] else '**no**'} |")
    return lines


def last_cpu() -> float:
    """Median CPU seconds of the last :func:`timed` call."""
    return float(timed.cpu)  # type: ignore[attr-defined]


def generated_city(*, side: int, n_services: int, n_compounds: int, n_types: int = 8,
                   spacing_m: float = 80.0, seed: int = 7
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame,
                              gpd.GeoDataFrame]:
    """A seeded jittered grid city (UTM 50N): nodes, edges, services, compound points."""
    rng = np.random.default_rng(seed)
    x0, y0 = 560_000.0, 3_100_000.0
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([x0 + jj.ravel() * spacing_m, y0 + ii.ravel() * spacing_m])
    xy += rng.normal(0, 8, xy.shape)
    idx = ii * side + jj
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.12
    u, v = u[keep], v[keep]
    lines = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    nodes = gpd.GeoDataFrame({"node_id": np.arange(side * side)}, geometry=shapely.points(xy),
                             crs=UTM)
    edges = gpd.GeoDataFrame({"edge_id": np.arange(len(u)), "u": u, "v": v,
                              "length_m": shapely.length(lines)}, geometry=lines, crs=UTM)
    span = side * spacing_m

    def pts(n: int) -> np.ndarray:
        return shapely.points(np.column_stack([rng.uniform(x0, x0 + span, n),
                                               rng.uniform(y0, y0 + span, n)]))

    services = gpd.GeoDataFrame({"id": np.arange(n_services),
                                 "type": [f"type_{i % n_types}" for i in range(n_services)]},
                                geometry=pts(n_services), crs=UTM)
    compounds = gpd.GeoDataFrame({"id": np.arange(n_compounds)}, geometry=pts(n_compounds),
                                 crs=UTM)
    return nodes, edges, services, compounds


def nx_graph(net: StreetNetwork) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(net.n_nodes))  # isolated nodes too: points may snap to them
    g.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(),
                                  net.edge_length_m.tolist(), strict=True), weight="length")
    return g


def nearest_nodes(net: StreetNetwork, gdf: gpd.GeoDataFrame) -> np.ndarray:
    tree = shapely.STRtree(shapely.points(net.node_xy))
    pts = np.asarray(gdf.to_crs(net.metric_epsg).geometry.values, dtype=object)
    return tree.query_nearest(pts, all_matches=False)[1]


def cpus() -> int:
    """CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def load_avg() -> float:
    """The machine's 1-minute load average (other users' work shows here)."""
    return round(os.getloadavg()[0], 2)


def server_cpu_s(settings: Settings) -> float | None:
    """CPU seconds the embedded PostgreSQL server has used so far: its postmaster, the
    backends and background processes it has reaped, and those running now (Linux
    ``/proc``). ``None`` when the database is not the embedded server of this machine."""
    from geo.store.cluster_access import data_dir

    pid_file = data_dir(settings) / "postmaster.pid"
    if not settings.embedded or not pid_file.exists() or not Path("/proc").is_dir():
        return None
    master = int(pid_file.read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def fields(pid: int | str) -> list[str]:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()

    try:
        f = fields(master)
    except OSError:
        return None
    ticks = sum(int(x) for x in f[11:15])  # utime, stime, reaped children's cutime, cstime
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                g = fields(p.name)
            except OSError:  # ended meanwhile: its time is in the postmaster's reaped
                continue
            if int(g[1]) == master:
                ticks += int(g[11]) + int(g[12])
    return ticks / tick
