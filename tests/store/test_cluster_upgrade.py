"""``db up`` converts a cluster made by an earlier version — every local connection trusted,
the application connected as the bootstrap superuser — into the secured layout and keeps
its data (a developer's existing checkout must keep working with ``make demo``)."""

from __future__ import annotations

import shutil
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from shapely.geometry import box
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from geo.settings import Settings
from geo.store import cluster, keys, migrate
from geo.store.cities import create_city

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(Settings.from_env().database_url), reason="the embedded cluster only"),
]


@dataclass(frozen=True)
class Legacy:
    settings: Settings
    key: str
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _trusted_url(settings: Settings, dbname: str) -> str:
    """How any local account reached an earlier version's cluster: no password at all."""
    return f"postgresql://{settings.db_user}@127.0.0.1:{settings.pg_port}/{dbname}"


def _init_like_earlier_versions(settings: Settings) -> Path:
    """initdb, configure and start exactly as earlier versions of ``cluster.up`` did."""
    bindir, ddir = cluster._bindir(), cluster.data_dir(settings)
    cluster._prepare_home(settings, ddir)
    as_pg = cluster._as_root()
    res = cluster._run([str(bindir / "initdb"), "-D", str(ddir), "-U", settings.db_user,
                        "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"], as_postgres=as_pg)
    assert res.returncode == 0, res.stderr
    with (ddir / "postgresql.conf").open("a") as f:
        f.write(f"listen_addresses = '127.0.0.1'\nport = {settings.pg_port}\n"
                f"unix_socket_directories = '{ddir}'\nshared_buffers = 32MB\nfsync = off\n")
    res = cluster._run([str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(ddir),
                        "-l", str(ddir.parent / "postgresql.log")], as_postgres=as_pg)
    assert res.returncode == 0, res.stderr
    return ddir


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[Legacy]:
    """A running trust cluster of an earlier version with a migrated database holding a city
    and an API key, all owned by the superuser."""
    s = Settings.from_env({"SERVICECIRCLE_HOME": str(tmp_path / "home"),
                           "SERVICECIRCLE_PG_PORT": str(_free_port())})
    ddir = _init_like_earlier_versions(s)
    try:
        with psycopg.connect(_trusted_url(s, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {s.database} TEMPLATE template0")
        with psycopg.connect(_trusted_url(s, s.database), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        eng = create_engine(_trusted_url(s, s.database).replace("://", "+psycopg://", 1))
        with eng.begin() as conn:
            migrate.upgrade(conn)
            create_city(conn, "t-old", name_zh="旧城", name_en="Old town",
                        bounds=box(116.30, 39.99, 116.31, 40.00))
            key = keys.create_key(conn, "old-analyst", role="analyst")[1]
        eng.dispose()
        yield Legacy(s, key, ddir)
    finally:
        cluster.down(s)
        shutil.rmtree(ddir.parent, ignore_errors=True)  # may lie under PostgreSQL's home


def test_up_secures_a_trust_cluster_and_keeps_its_data(legacy: Legacy, tmp_path: Path) -> None:
    s = legacy.settings
    # before: any local account is the superuser, without a password
    with psycopg.connect(_trusted_url(s, s.database)) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                            ).fetchone() == (True,)

    cluster.up(s)

    nopass = f"?passfile={tmp_path / 'none'}"
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(_trusted_url(s, s.database) + nopass)
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
        psycopg.connect(_trusted_url(s, s.database).replace(s.db_user, s.db_admin_user, 1)
                        + nopass + "&password=x")
    hba = (legacy.data_dir / "pg_hba.conf").read_text()
    assert not [line for line in hba.splitlines()
                if "trust" in line.split("#")[0].split()]
    assert stat.S_IMODE(s.passfile.stat().st_mode) == 0o600

    eng = migrate.make_engine(s)
    try:
        with eng.connect() as conn:
            assert conn.execute(text("SELECT current_user, rolsuper FROM pg_roles "
                                     "WHERE rolname = current_user")).one() == (s.db_user, False)
            # the data of before, now reached as the application role
            assert conn.execute(text("SELECT name_en FROM city WHERE code = 't-old'")
                                ).scalar_one() == "Old town"
            assert keys.verify_key(conn, legacy.key) is not None
            assert migrate.current_revisions(conn) == migrate.script_heads()
            # every object of the schema changed hands (only PostGIS's own stay with admin)
            foreign = conn.execute(text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relowner <> current_user::regrole "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
                "AND d.deptype = 'e') AND c.relkind NOT IN ('i', 'c') "
                "UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_namespace n "
                "ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                "AND p.proowner <> current_user::regrole AND NOT EXISTS "
                "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')")).all()
            assert foreign == []
            assert conn.execute(text("SELECT pg_get_userbyid(datdba) FROM pg_database "
                                     "WHERE datname = current_database()")).scalar() == s.db_user
            with pytest.raises(ProgrammingError, match="pg_execute_server_program|superuser"):
                conn.execute(text("COPY (SELECT 1) TO PROGRAM 'true'"))
            conn.rollback()
            # the application role still migrates its schema
            migrate.downgrade(conn, "base")
            migrate.upgrade(conn)
            conn.commit()
    finally:
        eng.dispose()

    # idempotent: a second `up` changes nothing (same password, same rules)
    password, rules = cluster.app_password(s), hba
    cluster.up(s)
    assert cluster.app_password(s) == password
    assert (legacy.data_dir / "pg_hba.conf").read_text() == rules
    with psycopg.connect(cluster.admin_conninfo(s)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s",
                            (cluster.UPGRADE_ROLE,)).fetchone() == (0,)
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE oid = 10").fetchone() == (True,)
