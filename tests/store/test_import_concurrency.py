"""Concurrent imports on real, separate connections: rows are locked in one order (sorted by
id), so opposite-order files do not deadlock; a deadlock caused by someone else is retried."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from sqlalchemy import Connection, Engine, text

from api.errors import geo_problem
from geo.errors import ConflictError
from geo.store.cities import City, create_city
from geo.store.imports import WRITE_ATTEMPTS, import_file, write_retrying
from geo.store.write import WriteCounts
from tests.store.conftest import TEST_BOUNDS


@pytest.fixture
def shared_city(engine: Engine) -> Iterator[City]:
    """A committed test city (the imports run on connections of their own); dropped after."""
    code = f"t-conc-{uuid.uuid4().hex[:6]}"
    with engine.begin() as conn:
        city = create_city(conn, code, name_zh="并发城", name_en="Concurrency city",
                           bounds=TEST_BOUNDS)
    yield city
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM city WHERE id = :c"), {"c": city.id})


def _import(engine: Engine, city: City, path: Path, start: threading.Barrier) -> int:
    with engine.connect() as conn:
        start.wait(timeout=30)
        report = import_file(conn, city.code, "cases", path, check_offset=False)
        conn.commit()
    return report.inserted + report.updated


def test_opposite_order_imports_do_not_deadlock(engine: Engine, shared_city: City,
                                                tmp_path: Path,
                                                make_cases: Callable[..., pd.DataFrame],
                                                write_csv: Callable[..., Path]) -> None:
    df = make_cases(3000)
    forward = write_csv(tmp_path, df, "forward.csv")
    backward = write_csv(tmp_path, df.iloc[::-1], "backward.csv")
    for _ in range(3):  # a first round inserting, then rounds updating the same rows
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(_import, engine, shared_city, p, start)
                       for p in (forward, backward)]
            assert [f.result(timeout=120) for f in futures] == [3000, 3000]
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM grid_case WHERE city_id = :c"),
                         {"c": shared_city.id}).scalar_one()
    assert n == 3000


def test_a_deadlock_with_another_transaction_is_retried(
        engine: Engine, shared_city: City, tmp_path: Path,
        make_cases: Callable[..., pd.DataFrame], write_csv: Callable[..., Path],
        caplog: pytest.LogCaptureFixture) -> None:
    df = make_cases(200)
    with engine.begin() as conn:
        import_file(conn, shared_city.code, "cases", write_csv(tmp_path, df, "first.csv"),
                    check_offset=False)
    last = df["external_id"].max()
    first = df["external_id"].min()
    other = engine.connect()
    try:
        # another writer holds the import's last row and, once the import waits for it,
        # asks for the import's first row: a lock cycle PostgreSQL breaks by failing one side
        other.execute(text("UPDATE grid_case SET status = status WHERE city_id = :c AND "
                           "external_id = :e"), {"c": shared_city.id, "e": last})
        done = threading.Event()
        other_ok: list[bool] = []

        def other_side() -> None:
            with engine.connect() as probe:  # wait until the import waits for our lock
                for _ in range(600):
                    waiting = probe.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                        "'Lock' AND datname = current_database()")).scalar_one()
                    probe.rollback()  # the activity view is a snapshot per transaction
                    if waiting:
                        break
                    done.wait(0.05)
            try:
                other.execute(text("UPDATE grid_case SET status = status WHERE city_id = :c "
                                   "AND external_id = :e"), {"c": shared_city.id, "e": first})
                other.commit()
                other_ok.append(True)
            except Exception:  # noqa: BLE001 - this side may be the one PostgreSQL fails
                other.rollback()

        thread = threading.Thread(target=other_side)
        thread.start()
        with caplog.at_level(logging.WARNING, logger="servicecircle.imports"), \
                engine.connect() as conn:
            report = import_file(conn, shared_city.code, "cases",
                                 write_csv(tmp_path, df, "again.csv"), check_offset=False)
            conn.commit()
        done.set()
        thread.join(timeout=30)
    finally:
        other.close()
    assert report.updated == 200
    assert other_ok == [True]  # PostgreSQL failed the import, which waited first …
    assert "retrying" in caplog.text  # … and the import was run again


def test_a_write_that_keeps_colliding_is_a_conflict_and_writes_nothing(conn: Connection) -> None:
    calls = []

    def write() -> WriteCounts:
        calls.append(1)
        conn.execute(text("CREATE TEMP TABLE _sc_probe (x int) ON COMMIT DROP"))
        raise psycopg.errors.DeadlockDetected("deadlock detected")

    with pytest.raises(ConflictError, match="try again") as exc:
        write_retrying(conn, write, what="importing x.csv (cases)")
    assert len(calls) == WRITE_ATTEMPTS
    assert conn.execute(text("SELECT to_regclass('_sc_probe')")).scalar() is None
    response = geo_problem(exc.value)
    assert (response.status_code, response.media_type) == (409, "application/problem+json")


def test_other_database_errors_are_not_retried(conn: Connection) -> None:
    calls = []

    def write() -> WriteCounts:
        calls.append(1)
        raise psycopg.errors.UniqueViolation("duplicate key")

    with pytest.raises(psycopg.errors.UniqueViolation):
        write_retrying(conn, write, what="importing x.csv (cases)")
    assert calls == [1]
