"""Batch runs: one analysis over many cities, one Dask distributed task per city.

:func:`run_batch` submits :func:`city_task` once per city to a Dask cluster — an embedded
:class:`~distributed.LocalCluster` of worker *processes* (the analyses are CPU bound and
hold the GIL) sized to the machine, or an existing cluster at a scheduler address
(:func:`dask_client`) — and reports each city as it finishes (``as_completed``). Dask
schedules, retries and moves work off lost workers; nothing here schedules.

Each task is self-contained and picklable: it gets the analysis name, a city code, the
parameter objects of :mod:`geo.runs.params` and the database *name*; it reads its
settings — the database server, credentials, speeds — from its own environment
(:meth:`Settings.from_env`, so no secret crosses the wire), opens its own connection,
reads the city's inputs from PostGIS and stores the city's runs through the run functions
of :mod:`geo.runs` in **one transaction** that commits only when every run of the city is
written. A task that fails on the data (no compounds, an unknown service type: errors of
:mod:`geo.errors` that a retry would repeat) reports the error without a retry; any other
failure — a lost connection, a worker killed mid-task, whose transaction the server rolls
back — is retried by Dask (``retries``) and, when the retries are spent, reported for
that city while the others go on.

The largest cities start first: given each city's expected work (``sizes``, e.g. its
compounds, :func:`geo.store.cities.city_compounds`) a task's Dask ``priority`` is its
city's size, and the embedded cluster hands a worker its next task only when it is free
(:data:`COARSE_TASKS`), so the batch is a longest-first list schedule and does not end on
a large city started last. Tasks here last seconds to minutes: the embedded cluster is
configured for that (:data:`COARSE_TASKS`) rather than for Dask's default of many
millisecond tasks, whose event-loop ticks, sampling profiler and monitors cost an idle
cluster of 2 workers about a fifth of a core.

A city too large for one worker — more compounds than ``split_compounds`` — is split by
service type: ``ceil(compounds / split_compounds)`` part tasks each read the city and
compute the coverage of every ``parts``-th of its types in code order, starting at their
own index (:func:`coverage_part`: every type, built-in or the city's own, is in exactly one
part), and one store task merges them
(:func:`geo.coverage.merge_coverage`: the rows of one run of every type) and stores the
city's runs in one transaction, after checking that every part read the inputs the store
task reads (their data versions; a city edited meanwhile fails and is reported). The
coverage of a type depends on no other type, so the merged run equals the unsplit one
(tested). Only coverage splits; the other analyses run one task a city.

One caveat of at-least-once execution: a worker lost *after* its city's commit and
before the scheduler hears of the result makes Dask run the city again, storing a second
(identical) run; readers always take the newest run.
"""

from __future__ import annotations

import math
import os
import resource
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import dask
from distributed import Client, LocalCluster, as_completed, get_worker
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from geo.coverage.analysis import CoverageResult, merge_coverage
from geo.errors import ConflictError, GeoError
from geo.runs.cases import run_cases
from geo.runs.courier import run_courier
from geo.runs.coverage import compute_coverage, read_coverage_inputs, run_coverage, store_coverage
from geo.runs.params import CasesParams, CourierParams, CoverageParams, Params, PlanParams
from geo.runs.siting import run_plan
from geo.settings import Settings
from geo.store.migrate import make_engine

Analysis = Literal["coverage", "cases", "courier", "siting"]
#: The analyses a batch runs, each with the parameter object it takes.
ANALYSES: dict[str, type[Params]] = {"coverage": CoverageParams, "cases": CasesParams,
                                     "courier": CourierParams, "siting": PlanParams}
#: Retries of a city's task after a failure that is not the data's (Dask ``retries``).
DEFAULT_RETRIES = 2
#: Dask configuration of the embedded cluster, for tasks of seconds to minutes: a worker
#: gets its next task only when free (``worker-saturation`` 1.0, so the priorities order the
#: whole batch); no sampling profiler (a stack sample of the running task every 10 ms, for a
#: dashboard the embedded cluster does not serve); event-loop ticks, system and memory
#: monitors at 1 s instead of 20 / 500 / 100 ms (the memory limit is still enforced).
COARSE_TASKS: dict[str, object] = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@dataclass(frozen=True)
class CityOutcome:
    """What a batch did for one city.

    ``run_ids``: the stored runs (coverage, cases: one; courier: one per preset; siting:
    the saved scenario, if saved); ``summaries``: one per run function call (its
    ``summary``; siting: the totals, solver figures and walkers); ``error``: why the city
    failed (``None``: it succeeded); ``worker``: the Dask worker that ran the last attempt;
    ``seconds`` / ``cpu_seconds``: wall-clock and CPU seconds of that attempt;
    ``peak_rss_mb``: the worker process's peak resident memory so far, MiB; ``parts``: the
    tasks a split city's runs were computed in (1: one task).
    """

    city: str
    analysis: str
    run_ids: tuple[int, ...] = ()
    summaries: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    worker: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    params: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    parts: int = 1

    @property
    def ok(self) -> bool:
        """True when the city's runs are stored."""
        return self.error is None


def _run_one(conn: Connection, analysis: str, city: str, params: Params,
             settings: Settings) -> tuple[int | None, dict[str, Any], dict[str, Any]]:
    """One run function call: (stored run or scenario id, summary, stored parameters)."""
    if analysis == "coverage":
        r = run_coverage(conn, city, cast(CoverageParams, params), settings)
        return r.run_id, r.summary, r.params
    if analysis == "cases":
        c = run_cases(conn, city, cast(CasesParams, params), settings)
        return c.run_id, c.summary, c.params
    if analysis == "courier":
        k = run_courier(conn, city, cast(CourierParams, params), settings)
        return k.run_id, k.summary, k.params
    p = run_plan(conn, city, cast(PlanParams, params), settings, by="batch")
    summary = {**p.totals, **p.solve, "proposals": len(p.plan.proposals),
               "minutes": p.params.minutes, "model": p.params.model,
               "walkers": p.inputs.demand.summary(p.params.minutes)}
    return p.scenario_id, summary, p.params.model_dump(mode="json")


def _peak_rss_mb() -> float:
    """This process's peak resident memory, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_address() -> str | None:
    try:
        return str(get_worker().address)
    except ValueError:  # not inside a Dask worker (a sequential call)
        return None


def city_task(analysis: str, city: str, params: Sequence[Params],
              db_name: str | None = None) -> CityOutcome:
    """Compute and store ``analysis`` for ``city`` with each of ``params``, in one
    transaction on a connection of its own (settings from this process's environment,
    ``db_name`` overriding the database name). Errors of the data come back as the
    outcome's ``error``; any other exception propagates (Dask retries the task)."""
    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r}")
    settings = _settings(db_name)
    t0, c0 = time.perf_counter(), time.process_time()
    eng = make_engine(settings, poolclass=NullPool)
    ids: list[int] = []
    summaries: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    error = None
    try:
        with eng.begin() as conn:
            for p in params:
                run_id, summary, resolved = _run_one(conn, analysis, city, p, settings)
                if run_id is not None:
                    ids.append(run_id)
                summaries.append(summary)
                stored.append(resolved)
    except GeoError as exc:  # the data's answer: a retry would give the same
        error = f"{type(exc).__name__}: {exc}"
        ids, summaries, stored = [], [], []
    finally:
        eng.dispose()
    return CityOutcome(city=city, analysis=analysis, run_ids=tuple(ids),
                       summaries=tuple(summaries), error=error, worker=_worker_address(),
                       seconds=time.perf_counter() - t0,
                       cpu_seconds=time.process_time() - c0, peak_rss_mb=_peak_rss_mb(),
                       params=tuple(stored))


@dataclass(frozen=True)
class CoveragePart:
    """One part of a split city's coverage: the result for some of its service types
    (``None``: the part had none, more parts than types), the data versions of the inputs
    it read, and what its task cost (as :class:`CityOutcome`)."""

    result: CoverageResult | None
    versions: dict[str, int]
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float


def _settings(db_name: str | None) -> Settings:
    s = Settings.from_env()
    return replace(s, db_name=db_name) if db_name else s


def coverage_part(city: str, params: CoverageParams, part: int, parts: int,
                  db_name: str | None = None) -> CoveragePart | str:
    """The coverage of ``city``'s service types ``part``, ``part + parts``, … (in code
    order), computed from the inputs it reads in a transaction of its own and not stored.
    An error of the data comes back as its message (a retry would repeat it)."""
    settings = _settings(db_name)
    t0, c0 = time.perf_counter(), time.process_time()
    eng = make_engine(settings, poolclass=NullPool)
    try:
        with eng.connect() as conn:
            inputs = read_coverage_inputs(conn, city, params, settings)
    except GeoError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        eng.dispose()
    types = inputs.types[part::parts]
    result = compute_coverage(inputs, params, settings, types=types) if types else None
    return CoveragePart(result, inputs.versions, time.perf_counter() - t0,
                        time.process_time() - c0, _peak_rss_mb())


def store_parts(city: str, params: Sequence[CoverageParams],
                parts: Sequence[Sequence[CoveragePart | str]],
                db_name: str | None = None) -> CityOutcome:
    """Merge the parts of each of ``params`` (``parts[i]``: those of ``params[i]``) and
    store the city's coverage runs in one transaction; the outcome counts the parts' seconds
    with its own. Fails (as :func:`city_task`, an error of the data) if a part failed on the
    data or read other inputs than this task reads (the city was edited meanwhile)."""
    settings = _settings(db_name)
    t0, c0 = time.perf_counter(), time.process_time()
    ok = [[x for x in ps if isinstance(x, CoveragePart)] for ps in parts]
    done = [x for ps in ok for x in ps]
    cost = (sum(x.seconds for x in done), sum(x.cpu_seconds for x in done),
            max((x.peak_rss_mb for x in done), default=0.0))
    failed = next((x for ps in parts for x in ps if isinstance(x, str)), None)
    ids: list[int] = []
    summaries: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    error = failed
    if failed is None:
        eng = make_engine(settings, poolclass=NullPool)
        try:
            with eng.begin() as conn:
                for p, ps in zip(params, ok, strict=True):
                    inputs = read_coverage_inputs(conn, city, p, settings)
                    if any(x.versions != inputs.versions for x in ps):
                        raise ConflictError(f"city {city!r} changed while its parts were "
                                            "computed; run it again", code="inputs-changed")
                    run = store_coverage(conn, inputs, p, settings, merge_coverage(
                        [x.result for x in ps if x.result is not None]))
                    ids.append(run.run_id)
                    summaries.append(run.summary)
                    stored.append(run.params)
        except GeoError as exc:
            error = f"{type(exc).__name__}: {exc}"
            ids, summaries, stored = [], [], []
        finally:
            eng.dispose()
    return CityOutcome(city=city, analysis="coverage", run_ids=tuple(ids),
                       summaries=tuple(summaries), error=error, worker=_worker_address(),
                       seconds=time.perf_counter() - t0 + cost[0],
                       cpu_seconds=time.process_time() - c0 + cost[1],
                       peak_rss_mb=max(_peak_rss_mb(), cost[2]), params=tuple(stored),
                       parts=max((len(ps) for ps in parts), default=1))


def machine_workers() -> int:
    """Worker processes of the embedded cluster: one per CPU this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


@contextmanager
def dask_client(*, scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: on the cluster at ``scheduler`` (``tcp://host:8786``) if given, else on
    an embedded :class:`~distributed.LocalCluster` of ``workers`` single-threaded worker
    processes (default :func:`machine_workers`), closed on exit."""
    if scheduler:
        with Client(scheduler, set_as_default=False) as client:
            yield client
        return
    import logging

    with dask.config.set(COARSE_TASKS), \
            LocalCluster(n_workers=workers or machine_workers(), threads_per_worker=1,
                         processes=True, dashboard_address=None,
                         silence_logs=logging.ERROR) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


def run_batch(analysis: str, cities: Sequence[str], params: Sequence[Params], *,
              client: Client, db_name: str | None = None, retries: int = DEFAULT_RETRIES,
              on_done: Callable[[CityOutcome], None] | None = None,
              extra: Mapping[str, Sequence[Params]] | None = None,
              sizes: Mapping[str, int] | None = None,
              split_compounds: int | None = None) -> list[CityOutcome]:
    """Run ``analysis`` with each of ``params`` (then the city's own ``extra[city]``, e.g.
    the coverage runs of its week's opening-hour moments) for every city of ``cities`` on
    ``client``'s cluster, one task per city, the largest of ``sizes`` (a city's expected
    work, e.g. its compounds; missing: 0) first; ``on_done(outcome)`` is called as each
    city finishes (in the order they finish). Returns the outcomes in the order of
    ``cities``: a city whose task failed ``retries + 1`` times has the last error, the
    others are unaffected. A coverage city whose ``sizes`` (its compounds) exceed
    ``split_compounds`` is computed in ``ceil(size / split_compounds)`` parts by service
    type and stored merged (:func:`coverage_part`, :func:`store_parts`)."""
    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r}; one of {', '.join(ANALYSES)}")
    batch = uuid.uuid4().hex[:8]
    extra = extra or {}
    compounds = {code: int((sizes or {}).get(code, 0)) for code in cities}
    todos = {code: [*params, *extra.get(code, ())] for code in cities}
    size = {code: compounds[code] * len(todos[code]) for code in cities}
    futures = {}
    for code in sorted(cities, key=lambda c: -size[c]):
        todo = todos[code]
        parts = (math.ceil(compounds[code] / split_compounds)
                 if analysis == "coverage" and split_compounds else 1)
        key, opts = f"{analysis}-{code}-{batch}", {
            "retries": retries, "pure": False, "priority": size[code]}
        if parts > 1:  # the parts first, then their store task (their results as arguments)
            pieces = [[client.submit(coverage_part, code, p, i, parts, db_name,
                                     key=f"{key}-{j}-part{i}", **opts)
                       for i in range(parts)] for j, p in enumerate(todo)]
            fut = client.submit(store_parts, code, todo, pieces, db_name, key=key, **opts)
        else:
            fut = client.submit(city_task, analysis, code, todo, db_name, key=key, **opts)
        futures[fut] = code
    done: dict[str, CityOutcome] = {}
    for fut in as_completed(futures, loop=client.loop):
        code = futures[fut]
        try:
            out = fut.result()
        except Exception as exc:  # noqa: BLE001 -- the last failure (retries spent), reported
            out = CityOutcome(city=code, analysis=analysis,
                              error=f"{type(exc).__name__}: {exc}")
        done[code] = out
        if on_done is not None:
            on_done(out)
    return [done[code] for code in cities]
