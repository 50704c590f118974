"""The embedded cluster trusts nobody: the application role is no superuser, connections
need its password (or, for the admin role, the cluster owner's unix socket), and the
password is kept owner-only.

These tests attack the session's cluster the way a local account could before: connecting
over TCP without a password and running ``COPY … TO PROGRAM``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from geo.settings import Settings
from geo.store import cluster

pytestmark = pytest.mark.skipif(bool(Settings.from_env().database_url),
                                reason="the embedded cluster only")


def _tcp(settings: Settings, tmp_path: Path, **kw: str) -> psycopg.Connection:
    """Connect over TCP like any local account would, without the project's password file."""
    params = {"host": "127.0.0.1", "port": str(settings.pg_port), "dbname": settings.database,
              "user": settings.db_user, "passfile": str(tmp_path / "no-passfile"),
              "connect_timeout": "10", **kw}
    return psycopg.connect(make_conninfo(**params))


@pytest.fixture(autouse=True)
def _no_password_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGUSER"):
        monkeypatch.delenv(var, raising=False)


def test_application_role_is_not_a_superuser(conn: Connection, settings: Settings) -> None:
    row = conn.execute(text(
        "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, "
        "pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER'), "
        "pg_has_role(current_user, 'pg_read_server_files', 'MEMBER') "
        "FROM pg_roles WHERE rolname = current_user")).one()
    assert row[0] == settings.db_user
    assert not any(row[1:])
    # …yet it owns the application's tables (the schema is created and migrated by it)
    assert conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'api_key'")
                        ).scalar_one() == settings.db_user


def test_copy_to_program_is_refused(conn: Connection, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(ProgrammingError, match="pg_execute_server_program|superuser"):
        conn.execute(text(f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'"))
    assert not marker.exists()


def test_server_files_are_not_readable(conn: Connection) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("SELECT pg_read_file('postgresql.conf')"))


def test_tcp_without_password_is_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(psycopg.OperationalError, match="password"):
        _tcp(settings, tmp_path)


def test_tcp_with_a_wrong_password_is_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _tcp(settings, tmp_path, password="servicecircle")


@pytest.mark.parametrize("user", ["admin", "postgres", "nobody"])
def test_tcp_as_any_other_role_is_refused(settings: Settings, tmp_path: Path, user: str) -> None:
    name = settings.db_admin_user if user == "admin" else user
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
        _tcp(settings, tmp_path, user=name, password="x")


def test_socket_admits_only_the_admin_role(settings: Settings) -> None:
    ddir = cluster.data_dir(settings)
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
        psycopg.connect(make_conninfo(host=str(ddir), port=settings.pg_port, dbname="postgres",
                                      user=settings.db_user, connect_timeout=10))
    with psycopg.connect(cluster.admin_conninfo(settings)) as conn:
        assert conn.execute("SELECT current_setting('listen_addresses'), "
                            "current_setting('unix_socket_directories')").fetchone() == (
            "127.0.0.1", str(ddir))
    assert stat.S_IMODE(ddir.stat().st_mode) == 0o700  # the socket's folder


def test_no_trust_rule_is_left(settings: Settings) -> None:
    ddir = cluster.data_dir(settings)
    rules = [line.split() for line in (ddir / "pg_hba.conf").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert rules, "pg_hba.conf has no rule"
    assert not [r for r in rules if "trust" in r]
    with psycopg.connect(cluster.admin_conninfo(settings)) as conn:
        methods = {r[0] for r in conn.execute("SELECT auth_method FROM pg_hba_file_rules")}
    assert methods == {"peer", "scram-sha-256"}


def test_password_file_is_owner_only(settings: Settings) -> None:
    folder, passfile = settings.secrets_dir.stat(), settings.passfile.stat()
    assert stat.S_IMODE(folder.st_mode) == 0o700 and folder.st_uid == os.geteuid()
    assert stat.S_IMODE(passfile.st_mode) == 0o600 and passfile.st_uid == os.geteuid()
    password = cluster.app_password(settings)
    assert len(password) >= 32
    assert password not in settings.url() and password not in cluster.status(settings).url


def test_password_file_lets_the_application_in(settings: Settings, tmp_path: Path) -> None:
    with _tcp(settings, tmp_path, passfile=str(settings.passfile)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (settings.db_user,)
