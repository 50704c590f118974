"""Database creation and versioned migrations (Alembic)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import Connection, Engine, create_engine

from geo.errors import DatabaseUnavailableError
from geo.settings import Settings
from geo.store.cluster_access import admin_conninfo

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection) -> Config:
    """An Alembic config that runs on the given connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "heads") -> None:
    """Apply migrations up to ``revision`` (all branch heads by default) on ``connection`` (the caller commits)."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str = "base") -> None:
    """Revert migrations down to ``revision`` on ``connection`` (the caller commits)."""
    command.downgrade(alembic_config(connection), revision)


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """Revisions the database is at (one per migration branch; empty when at base)."""
    from alembic.runtime.migration import MigrationContext

    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def script_heads() -> tuple[str, ...]:
    """The newest revision of every migration branch shipped with the code."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return tuple(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database(settings: Settings, name: str) -> None:
    """Create database ``name`` with the postgis extension if it does not exist.

    Both steps need more than the application role may do, so they run as the embedded
    cluster's admin role, and the new database is owned by the application role (which
    then creates the schema); with ``SERVICECIRCLE_DATABASE_URL`` they run as that URL's user.
    """
    try:
        with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                owner = (sql.SQL(" OWNER {}").format(sql.Identifier(settings.db_user))
                         if settings.embedded else sql.SQL(""))
                conn.execute(sql.SQL("CREATE DATABASE {}{} ENCODING 'UTF8' TEMPLATE template0")
                             .format(sql.Identifier(name), owner))
        with psycopg.connect(admin_conninfo(settings, name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(
            f"Cannot reach PostgreSQL at {settings.display_url(name)}: is it running? "
            "(`servicecircle db up` starts the embedded cluster)"
        ) from exc


def drop_database(settings: Settings, name: str) -> None:
    """Drop database ``name`` (ending its sessions) if it exists; as the admin role."""
    with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(base: Settings, name: str, *,
                     fill: Callable[[Connection], object] | None = None) -> Iterator[Settings]:
    """A new database ``name`` on ``base``'s server, migrated to head and, with ``fill``,
    filled in one committed transaction (e.g. :func:`geo.demo.load_demo`); dropped on exit.
    Yields ``base`` pointing at it."""
    create_database(base, name)
    try:
        s = replace(base, db_name=name)
        eng = make_engine(s)
        try:
            with eng.begin() as conn:
                upgrade(conn)
            if fill is not None:
                with eng.begin() as conn:
                    fill(conn)
        finally:
            eng.dispose()
        yield s
    finally:
        drop_database(base, name)


def ensure_database(settings: Settings) -> None:
    """Create the configured database if needed and migrate it to head."""
    create_database(settings, settings.database)
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            upgrade(conn)
    finally:
        engine.dispose()


def make_engine(settings: Settings, db_name: str | None = None, **kwargs: object) -> Engine:
    """A SQLAlchemy engine (psycopg 3) for the configured database."""
    return create_engine(settings.url(db_name), pool_pre_ping=True, **kwargs)
