"""``servicecircle bench coverage``: nearest service and service circles, next to NetworkX.

(a) The demo cities (their real OSM walking networks and generated service points and
compounds). (b) A generated city: a jittered street grid of at least 200,000 nodes with
12 % of the blocks' sides removed, 2,000 service points of 8 types, 20,000 compounds.
Next to ours, the common OSMnx/NetworkX approach on the same inputs: snap to the nearest
node, then per facility a Dijkstra (``single_source_dijkstra_path_length``) for nearest
service, and per facility ``ego_graph(radius=budget, distance="length")`` whose edges are
buffered and united for circles — sampled and extrapolated to all facilities (labelled).
The best NetworkX alternative, one ``multi_source_dijkstra_path_length`` per type, is
run in full.
"""

from __future__ import annotations

import gc
import platform
import resource
import statistics
import time
import tracemalloc
from functools import partial
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from benchmarks.common import (
    UTM,
    cpus,
    generated_city,
    goal,
    goal_rows,
    last_cpu,
    load_avg,
    nearest_nodes,
    nx_graph,
    timed,
)
from geo.coverage.circles import service_circles
from geo.domain import LIFE_CIRCLE_MINUTES, WALK_MINUTES
from geo.network.graph import StreetNetwork
from geo.network.nearest import nearest_service

GOALS = {"nearest_s": 2.0, "peak_gb": 2.0, "speedup": 100.0, "circles_s": 10.0}


def _nx_isochrone(g: nx.Graph, net: StreetNetwork, node: int, budget: float,
                  buffer_m: float) -> Any:
    sub = nx.ego_graph(g, node, radius=budget, distance="length")
    lines = [shapely.LineString([net.node_xy[a], net.node_xy[b]]) for a, b in sub.edges()]
    pts = [shapely.Point(net.node_xy[n]) for n in sub.nodes()]
    return shapely.union_all(shapely.buffer(np.array(lines + pts, dtype=object), buffer_m,
                                            quad_segs=2))


def _baseline(net: StreetNetwork, services: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
              *, sample: int, circle_sample: int, budget: float, full_multi: bool
              ) -> dict[str, Any]:
    t = time.perf_counter()
    g = nx_graph(net)
    build = time.perf_counter() - t
    snodes = nearest_nodes(net, services)
    cnodes = nearest_nodes(net, compounds)
    rng = np.random.default_rng(1)
    pick = rng.choice(len(services), size=min(sample, len(services)), replace=False)
    per = []
    for i in pick:
        t = time.perf_counter()
        d = nx.single_source_dijkstra_path_length(g, int(snodes[i]), weight="length")
        _ = [d.get(int(c), np.inf) for c in cnodes]
        per.append(time.perf_counter() - t)
    types = sorted(set(services["type"]))
    multi = []
    for typ in types if full_multi else types[:2]:
        src = {int(n) for n in snodes[(services["type"] == typ).to_numpy()]}
        t = time.perf_counter()
        d = nx.multi_source_dijkstra_path_length(g, src, weight="length")
        _ = [d.get(int(c), np.inf) for c in cnodes]
        multi.append(time.perf_counter() - t)
    circ = []
    for i in pick[:circle_sample]:
        t = time.perf_counter()
        _nx_isochrone(g, net, int(snodes[i]), budget, 40.0)
        circ.append(time.perf_counter() - t)
    n = len(services)
    return {
        "graph_build_s": build,
        "per_facility_dijkstra_median_s": statistics.median(per),
        "per_facility_sampled": len(per),
        "nearest_all_types_per_facility_s_extrapolated": statistics.median(per) * n,
        "multi_source_per_type_s": multi,
        "nearest_all_types_multi_source_s": (sum(multi) if full_multi
                                             else statistics.mean(multi) * len(types)),
        "multi_source_extrapolated": not full_multi,
        "isochrone_ego_graph_median_s": statistics.median(circ),
        "isochrone_sampled": len(circ),
        "circles_15min_all_s_extrapolated": statistics.median(circ) * n,
    }


def _city_scale(quick: bool) -> dict[str, Any]:
    side, n_svc, n_comp = (150, 400, 4000) if quick else (450, 2000, 20000)
    repeats = 3
    nodes, edges, services, compounds = generated_city(side=side, n_services=n_svc,
                                                       n_compounds=n_comp)
    t = time.perf_counter()
    net = StreetNetwork.from_edges(nodes, edges, mode="walk", metric_epsg=UTM)
    build = time.perf_counter() - t
    first_med, first_all, _ = timed(
        lambda: nearest_service(net, compounds, services, second=False), repeats)
    first_cpu = last_cpu()
    both_med, both_all, res = timed(lambda: nearest_service(net, compounds, services), repeats)
    both_cpu = last_cpu()
    gc.collect()
    tracemalloc.start()
    nearest_service(net, compounds, services)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    life = [LIFE_CIRCLE_MINUTES]  # the 15-minute circle
    budget = net.budget_m(minutes=LIFE_CIRCLE_MINUTES)
    reach_med, _, _ = timed(
        lambda: service_circles(net, services, minutes=life, crs=UTM, polygons=False), 1)
    reach_cpu = last_cpu()
    raster_med, _, circles = timed(
        lambda: service_circles(net, services, minutes=life, crs=UTM, method="raster"), 1)
    raster_cpu = last_cpu()
    raster2_med, _, _ = timed(lambda: service_circles(net, services, minutes=life, crs=UTM,
                                                       method="raster", workers=2), 1)
    exact_med, _, _ = timed(lambda: service_circles(net, services, minutes=life, crs=UTM), 1)
    exact_cpu = last_cpu()
    exact2_med, _, _ = timed(lambda: service_circles(net, services, minutes=life, crs=UTM,
                                                      workers=2), 1)
    nested_med, _, _ = timed(lambda: service_circles(net, services, minutes=WALK_MINUTES,
                                                      crs=UTM, workers=2), 1)
    rss_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    base = _baseline(net, services, compounds, sample=3 if quick else 5,
                     circle_sample=5 if quick else 20, budget=budget, full_multi=True)
    table = res.table
    return {
        "nodes": net.n_nodes, "edges": net.n_edges, "components": net.n_components,
        "service_points": n_svc, "types": int(services["type"].nunique()),
        "compounds": n_comp, "network_build_s": build,
        "ours": {
            "nearest_all_types_s_median": first_med, "nearest_all_types_s_runs": first_all,
            "nearest_all_types_cpu_s": first_cpu,
            "nearest_and_second_all_types_s_median": both_med,
            "nearest_and_second_s_runs": both_all, "nearest_and_second_cpu_s": both_cpu,
            "nearest_and_second_peak_traced_gb": peak / 1024**3,
            "process_peak_rss_gb_before_networkx": rss_ours,
            "reach_15min_all_points_s": reach_med, "reach_15min_cpu_s": reach_cpu,
            "circles_15min_raster_s": raster_med, "circles_15min_raster_cpu_s": raster_cpu,
            "circles_15min_exact_s": exact_med, "circles_15min_exact_cpu_s": exact_cpu,
            "circles_15min_raster_2proc_s": raster2_med,
            "circles_15min_exact_2proc_s": exact2_med,
            "circles_5_10_15_exact_2proc_s": nested_med,
            "circles_15min_exact_best_s": min(exact_med, exact2_med),
            "circles_15min_all_points_s": min(raster_med, raster2_med, exact_med, exact2_med),
            "circles_polygons": int(circles.geometry.notna().sum()),
            "median_minutes_to_nearest": float(np.nanmedian(table["nearest_min"])),
            "unreachable_rows": int((~table["reachable"]).sum()),
        },
        "networkx": base,
    }


def _demo() -> list[dict[str, Any]]:
    from geo.demo import demo_cities

    out = []
    for city in demo_cities():
        t = time.perf_counter()
        net = StreetNetwork.from_edges(city.nodes, city.edges, mode="walk",
                                       metric_epsg=city.metric_epsg)
        build = time.perf_counter() - t
        svc = city.layers["service_point"]
        comp = city.layers["compound"]
        from geo.coverage.analysis import compound_origins

        origins = compound_origins(comp, id_col="external_id")
        near, _runs, _ = timed(partial(nearest_service, net, origins, svc,
                                        service_id_col="external_id",
                                        origin_id_col="compound_id"), 5)
        circ, _, c = timed(partial(service_circles, net, svc, minutes=WALK_MINUTES,
                                    service_id_col="external_id"), 3)
        out.append({"city": city.code, "nodes": net.n_nodes, "edges": net.n_edges,
                    "components": net.n_components, "service_points": len(svc),
                    "compounds": len(comp), "network_build_s": build,
                    "nearest_and_second_all_types_s_median": near,
                    "circles_5_10_15_all_points_s_median": circ, "circles": len(c)})
    return out


def run(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark once; ``quick`` uses a 22,500-node city and fewer samples."""
    city = _city_scale(quick)
    ours, base = city["ours"], city["networkx"]
    speed_pf = base["nearest_all_types_per_facility_s_extrapolated"] / ours[
        "nearest_all_types_s_median"]
    speed_ms = base["nearest_all_types_multi_source_s"] / ours["nearest_all_types_s_median"]
    speed_c = base["circles_15min_all_s_extrapolated"] / ours["circles_15min_all_points_s"]
    goals = {
        "nearest_all_types_le_2s": goal(ours["nearest_all_types_s_median"], GOALS["nearest_s"]),
        "peak_memory_le_2gb": goal(ours["process_peak_rss_gb_before_networkx"],
                                   GOALS["peak_gb"], unit="gb"),
        "speedup_ge_100x_vs_per_facility_networkx": goal(speed_pf, GOALS["speedup"], unit="",
                                                         at_least=True),
        "circles_15min_exact_all_points_le_10s": goal(ours["circles_15min_exact_best_s"],
                                                      GOALS["circles_s"]),
        "circles_15min_any_method_all_points_le_10s": goal(ours["circles_15min_all_points_s"],
                                                           GOALS["circles_s"]),
    }
    return {"benchmark": "coverage", "quick": quick,
            "machine": {"python": platform.python_version(), "cpus": cpus(),
                        "load_avg_1m_at_end": load_avg()},
            "demo_cities": _demo(), "city_scale": city,
            "ratios": {"nearest_vs_networkx_per_facility": speed_pf,
                       "nearest_vs_networkx_multi_source": speed_ms,
                       "circles_vs_networkx_ego_graph": speed_c},
            "goals": goals}


def to_markdown(result: dict[str, Any]) -> str:
    """The figures as a Markdown report."""
    c, o, b = result["city_scale"], result["city_scale"]["ours"], result["city_scale"]["networkx"]
    r, g = result["ratios"], result["goals"]
    lines = [
        f"# Coverage benchmark{' (quick)' if result['quick'] else ''}", "",
        (f"Machine: {result['machine']['cpus']} CPUs, Python {result['machine']['python']}, "
        f"1-min load average at the end {result['machine']['load_avg_1m_at_end']} "
        "(the machine is shared; figures are wall-clock medians)."), "",
        "## Demo cities (walking, all service types, compounds by their gates)", "",
        ("| city | nodes | edges | parts | points | compounds | nearest+2nd, all types (s) "
        "| circles 5/10/15 min, all points (s) |"), "|---|---|---|---|---|---|---|---|"]
    for d in result["demo_cities"]:
        lines.append(f"| {d['city']} | {d['nodes']} | {d['edges']} | {d['components']} | "
                     f"{d['service_points']} | {d['compounds']} | "
                     f"{d['nearest_and_second_all_types_s_median']:.3f} | "
                     f"{d['circles_5_10_15_all_points_s_median']:.2f} |")
    rows = [
        ("nearest, all types (median of 3)",
         f"{o['nearest_all_types_s_median']:.2f} s (CPU {o['nearest_all_types_cpu_s']:.2f} s)",
         (f"{b['nearest_all_types_per_facility_s_extrapolated']:.0f} s per-facility Dijkstra "
         f"(**extrapolated** from {b['per_facility_sampled']} facilities, median "
         f"{b['per_facility_dijkstra_median_s']:.2f} s each)"),
         f"{r['nearest_vs_networkx_per_facility']:.0f}×"),
        ("nearest, all types, vs best NetworkX", f"{o['nearest_all_types_s_median']:.2f} s",
         (f"{b['nearest_all_types_multi_source_s']:.1f} s multi-source Dijkstra per type "
         f"({'extrapolated' if b['multi_source_extrapolated'] else 'measured, all types'})"),
         f"{r['nearest_vs_networkx_multi_source']:.1f}×"),
        ("nearest + second nearest, all types (median of 3)",
         (f"{o['nearest_and_second_all_types_s_median']:.2f} s "
         f"(CPU {o['nearest_and_second_cpu_s']:.2f} s)"), "—", "—"),
        ("15-min reach, all points (street stretches incl. partial edges, no polygons)",
         f"{o['reach_15min_all_points_s']:.1f} s (CPU {o['reach_15min_cpu_s']:.1f} s)", "—", "—"),
        ("15-min circles, all points, raster buffer (10 m cells)",
         f"{o['circles_15min_raster_s']:.1f} s (CPU {o['circles_15min_raster_cpu_s']:.1f} s)",
         (f"{b['circles_15min_all_s_extrapolated']:.0f} s ego_graph + buffer/union "
         f"(**extrapolated** from {b['isochrone_sampled']})"),
         f"{r['circles_vs_networkx_ego_graph']:.1f}×"),
        ("15-min circles, all points, raster buffer, 2 processes",
         f"{o['circles_15min_raster_2proc_s']:.1f} s", "—", "—"),
        ("15-min circles, all points, exact GEOS buffer (the default)",
         f"{o['circles_15min_exact_s']:.1f} s (CPU {o['circles_15min_exact_cpu_s']:.1f} s)",
         "—", "—"),
        ("15-min circles, all points, exact GEOS buffer, 2 processes",
         f"{o['circles_15min_exact_2proc_s']:.1f} s", "—", "—"),
        ("5/10/15-min circles, all points, exact, 2 processes (nested thresholds)",
         f"{o['circles_5_10_15_exact_2proc_s']:.1f} s", "—", "—"),
        ("peak memory", (f"{o['process_peak_rss_gb_before_networkx']:.2f} GB process RSS "
         f"(nearest+2nd traced: {o['nearest_and_second_peak_traced_gb']:.2f} GB)"), "—", "—"),
    ]
    lines += ["", (f"## Generated city: {c['nodes']:,} nodes, {c['edges']:,} edges, "
              f"{c['service_points']:,} points of {c['types']} types, "
              f"{c['compounds']:,} compounds"), "",
              "| step | ours | NetworkX | ratio |", "|---|---|---|---|"]
    lines += [f"| {a} | {b_} | {n} | {x} |" for a, b_, n, x in rows]
    lines += ["", *goal_rows(g)]
    ex, anym = g["circles_15min_exact_all_points_le_10s"], \
        g["circles_15min_any_method_all_points_le_10s"]
    lines += ["", (f"**15-minute circles for all {c['service_points']:,} points in ≤ 10 s with "
              f"the exact buffer (the default method): {'met' if ex['met'] else 'NOT met'}** "
              f"({ex['measured_s']:.1f} s, the better of 1 and 2 processes). With any of our "
              f"methods (the raster one included): {'met' if anym['met'] else 'NOT met'} "
              f"({anym['measured_s']:.1f} s)."), "",
              ("The exact method buffers every reached stretch on its own (2 segments per "
              "quarter circle; flat ends where the end disk is covered by the other "
              "stretches there) and unites the buffers per circle with GEOS; that union is "
              "about three quarters of its time (about 20 ms per 15-minute circle of ~700 "
              "stretches). Thresholds are done nested (a circle "
              "is the previous threshold's circle plus the new stretches), which helps "
              "5/10/15-minute runs, not a single threshold. Worker processes only help "
              "when the second core is free (see the load average above)."), "",
              ("The NetworkX approach snaps to the nearest node; ours snaps mid-edge and "
              "adds the snap distance, and also returns the second-nearest point. The raster "
              "method's boundary lies within about one 10 m cell of the exact buffer. "
              "Wall-clock figures on a shared 2-core machine; CPU seconds of our process "
              "are given alongside."), ""]
    return "\n".join(lines)
