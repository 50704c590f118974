"""Faults, on a throwaway PostgreSQL cluster of this module (the shared one is never
stopped): PostgreSQL restarted under load, an import and an analysis killed midway
(SIGKILL), two opposite-order imports at once through the CLI.

- While the database is down every database-backed answer is a 503 problem with
  ``Retry-After`` (never a 500); once it is back the service recovers within 5 s, and the
  pools hand out no dead connection afterwards.
- A process killed in the middle of its transaction leaves the database as it was: the
  rows it had written were never committed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from api.app import create_app
from geo.settings import Settings
from geo.store import cluster, migrate
from tests.conftest import table_checksums
from tests.support import TEST_HOSTS
from tests.support.sample import free_port, live_server, load_sample, tile_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(Settings.from_env().database_url), reason="the embedded cluster only"),
]

CLI = [sys.executable, "-c", "from api.cli import main; main()"]
ROOT = Path(__file__).parents[2]
RECOVERY_S = 5.0


@dataclass(frozen=True)
class Own:
    """The throwaway cluster: its settings (sample cities loaded) and an engine."""

    settings: Settings
    engine: Engine

    def env(self) -> dict[str, str]:
        """Environment of a CLI subprocess working on this cluster."""
        return {**os.environ, "SERVICECIRCLE_HOME": str(self.settings.home),
                "SERVICECIRCLE_PG_PORT": str(self.settings.pg_port), "COLUMNS": "200"}


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Own]:
    home = tmp_path_factory.mktemp("faults") / "home"
    s = Settings.from_env({"SERVICECIRCLE_HOME": str(home),
                           "SERVICECIRCLE_PG_PORT": str(free_port())})
    s = replace(s, allowed_hosts=TEST_HOSTS, db_wait_s=2.0)
    try:
        cluster.up(s)
        eng = migrate.make_engine(s)
        with eng.begin() as conn:
            load_sample(conn)
        yield Own(s, eng)
        eng.dispose()
    finally:
        cluster.down(s)
        shutil.rmtree(cluster.data_dir(s).parent, ignore_errors=True)


def _checksums(engine: Engine) -> dict[str, tuple[int, str]]:
    with engine.connect() as conn:
        return table_checksums(conn)


# --- PostgreSQL restarted under load ---------------------------------------------------------

@dataclass
class Hit:
    at: float
    path: str
    status: int
    retry_after: str | None
    content_type: str


class Load:
    """Requests in a loop from a thread (bounded in time), every answer recorded."""

    def __init__(self, base: str, paths: list[str]) -> None:
        self.base, self.paths, self.hits = base, paths, []  # type: list[Hit]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=self.base, timeout=30) as client:
            i = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                path = self.paths[i % len(self.paths)]
                i += 1
                try:
                    r = client.get(path)
                except httpx.HTTPError:
                    self.hits.append(Hit(time.monotonic(), path, 0, None, ""))
                    continue
                self.hits.append(Hit(time.monotonic(), path, r.status_code,
                                     r.headers.get("retry-after"),
                                     r.headers.get("content-type", "")))
                self._stop.wait(0.01)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def _fresh_tiles() -> Iterator[str]:
    """Tiles not requested before (each one rendered on the tile pool)."""
    z, x0, y0 = tile_of(117.05, 28.25, 16)
    for i in range(10_000):
        yield f"/tiles/compounds/{z}/{x0 + i % 40}/{y0 + i // 40}.mvt"


def test_postgresql_restarted_under_load(own: Own) -> None:
    tiles = _fresh_tiles()
    paths = ["/collections/compounds/items?limit=5", "/health",
             "/layers", next(tiles)]
    with live_server(create_app(own.settings)) as base, Load(base, paths) as load:
        client = httpx.Client(base_url=base, timeout=30)
        assert client.get(paths[0]).status_code == 200
        time.sleep(0.5)
        cluster.down(own.settings)
        down_at = time.monotonic()
        deadline = down_at + 30
        while not [h for h in load.hits if h.at > down_at and h.status == 503]:
            assert time.monotonic() < deadline, "no 503 while the database was down"
            time.sleep(0.05)
        time.sleep(1.0)
        cluster.up(own.settings)
        back_at = time.monotonic()
        while True:  # every kind of request answered again, an unrendered tile included
            statuses = [client.get(p).status_code for p in [*paths[:3], next(tiles)]]
            if all(s in (200, 204) for s in statuses):
                recovered_s = time.monotonic() - back_at
                break
            assert time.monotonic() - back_at < 30, statuses
            time.sleep(0.1)
        # the pools hold no dead connection any more
        burst = [client.get(p).status_code for p in [*paths[:3], next(tiles)] * 10]
        client.close()
    down = [h for h in load.hits if down_at < h.at < back_at]
    print(f"recovered {recovered_s:.2f} s after PostgreSQL was back; {len(down)} answers "
          f"while it was down")
    assert recovered_s < RECOVERY_S, f"recovered after {recovered_s:.1f} s"
    assert set(burst) <= {200, 204}, burst
    assert 0 not in {h.status for h in load.hits}, "a request got no answer"
    assert not [h for h in load.hits if h.status >= 500 and h.status != 503]
    for h in [h for h in load.hits if h.status == 503]:
        assert h.retry_after and int(h.retry_after) > 0, h
        assert h.content_type == "application/problem+json", h
    assert {h.status for h in down if h.path != paths[-1]} >= {503}


# --- killed midway ----------------------------------------------------------------------------

def _wait_for_lock_waiter(engine: Engine, not_pid: int, proc: subprocess.Popen[str]) -> int:
    """The pid of the backend that waits for a lock we hold (the subprocess's)."""
    deadline = time.monotonic() + 120
    with engine.connect() as probe:
        while True:
            pid = probe.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                "datname = current_database() AND pid <> :me"), {"me": not_pid}).scalar()
            probe.rollback()  # the activity view is a snapshot per transaction
            if pid is not None:
                return int(pid)
            assert proc.poll() is None, f"finished before blocking: {proc.communicate()}"
            assert time.monotonic() < deadline, "the subprocess never blocked"
            time.sleep(0.05)


def _kill_midway(own: Own, args: list[str], lock_sql: str) -> tuple[int, str]:
    """Run the CLI with ``args`` while ``lock_sql`` is held, SIGKILL it once it waits for
    that lock (its transaction half written), then release the lock; the killed backend's
    pid and whether it had written (its transaction id)."""
    holder = own.engine.connect()
    try:
        holder.execute(text(lock_sql))
        me = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
        proc = subprocess.Popen([*CLI, *args], env=own.env(), cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        backend = _wait_for_lock_waiter(own.engine, me, proc)
        with own.engine.connect() as probe:
            xid = probe.execute(text("SELECT backend_xid::text FROM pg_stat_activity "
                                     "WHERE pid = :p"), {"p": backend}).scalar()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        holder.rollback()
        holder.close()
    deadline = time.monotonic() + 30
    with own.engine.connect() as probe:  # the orphaned backend ends once it notices
        while probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                            {"p": backend}).scalar_one():
            probe.rollback()
            assert time.monotonic() < deadline, "the killed client's backend lives on"
            time.sleep(0.05)
    return backend, str(xid)


def test_an_import_killed_midway_changes_nothing(own: Own, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 5000
    pd.DataFrame({"external_id": [f"K{i:05d}" for i in range(n)], "category": "sanitation",
                  "reported_at": "2026-03-01 08:00", "status": "reported",
                  "lon": 117.002 + rng.random(n) * 0.096, "lat": 28.202 + rng.random(n) * 0.096}
                 ).to_csv(tmp_path / "cases.csv", index=False)
    before = _checksums(own.engine)
    # the import inserts its rows, then waits to bump grid_case's version counter
    _, xid = _kill_midway(own, ["import", "cases", str(tmp_path / "cases.csv"), "--city",
                                "testville", "--no-offset-check"],
                          "LOCK TABLE layer_version IN SHARE MODE")
    assert xid != "None"  # it had written
    assert _checksums(own.engine) == before


def test_an_analysis_killed_midway_leaves_no_partial_run(own: Own) -> None:
    before = _checksums(own.engine)
    # the run row and its first results are written when it waits to write the gaps
    _, xid = _kill_midway(own, ["analyze", "coverage", "--city", "testville"],
                          "LOCK TABLE coverage_gap IN SHARE MODE")
    assert xid != "None"
    assert _checksums(own.engine) == before
    with own.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM analysis_run")).scalar_one() == 0


# --- opposite-order imports through the CLI ---------------------------------------------------

def test_concurrent_opposite_order_cli_imports_both_succeed(own: Own, tmp_path: Path) -> None:
    n = 3000
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"external_id": [f"O{i:05d}" for i in range(n)], "category": "dispute",
                       "reported_at": "2026-03-02 08:00", "status": "reported",
                       "lon": 117.002 + rng.random(n) * 0.096,
                       "lat": 28.202 + rng.random(n) * 0.096})
    df.to_csv(tmp_path / "forward.csv", index=False)
    df.iloc[::-1].to_csv(tmp_path / "backward.csv", index=False)
    procs = [subprocess.Popen([*CLI, "import", "cases", str(tmp_path / f), "--city", "testville",
                               "--no-offset-check"], env=own.env(), cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for f in ("forward.csv", "backward.csv")]
    outs: list[Any] = [p.communicate(timeout=180) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert "Traceback" not in err
        assert p.returncode == 0 or (p.returncode == 1 and "conflict" in err.lower()), err
    with own.engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM grid_case WHERE external_id LIKE 'O%'")).scalar_one() == n
