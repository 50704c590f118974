"""Test fixtures: a throwaway PostGIS database per test session, one transaction per test.

The database lives in the project-managed cluster (or the server named by
``SERVICECIRCLE_DATABASE_URL``); it is created, migrated, and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from geo.settings import Settings
from geo.store import cluster, migrate
from tests.support import TEST_HOSTS

#: The sample cities' database, app, live servers and API keys (tests/api, tests/browser, …).
pytest_plugins = ("tests.support.mapservice_fixtures",)

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    """Settings pointing at a fresh, migrated database of this test session."""
    base = Settings.from_env()
    if base.embedded:
        cluster.up(base)
    name = f"sc_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    migrate.create_database(base, name)
    s = replace(base, db_name=name, allowed_hosts=TEST_HOSTS)
    yield s
    migrate.drop_database(base, name)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = migrate.make_engine(settings)
    with eng.begin() as conn:
        migrate.upgrade(conn)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


@pytest.fixture
def demo(demo_engine: Engine) -> Iterator[Connection]:
    """A connection to the demo cities in a transaction rolled back after the test."""
    with demo_engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and other files tests leave for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_engine(engine: Engine) -> Engine:
    """The session database with both demo cities (guixi, wudaokou) loaded and committed."""
    from geo.demo import load_demo

    with engine.begin() as connection:
        load_demo(connection)
    return engine


def table_checksums(conn: Connection) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of the sorted rows of every table of the public schema, to
    show that a rejected import changed nothing."""
    from sqlalchemy import text

    tables = conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'spatial_ref_sys' ORDER BY 1")).scalars().all()
    out = {}
    for t in tables:
        q = (f'SELECT count(*), coalesce(md5(string_agg(r::text, \'|\' ORDER BY r::text)), \'\') '
             f'FROM "{t}" r')
        n, digest = conn.execute(text(q)).one()
        out[t] = (int(n), str(digest))
    return out


@pytest.fixture
def checksums() -> Callable[[Connection], dict[str, tuple[int, str]]]:
    """``checksums(conn)``: :func:`table_checksums`, for before/after comparisons."""
    return table_checksums
