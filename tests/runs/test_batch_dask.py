"""``analyze … --city all`` on Dask (geo/runs/batch.py), on generated cities in a database
of this module: the batch stores exactly what the sequential runs store; it runs on a
separately started scheduler and workers; a worker killed mid-task loses no city."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from distributed import Client
from shapely.geometry import box
from sqlalchemy import Connection, Engine, text

from geo.runs import CasesParams, CourierParams, CoverageParams, PlanParams, run_coverage
from geo.runs.batch import (
    CoveragePart,
    city_task,
    coverage_part,
    dask_client,
    run_batch,
    store_parts,
)
from geo.runs.params import Params
from geo.settings import Settings
from geo.store import migrate
from geo.store.cities import city_compounds, create_city
from tests.support.dask_cluster import (
    MarkFirstTask,
    dask_processes,
    env_for,
    wait_for_file,
)

pytestmark = pytest.mark.slow

CITIES = 4
COMPOUNDS = 40
#: The stored tables of a coverage run, compared row for row (ids and times left out).
RUN_TABLES = ("coverage_compound", "coverage_unit", "coverage_completeness", "service_circle",
              "service_circle_union", "coverage_gap")


@pytest.fixture(scope="module")
def batch_settings(settings: Settings) -> Iterator[Settings]:
    """A database of this module's own (a batch runs over *all* cities of its database),
    holding :data:`CITIES` generated cities."""
    from geo.demo.province import load_province

    base = Settings.from_env()
    name = f"{settings.db_name}_batch"
    migrate.create_database(base, name)
    s = replace(settings, db_name=name)
    eng = migrate.make_engine(s)
    try:
        with eng.begin() as conn:
            migrate.upgrade(conn)
            load_province(conn, CITIES, compounds=COMPOUNDS)
        yield s
    finally:
        eng.dispose()
        migrate.drop_database(base, name)


@pytest.fixture(scope="module")
def batch_engine(batch_settings: Settings) -> Iterator[Engine]:
    eng = migrate.make_engine(batch_settings)
    yield eng
    eng.dispose()


def _env(s: Settings) -> dict[str, str]:
    url = s.url(s.db_name).replace("postgresql+psycopg://", "postgresql://") \
        if s.database_url else None
    return env_for(s.db_name, url)


def _cli(s: Settings, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          env=_env(s), cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=timeout, check=False)


def _latest_runs(conn: Connection) -> dict[str, list[int]]:
    """Coverage run ids of every city, oldest first."""
    rows = conn.execute(text(
        "SELECT c.code, coalesce(array_agg(r.id ORDER BY r.id) FILTER (WHERE r.id IS NOT NULL),"
        " '{}') FROM city c LEFT JOIN analysis_run r ON r.city_id = c.id AND r.kind = 'coverage'"
        " GROUP BY c.code ORDER BY c.code")).all()
    return {code: list(ids) for code, ids in rows}


def _run_rows(conn: Connection, run_id: int) -> dict[str, list[str]]:
    """Every stored row of run ``run_id`` as text (geometries as hex EWKB, exact), sorted;
    the run's own record without its id and time."""
    out = {"analysis_run": [conn.execute(text(
        "SELECT json_build_array(city_id, kind, params, data_version, summary)::text "
        "FROM analysis_run WHERE id = :r"), {"r": run_id}).scalar_one()]}
    for table in RUN_TABLES:
        cols = [c for (c,) in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
            "AND column_name NOT IN ('id', 'run_id') ORDER BY ordinal_position"),
            {"t": table}).all()]
        expr = ", ".join(f"encode(ST_AsEWKB({c}), 'hex')" if c == "geom" else c for c in cols)
        out[table] = sorted(r[0] for r in conn.execute(text(
            f"SELECT json_build_array({expr})::text FROM {table} "  # names from the schema
            "WHERE run_id = :r"), {"r": run_id}).all())
    return out


@pytest.mark.parametrize(("split", "parts"), [
    ((), 1),
    # 40 compounds a city, 15 a part: 3 parts of 3 of the 9 types each, then the store
    (("--split-compounds", "15"), 3),
])
def test_batch_stores_what_the_sequential_runs_store(batch_settings: Settings,
                                                     batch_engine: Engine,
                                                     split: tuple[str, ...], parts: int) -> None:
    """One run a city, exactly the rows of the sequential run — also for cities computed in
    parts by service type on several workers and stored merged."""
    with batch_engine.connect() as conn:
        codes = list(_latest_runs(conn))
    assert len(codes) == CITIES
    sequential = {}
    for code in codes:  # the reference: one city after another in this process
        with batch_engine.begin() as conn:
            sequential[code] = run_coverage(conn, code, CoverageParams(), batch_settings).run_id
    with batch_engine.connect() as conn:
        before = _latest_runs(conn)
    done = _cli(batch_settings, "analyze", "coverage", "--city", "all", "--workers", "2",
                *split)
    assert done.returncode == 0, done.stderr
    with batch_engine.connect() as conn:
        after = _latest_runs(conn)
        for code in codes:
            new = [r for r in after[code] if r not in before[code]]
            assert len(new) == 1, (code, new)
            line = next(ln for ln in done.stderr.splitlines()  # progress per city
                        if ln.startswith(f"{code}: run {new[0]} ("))
            assert line.endswith(f", {parts} parts)") == (parts > 1), line
            ref, got = _run_rows(conn, sequential[code]), _run_rows(conn, new[0])
            assert len(ref["coverage_completeness"]) == COMPOUNDS
            assert sum(len(v) for v in ref.values()) > 100  # a run with contents
            for table in ref:
                assert got[table] == ref[table], (code, table)


def test_a_split_city_edited_while_its_parts_ran_is_not_stored(
        batch_settings: Settings, batch_engine: Engine) -> None:
    parts = [coverage_part("gen002", CoverageParams(), i, 2, batch_settings.db_name)
             for i in range(2)]
    assert all(isinstance(p, CoveragePart) and p.result is not None for p in parts)
    with batch_engine.begin() as conn:  # an edit after the parts read the city
        conn.execute(text("UPDATE compound SET name = name WHERE id = (SELECT min(p.id) FROM "
                          "compound p JOIN city c ON c.id = p.city_id WHERE c.code = 'gen002')"))
        before = _latest_runs(conn)["gen002"]
    out = store_parts("gen002", [CoverageParams()], [parts], batch_settings.db_name)
    assert not out.ok and "changed while its parts were computed" in str(out.error)
    with batch_engine.connect() as conn:
        assert _latest_runs(conn)["gen002"] == before  # nothing stored
    fresh = [coverage_part("gen002", CoverageParams(), i, 2, batch_settings.db_name)
             for i in range(2)]
    again = store_parts("gen002", [CoverageParams()], [fresh], batch_settings.db_name)
    assert again.ok and len(again.run_ids) == 1 and again.parts == 2
    assert again.seconds >= sum(p.seconds for p in fresh if isinstance(p, CoveragePart))


def test_batch_on_a_separately_started_cluster(batch_settings: Settings, batch_engine: Engine,
                                               tmp_path: Path) -> None:
    with batch_engine.connect() as conn:
        before = _latest_runs(conn)
    with dask_processes(2, _env(batch_settings), tmp_path) as (address, _):
        done = _cli(batch_settings, "analyze", "coverage", "--city", "all",
                    "--scheduler", address)
        with Client(address) as client:
            workers = set(client.scheduler_info()["workers"])
    assert done.returncode == 0, done.stderr
    with batch_engine.connect() as conn:
        after = _latest_runs(conn)
        for code, ids in after.items():
            new = [r for r in ids if r not in before[code]]
            assert len(new) == 1, (code, new)
            n = conn.execute(text(
                "SELECT (SELECT count(*) FROM coverage_compound WHERE run_id = :r), "
                "(SELECT count(*) FROM compound c JOIN city ON city.id = c.city_id "
                " WHERE city.code = :c)"), {"r": new[0], "c": code}).one()
            assert n[0] > 0 and n[0] % n[1] == 0  # every compound, once per service type
            line = next(ln for ln in done.stderr.splitlines()
                        if ln.startswith(f"{code}: run {new[0]} "))
            assert any(w in line for w in workers), line  # run by the external workers


def test_killing_a_worker_mid_batch_loses_no_city(batch_settings: Settings,
                                                  batch_engine: Engine, tmp_path: Path) -> None:
    marker = tmp_path / "first-task.pid"
    with batch_engine.connect() as conn:
        before = _latest_runs(conn)
    with dask_processes(2, _env(batch_settings), tmp_path) as (address, workers):
        with Client(address) as client:
            client.register_plugin(MarkFirstTask(str(marker)))
        batch = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "analyze", "coverage",
             "--city", "all", "--scheduler", address], env=_env(batch_settings),
            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        pid = int(wait_for_file(marker, batch, timeout_s=120))
        victim = next(w for w in workers if w.pid == pid)
        os.kill(pid, signal.SIGKILL)  # in the middle of its first city
        _out, err = batch.communicate(timeout=600)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        survivors = [w for w in workers if w is not victim]
        assert all(w.poll() is None for w in survivors)
    assert batch.returncode == 0, err
    with batch_engine.connect() as conn:
        after = _latest_runs(conn)
    assert set(after) == set(before) and len(after) == CITIES
    for code, ids in after.items():
        new = [r for r in ids if r not in before[code]]
        assert len(new) == 1, (code, new, err)


def test_the_largest_cities_start_first(batch_settings: Settings,
                                        batch_engine: Engine) -> None:
    """One worker takes the cities in the order of their sizes (the priorities); a city
    without a size comes last. The CLI's sizes are the cities' compounds."""
    with batch_engine.connect() as conn:
        codes = list(_latest_runs(conn))
        compounds = city_compounds(conn)
    assert compounds == {c: COMPOUNDS for c in codes}
    sizes = {codes[2]: 900, codes[0]: 450, codes[3]: 160}
    finished: list[str] = []
    with dask_client(workers=1) as client:
        outs = run_batch("coverage", codes, [CoverageParams()], client=client,
                         db_name=batch_settings.db_name, sizes=sizes,
                         on_done=lambda o: finished.append(o.city))
    assert all(o.ok for o in outs) and [o.city for o in outs] == codes
    assert finished == [codes[2], codes[0], codes[3], codes[1]]


@pytest.mark.parametrize(("analysis", "params", "runs"), [
    ("cases", [CasesParams(permutations=99)], 1),
    ("courier", [CourierParams(preset="courier_1km"), CourierParams(preset="parcel_walk_5min")],
     2),
    ("siting", [PlanParams(p=2, save=True)], 1),
])
def test_the_city_task_stores_every_analysis(batch_settings: Settings, batch_engine: Engine,
                                             analysis: str, params: list[Params],
                                             runs: int) -> None:
    """The task Dask runs, called in this process: the city's runs in one transaction."""
    out = city_task(analysis, "gen001", params, batch_settings.db_name)
    assert out.ok, out.error
    assert len(out.run_ids) == runs and len(out.summaries) == len(params)
    table = "siting_scenario" if analysis == "siting" else "analysis_run"
    with batch_engine.connect() as conn:
        stored = conn.execute(text(f"SELECT count(*) FROM {table} "  # a name of this test
                                   "WHERE id = ANY(:ids)"), {"ids": list(out.run_ids)}).scalar()
    assert stored == runs


def test_a_city_failing_on_its_data_is_reported_and_the_others_are_stored(
        batch_settings: Settings, batch_engine: Engine) -> None:
    with batch_engine.begin() as conn:
        before = _latest_runs(conn)
        create_city(conn, "genempty", name_zh="空城", name_en="Empty",
                    bounds=box(115.0, 27.0, 115.01, 27.01))
    try:
        done = _cli(batch_settings, "analyze", "coverage", "--city", "all", "--workers", "1")
        assert done.returncode == 1
        assert "genempty: failed: InvalidInputError" in done.stderr
        assert "1 of 5 cities failed (the others are stored): genempty" in done.stderr
        with batch_engine.connect() as conn:
            after = _latest_runs(conn)
        assert after.pop("genempty") == []
        for code, ids in after.items():
            assert len([r for r in ids if r not in before[code]]) == 1, code
    finally:
        with batch_engine.begin() as conn:
            conn.execute(text("DELETE FROM city WHERE code = 'genempty'"))
