"""The project-managed local PostGIS cluster (the embedded default).

``up`` installs the Debian PostGIS package when missing, initialises a cluster under the
project's state folder, starts PostgreSQL on 127.0.0.1, creates the database with the
``postgis`` extension and applies migrations. When running as root the server runs as the
``postgres`` system user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from geo.errors import DatabaseUnavailableError
from geo.settings import Settings

POSTGIS_PACKAGE = "postgresql-{version}-postgis-3"


@dataclass(frozen=True)
class ClusterStatus:
    """What ``db status`` reports."""

    data_dir: Path
    initialised: bool
    running: bool
    url: str
    postgis_version: str | None = None


def _bindir() -> Path:
    pg_config = shutil.which("pg_config")
    candidates: list[Path] = []
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        candidates += [v / "bin" for v in reversed(versions)]
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise DatabaseUnavailableError(
        "PostgreSQL server binaries not found. Install them with:\n"
        "  sudo apt-get update && sudo apt-get install -y postgresql postgresql-15-postgis-3\n"
        "or set SERVICECIRCLE_DATABASE_URL to an existing PostGIS server."
    )


def _pg_version(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().split()[-1].split(".")[0]


def _sharedir(bindir: Path) -> Path:
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            return Path(out.stdout.strip())
    return Path("/usr/share/postgresql") / _pg_version(bindir)


def ensure_postgis_installed(bindir: Path) -> None:
    """Install Debian's PostGIS package for this server version when it is missing."""
    if (_sharedir(bindir) / "extension" / "postgis.control").exists():
        return
    package = POSTGIS_PACKAGE.format(version=_pg_version(bindir))
    command = f"apt-get update && apt-get install -y {package}"
    if os.geteuid() != 0:
        raise DatabaseUnavailableError(
            f"PostGIS is not installed for this PostgreSQL. Run:\n  sudo sh -c '{command}'"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        if subprocess.run(args, env=env, check=False).returncode != 0:
            raise DatabaseUnavailableError(f"Could not install {package}; run: {command}")


def _as_root() -> bool:
    return os.geteuid() == 0


def _accessible_by_postgres(path: Path) -> bool:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(path)], capture_output=True,
        check=False,
    ).returncode == 0


def data_dir(settings: Settings) -> Path:
    """Folder of the cluster: ``<home>/cluster/pgdata``, or when root and the project
    folder is closed to the ``postgres`` user, a folder under PostgreSQL's home named
    after the project folder."""
    local = settings.home / "cluster" / "pgdata"
    if not _as_root():
        return local
    settings.home.mkdir(parents=True, exist_ok=True)
    if _accessible_by_postgres(settings.home):
        return local
    digest = hashlib.sha1(str(settings.home.resolve()).encode()).hexdigest()[:12]
    return Path(pwd.getpwnam("postgres").pw_dir) / "servicecircle" / digest / "pgdata"


def _run(args: list[str], *, as_postgres: bool) -> subprocess.CompletedProcess[str]:
    if as_postgres:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, capture_output=True, text=True, check=False)


def _prepare_home(settings: Settings, ddir: Path) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    ddir.parent.mkdir(parents=True, exist_ok=True)
    if _as_root():
        pg = pwd.getpwnam("postgres")
        os.chown(ddir.parent, pg.pw_uid, pg.pw_gid)


def is_running(settings: Settings) -> bool:
    ddir = data_dir(settings)
    if not (ddir / "PG_VERSION").exists():
        return False
    res = _run([str(_bindir() / "pg_ctl"), "status", "-D", str(ddir)], as_postgres=_as_root())
    return res.returncode == 0


def up(settings: Settings) -> ClusterStatus:
    """Install (if needed), initialise, start the cluster; create the database and
    extension; apply migrations. Idempotent."""
    if not settings.embedded:
        from geo.store.migrate import ensure_database

        ensure_database(settings)
        return status(settings)
    bindir = _bindir()
    ensure_postgis_installed(bindir)
    ddir = data_dir(settings)
    _prepare_home(settings, ddir)
    as_pg = _as_root()
    if not (ddir / "PG_VERSION").exists():
        res = _run(
            [str(bindir / "initdb"), "-D", str(ddir), "-U", settings.db_user, "-A", "trust",
             "-E", "UTF8", "--locale=C.UTF-8"],
            as_postgres=as_pg,
        )
        if res.returncode != 0:
            raise DatabaseUnavailableError(f"initdb failed:\n{res.stderr.strip()}")
        conf = ddir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# servicecircle embedded cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {settings.pg_port}\n"
                f"unix_socket_directories = '{ddir}'\n"
                "shared_buffers = 256MB\nwork_mem = 32MB\nmaintenance_work_mem = 256MB\n"
                "max_connections = 100\nfsync = on\njit = off\n"
            )
    if not is_running(settings):
        log = ddir.parent / "postgresql.log"
        res = _run(
            [str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(ddir), "-l", str(log)],
            as_postgres=as_pg,
        )
        if res.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else res.stderr
            raise DatabaseUnavailableError(
                f"PostgreSQL did not start on port {settings.pg_port}:\n{tail}\n"
                "If another server uses the port, set SERVICECIRCLE_PG_PORT."
            )
    from geo.store.migrate import ensure_database

    ensure_database(settings)
    return status(settings)


def down(settings: Settings) -> None:
    """Stop the embedded cluster (data is kept)."""
    if not settings.embedded or not is_running(settings):
        return
    res = _run([str(_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data_dir(settings))],
               as_postgres=_as_root())
    if res.returncode != 0:
        raise DatabaseUnavailableError(f"pg_ctl stop failed:\n{res.stderr.strip()}")


def reset(settings: Settings) -> ClusterStatus:
    """Drop and recreate the database (all cities and results are lost), then migrate."""
    if settings.embedded:
        up(settings)
    admin = settings.url("postgres").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (settings.database,)
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(settings.database)))
    from geo.store.migrate import ensure_database

    ensure_database(settings)
    return status(settings)


def status(settings: Settings) -> ClusterStatus:
    """Where the cluster lives, whether it runs, and the PostGIS version."""
    ddir = data_dir(settings) if settings.embedded else Path("-")
    running = is_running(settings) if settings.embedded else True
    version = None
    if running:
        try:
            url = settings.url().replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url, connect_timeout=5) as conn:
                row = conn.execute("SELECT postgis_lib_version()").fetchone()
                version = row[0] if row else None
        except psycopg.Error:
            running = running and settings.embedded
    return ClusterStatus(
        data_dir=ddir,
        initialised=(ddir / "PG_VERSION").exists() if settings.embedded else True,
        running=running,
        url=settings.url(),
        postgis_version=version,
    )
