"""Where the embedded cluster lives and how its administrator connects.

Shared by :mod:`geo.store.cluster` (which starts and secures the cluster) and
:mod:`geo.store.migrate` (which creates databases and extensions as the administrator).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import subprocess
from pathlib import Path

from psycopg.conninfo import make_conninfo

from geo.settings import Settings


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


def admin_conninfo(settings: Settings, dbname: str = "postgres") -> str:
    """libpq connection string with the right to create and drop databases and extensions:
    the embedded cluster's superuser through its unix socket, or the configured server."""
    if not settings.embedded:
        return settings.url(dbname).replace("postgresql+psycopg://", "postgresql://")
    return make_conninfo(host=str(data_dir(settings)), port=settings.pg_port,
                         user=settings.db_admin_user, dbname=dbname, connect_timeout=10)


def _socket_conninfo(settings: Settings, ddir: Path, user: str, dbname: str = "postgres") -> str:
    return make_conninfo(host=str(ddir), port=settings.pg_port, user=user, dbname=dbname,
                         connect_timeout=10)
