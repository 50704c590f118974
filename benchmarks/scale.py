"""Scale benchmark: ``analyze coverage --city all`` as Dask tasks over a generated province.

A throwaway database is filled with generated cities of realistic sizes
(:mod:`geo.demo.province`, seeded), then the batch of :mod:`geo.runs.batch` runs the
coverage of the first 2 and 8 of them (32 with ``--with-32``) on an embedded
``LocalCluster`` of 1 and of 2 single-threaded worker processes. Each configuration starts
a fresh cluster (its start-up is timed apart) and measures the end-to-end batch: from the
first task submitted to the last city's runs committed in PostGIS. Peak memory is each
worker process's peak resident set (``ru_maxrss``) as its last task reported it.

Then the serving tier: tile throughput of ``serve --workers 1`` next to ``--workers 2``
sharing the tile cache (:mod:`benchmarks.scale_serving`).

``--quick``: 2 and 8 cities of 60 compounds each (on a busy shared machine the full sizes
take an hour).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from benchmarks.common import cpus, load_avg, server_cpu_s
from geo.runs.batch import CityOutcome, dask_client, run_batch
from geo.runs.params import CoverageParams
from geo.settings import Settings
from geo.store import cluster, migrate
from geo.store.cities import city_compounds

#: Done-when of the batch: 8 cities, 2 local workers vs 1, at least this speed-up.
GOAL_SPEEDUP = 1.6
#: Pairs of runs (1 worker, then 2) of the goal's configuration; the speed-up is the ratio of
#: their median batch times (one pair varies by tens of per cent on a shared machine).
GOAL_REPEATS = 3


def _warm() -> None:
    import geo.runs.batch  # noqa: F401


def _batch(s: Settings, codes: list[str], workers: int, *,
           split_compounds: int | None = None) -> dict[str, Any]:
    eng = migrate.make_engine(s)
    try:
        with eng.connect() as conn:
            sizes = city_compounds(conn)  # as `analyze … --city all` orders its tasks
    finally:
        eng.dispose()
    t0 = time.perf_counter()
    with dask_client(workers=workers) as client:
        client.wait_for_workers(workers)
        client.run(_warm)  # imports of the analyses: part of the start-up, not of the batch
        started = time.perf_counter() - t0
        t1, c1, p1 = time.perf_counter(), time.process_time(), server_cpu_s(s)
        outs: list[CityOutcome] = run_batch("coverage", codes, [CoverageParams()],
                                            client=client, db_name=s.database, sizes=sizes,
                                            split_compounds=split_compounds)
        seconds, main_cpu = time.perf_counter() - t1, time.process_time() - c1
        p2 = server_cpu_s(s)
    failed = [o.city for o in outs if not o.ok]
    if failed:
        raise RuntimeError(f"cities failed: {failed}: {[o.error for o in outs if not o.ok]}")
    peak: dict[str, float] = {}
    for o in outs:
        peak[str(o.worker)] = max(peak.get(str(o.worker), 0.0), o.peak_rss_mb)
    return {"cities": len(codes), "workers": workers, "batch_s": round(seconds, 2),
            "cluster_start_s": round(started, 2),
            "task_s_sum": round(sum(o.seconds for o in outs), 2),
            "task_cpu_s_sum": round(sum(o.cpu_seconds for o in outs), 2),
            "main_cpu_s": round(main_cpu, 2),
            "postgres_cpu_s": None if p1 is None or p2 is None else round(p2 - p1, 2),
            "peak_rss_mb_per_worker": sorted(round(v, 1) for v in peak.values()),
            "parts": max(o.parts for o in outs),
            "load_avg_after": load_avg()}


def _vacuum(s: Settings) -> None:
    """VACUUM ANALYZE the freshly loaded province, as after any bulk load: otherwise the
    autovacuum of the loaded tables runs during the first measured batches."""
    eng = migrate.make_engine(s, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    finally:
        eng.dispose()


def run(*, quick: bool = False, with_32: bool = False) -> dict[str, Any]:
    """Measure the batch for 2, 8 (and 32) cities on 1 and 2 local workers."""
    from geo.demo.province import city_sizes, load_province

    counts = [2, 8] + ([32] if with_32 else [])
    n = max(counts)
    compounds = 60 if quick else None
    base = Settings.from_env()
    if base.embedded and not cluster.ready(base):
        cluster.up(base)
    load0 = load_avg()
    t = time.perf_counter()
    name = f"sc_bench_scale_{uuid.uuid4().hex[:6]}"
    with migrate.scratch_database(base, name, fill=lambda conn: load_province(
            conn, n, compounds=compounds)) as s:
        load_s = time.perf_counter() - t
        _vacuum(s)
        codes = [f"gen{i + 1:03d}" for i in range(n)]
        goal_k = 8 if 8 in counts else max(counts)
        # interleaved (1, 2, 1, 2, …): both configurations see the machine's drift alike
        runs = [_batch(s, codes[:k], w) for k in counts
                for _ in range(GOAL_REPEATS if k == goal_k and not quick else 1) for w in (1, 2)]
        # the largest city alone on 2 workers: one task, then split in 2 parts by type
        sizes = [compounds] * n if compounds else city_sizes(n)
        big = max(range(goal_k), key=lambda i: sizes[i])
        split = [_batch(s, [codes[big]], 2, split_compounds=sc)
                 for _ in range(1 if quick else GOAL_REPEATS)
                 for sc in (None, -(-sizes[big] // 2))]
    from benchmarks import scale_serving

    serving = scale_serving.run(quick)
    median = {(k, w): statistics.median(r["batch_s"] for r in runs
                                        if (r["cities"], r["workers"]) == (k, w))
              for k in counts for w in (1, 2)}
    ratios = {str(k): round(median[(k, 1)] / median[(k, 2)], 2) for k in counts}
    per_city = median[(max(counts), 1)] / max(counts)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": cpus(), "python": platform.python_version(),
                    "load_avg_before": load0, "load_avg_after": load_avg(),
                    "pid": os.getpid()},
        "quick": quick, "compounds_per_city": sizes, "load_s": round(load_s, 1),
        "runs": runs, "median_batch_s": {f"{k}x{w}": v for (k, w), v in median.items()},
        "split": {"city": codes[big], "compounds": sizes[big], "runs": split,
                  "speedup_2_parts_vs_1": round(
                      statistics.median(r["batch_s"] for r in split if r["parts"] == 1)
                      / statistics.median(r["batch_s"] for r in split if r["parts"] > 1), 2)},
        "speedup_2_vs_1": ratios,
        "seconds_per_city_1_worker": round(per_city, 2),
        "goal": {"cities": goal_k, "target_speedup": GOAL_SPEEDUP,
                 "measured_speedup": ratios[str(goal_k)],
                 "met": bool(ratios[str(goal_k)] >= GOAL_SPEEDUP)},
        "serving": serving,
    }


def projection(per_city_s: float, efficiency: float, *, cities: int = 100,
               machines: int = 1, cores: int = 2) -> float:
    """Projected batch seconds for ``cities`` on ``machines`` of ``cores`` workers: the
    measured one-worker seconds per city spread over ``machines × cores`` workers at the
    measured parallel ``efficiency`` (speed-up / workers), whole waves of tasks."""
    workers = machines * cores
    waves = -(-cities // workers)
    return waves * per_city_s / max(efficiency, 1e-9)


def to_markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        "# Scale benchmark: coverage of a generated province as Dask tasks",
        "",
        (f"Measured {r['when']} on {m['cpus']} CPUs, Python {m['python']}; 1-min load average "
        f"{m['load_avg_before']} before, {m['load_avg_after']} after (the machine is shared; "
        "other people's work running at the same time slows both configurations and "
        "lowers the speed-up of two workers, which need both cores)."),
        "",
        (f"Cities: `geo/demo/province.py` (seeded), compounds per city "
        f"{', '.join(str(c) for c in r['compounds_per_city'])}; generated and loaded in "
        f"{r['load_s']} s, then vacuumed and analysed. Each row starts its own `LocalCluster` "
        "(single-threaded worker processes, configured for tasks of seconds: "
        "`geo.runs.batch.COARSE_TASKS`); *batch* is from the first task submitted to the "
        "last city committed. As `analyze … --city all` does, the cities with most compounds "
        "start first and a worker takes the next city when it is free."),
        "",
        *([("**Quick run**: every city has 60 compounds, not the province's realistic sizes "
           "(150–1,200; `servicecircle bench scale` without `--quick`)."), ""]
          if r["quick"] else []),
        ("| cities | workers | batch (s) | cluster start (s) | sum of task times (s) | "
         "sum of task CPU (s) | peak RSS per worker (MiB) | load avg after |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for x in r["runs"]:
        lines.append(f"| {x['cities']} | {x['workers']} | {x['batch_s']} | "
                     f"{x['cluster_start_s']} | {x['task_s_sum']} | {x['task_cpu_s_sum']} | "
                     f"{', '.join(str(v) for v in x['peak_rss_mb_per_worker'])} | "
                     f"{x['load_avg_after']} |")
    def starved(k: int, w: int) -> str:
        xs = [x for x in r["runs"] if (x["cities"], x["workers"]) == (k, w)]
        cpu = sum(x["task_cpu_s_sum"] for x in xs)
        return f"{sum(x['task_s_sum'] for x in xs) / cpu:.1f}" if cpu else "–"

    def bound(k: int) -> str:
        sizes = r["compounds_per_city"][:k]
        return f"{sum(sizes) / max(sum(sizes) / 2, max(sizes)):.2f}×"

    lines += ["", "## Ratios", "", ("| cities | speed-up 2 workers vs 1 (median batch times) | "
              "bound from the city sizes | task wall / CPU seconds, 1 worker | task wall / CPU "
              "seconds, 2 workers |"), "|---|---|---|---|---|"]
    lines += [f"| {k} | {v}× | {bound(int(k))} | {starved(int(k), 1)} | {starved(int(k), 2)} |"
              for k, v in r["speedup_2_vs_1"].items()]
    lines += ["", ("The bound: a city is one task, so two workers finish no sooner than the "
              "largest city alone or half of all the compounds, whichever is longer (a city's "
              "work grows about linearly with its compounds).")]
    lines += ["", ("A task's wall-clock seconds over its CPU seconds is 1 when its worker has a "
              "core to itself and reads little from the database; well above 1, the worker "
              "waited for a core (other processes on the machine, PostgreSQL serving the "
              "workers on the same 2 cores) or for the database.")]
    if all("main_cpu_s" in x for x in r["runs"]):
        lines += ["", ("Where the cores went (core-seconds of the batch: its seconds × "
                  f"{m['cpus']} CPUs): the tasks' CPU, this process's (the Dask scheduler and "
                  "client), PostgreSQL's (reading the inputs and storing the runs: its backends "
                  "and background processes; – when the database is not the embedded server), "
                  "and the rest — the nannies, other processes, idle cores."), "",
                  ("| cities | workers | core-seconds | tasks | scheduler + client | PostgreSQL "
                   "| rest |"), "|---|---|---|---|---|---|---|"]
        for x in r["runs"]:
            total = x["batch_s"] * m["cpus"]
            pg = x.get("postgres_cpu_s")
            rest = total - x["task_cpu_s_sum"] - x["main_cpu_s"] - (pg or 0.0)
            lines.append(f"| {x['cities']} | {x['workers']} | {total:.1f} | "
                         f"{x['task_cpu_s_sum']:.1f} | {x['main_cpu_s']:.1f} | "
                         f"{'–' if pg is None else f'{pg:.1f}'} | {rest:.1f} |")
    if "split" in r:
        sp = r["split"]
        lines += ["", "## A large city in parts", "",
                  (f"The largest city ({sp['city']}, {sp['compounds']} compounds) alone on 2 "
                   "workers: one task, then split by service type into 2 parts "
                   "(`--split-compounds`) and one store task merging them."), "",
                  "| parts | batch (s) | sum of task times (s) | sum of task CPU (s) |",
                  "|---|---|---|---|"]
        lines += [f"| {x['parts']} | {x['batch_s']} | {x['task_s_sum']} | "
                  f"{x['task_cpu_s_sum']} |" for x in sp["runs"]]
        lines += ["", (f"Speed-up of 2 parts over one task (median batch times): "
                       f"{sp['speedup_2_parts_vs_1']}×. The parts repeat what every type "
                       "shares (reading the city, snapping its compounds to the streets), so "
                       "they cost more CPU than one task.")]
    g = r["goal"]
    lines += ["", "## Goal", "", "| goal | measured | met |", "|---|---|---|",
              (f"| {g['cities']} cities, 2 local workers ≥ {g['target_speedup']}× faster than 1 "
              f"| {g['measured_speedup']}× | {'yes' if g['met'] else '**no**'} |")]
    per = r["seconds_per_city_1_worker"]
    k_max = max(int(k) for k in r["speedup_2_vs_1"])
    eff = r["speedup_2_vs_1"][str(k_max)] / 2
    lines += [
        "", "## Projection to 100 cities (a projection, not a measurement)", "",
        (f"From {per} s per city on one worker (the {k_max}-city run; these cities average "
        f"{sum(r['compounds_per_city']) / len(r['compounds_per_city']):.0f} compounds) and "
        f"the measured parallel efficiency {eff:.2f} of two workers, 100 cities on k machines "
        "of 2 cores each (one worker per core, PostGIS elsewhere) would take about (cities "
         "of other sizes: scale by their compounds — a city's coverage work grows about "
         "linearly with its compounds and stations, each circle having a bounded reach):"),
        "",
        "| machines k | workers | projected batch |", "|---|---|---|"]
    for k in (1, 2, 4, 8, 16):
        s = projection(per, eff, machines=k)
        lines.append(f"| {k} | {2 * k} | {s / 60:.1f} min |")
    lines += [
        "", ("Assumptions: cities of the sizes above (a province's larger cities take longer; "
        "the batch ends with its slowest task, so one very large city bounds it from below); "
        "the database keeps up (each city reads a few MB and writes its run in one "
        "transaction, well below one PostgreSQL server's capacity at 32 workers); no "
        "failures.")]
    if "serving" in r:
        from benchmarks import scale_serving

        body = scale_serving.to_markdown(r["serving"]).split("\n", 2)[2]
        lines += ["", ("## Serving tier: tiles from 1 and 2 server processes (measured "
                       f"{r['serving']['date']})"), "", body.rstrip()]
    return "\n".join(lines) + "\n"
