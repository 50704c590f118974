"""The project-managed local PostGIS cluster (the embedded default).

``up`` installs the Debian PostGIS package when missing, initialises a cluster under the
project's state folder, starts PostgreSQL on 127.0.0.1, creates the database with the
``postgis`` extension and applies migrations. When running as root the server runs as the
``postgres`` system user (PostgreSQL refuses to run as root).

Who may connect (``pg_hba.conf``, rewritten by ``up``; no ``trust`` anywhere):

* the superuser ``Settings.db_admin_user`` only through the unix socket, which lives in the
  owner-only data folder, with ``peer`` authentication mapped from the operating-system user
  that owns the cluster (and root); it creates and drops databases and the extension;
* the application role ``Settings.db_user`` (no superuser, no role or database creation)
  only over TCP on 127.0.0.1 with a SCRAM password; it owns the application databases. Its
  random password is kept in ``Settings.passfile`` (a libpq password file, 0600, in a 0700
  folder) and the connection URLs point libpq at that file.

A cluster initialised by an earlier version (everyone trusted, the application connecting
as the bootstrap superuser) is converted by ``up``: the superuser is renamed to the admin
role, a fresh application role takes over the databases and their objects, and the
authentication rules are rewritten and reloaded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from geo.errors import DatabaseUnavailableError
from geo.settings import Settings
from geo.store.cluster_access import (
    _as_root,
    _socket_conninfo,
    admin_conninfo,
    data_dir,
)

POSTGIS_PACKAGE = "postgresql-{version}-postgis-3"
#: pg_ident.conf map from operating-system users to the admin role.
IDENT_MAP = "servicecircle"
#: Superuser that exists only while an old trust cluster's superuser is being renamed.
UPGRADE_ROLE = "servicecircle_upgrade"


@dataclass(frozen=True)
class ClusterStatus:
    """What ``db status`` reports."""

    data_dir: Path
    initialised: bool
    running: bool
    url: str  #: passwords masked
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
    ddir.parent.chmod(0o700)  # the server log and the data folder: the server's user only


# --- secrets --------------------------------------------------------------------------

def app_password(settings: Settings) -> str:
    """The application role's password from :attr:`Settings.passfile`; a new random one is
    generated and stored (file 0600 in a 0700 folder, owned by the caller) when missing."""
    folder, path = settings.secrets_dir, settings.passfile
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    if path.exists():
        path.chmod(0o600)
        for line in path.read_text().splitlines():
            fields = line.split(":")
            if len(fields) == 5 and fields[3] == settings.db_user:
                return fields[4]
    password = secrets.token_urlsafe(32)  # [A-Za-z0-9_-]: nothing to escape in a passfile
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# hostname:port:database:username:password (libpq password file)\n"
                f"127.0.0.1:*:*:{settings.db_user}:{password}\n")
    tmp.replace(path)
    return password


def _scram_matches(verifier: str | None, password: str) -> bool:
    """Whether a stored ``SCRAM-SHA-256$iter:salt$StoredKey:ServerKey`` verifier is the one
    of ``password`` (so ``up`` leaves a correct password alone)."""
    try:
        method, params, keys = (verifier or "").split("$")
        iterations, salt = params.split(":")
        stored_key = keys.split(":")[0]
    except ValueError:
        return False
    if method != "SCRAM-SHA-256":
        return False
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                 int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(base64.b64encode(hashlib.sha256(client_key).digest()).decode(),
                               stored_key)


# --- connections and authentication rules ------------------------------------------------


def _admin_os_users() -> list[str]:
    """Operating-system users mapped to the admin role: the cluster's owner (and root)."""
    if _as_root():
        return ["root", "postgres"]
    return [pwd.getpwuid(os.geteuid()).pw_name]


def _hba(settings: Settings) -> str:
    return (
        "# Managed by `servicecircle db up`, which rewrites this file.\n"
        "# TYPE  DATABASE  USER  ADDRESS  METHOD\n"
        "# the superuser: only the cluster's operating-system owner, through the unix socket\n"
        f"local   all   {settings.db_admin_user}   peer map={IDENT_MAP}\n"
        "# the application role (no superuser): SCRAM password over TCP on the loopback\n"
        f"host    all   {settings.db_user}   127.0.0.1/32   scram-sha-256\n"
    )


def _ident(settings: Settings) -> str:
    lines = [f"{IDENT_MAP}   {u}   {settings.db_admin_user}\n" for u in _admin_os_users()]
    return "# Managed by `servicecircle db up`.\n# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n" + \
        "".join(lines)


def _write_auth_files(settings: Settings, ddir: Path) -> bool:
    """Write pg_hba.conf and pg_ident.conf; True when either changed (reload needed)."""
    changed = False
    for name, text in (("pg_hba.conf", _hba(settings)), ("pg_ident.conf", _ident(settings))):
        path = ddir / name
        if path.exists() and path.read_text() == text:
            continue
        path.write_text(text)  # in place: keeps the server user's ownership and mode 0600
        if _as_root():
            pg = pwd.getpwnam("postgres")
            os.chown(path, pg.pw_uid, pg.pw_gid)
        path.chmod(0o600)
        changed = True
    return changed


def _trusts_anyone(ddir: Path) -> bool:
    """Whether pg_hba.conf has a ``trust`` rule (a cluster made by an earlier version)."""
    path = ddir / "pg_hba.conf"
    if not path.exists():
        return False
    rules = (line.split("#")[0].split() for line in path.read_text().splitlines())
    return any(r and r[0] in {"local", "host", "hostssl", "hostnossl", "hostgssenc",
                              "hostnogssenc"} and "trust" in r for r in rules)


def _connect(conninfo: str) -> psycopg.Connection:
    return psycopg.connect(conninfo, autocommit=True)


def _admin_connection(settings: Settings, ddir: Path) -> psycopg.Connection:
    """A superuser session through the unix socket; converts a trust cluster of an earlier
    version (superuser named like the application role) first."""
    try:
        return _connect(_socket_conninfo(settings, ddir, settings.db_admin_user))
    except psycopg.OperationalError as exc:
        if not _trusts_anyone(ddir):
            raise DatabaseUnavailableError(
                f"Cannot connect to the embedded cluster in {ddir} as "
                f"{settings.db_admin_user!r} through its unix socket: {exc}") from exc
    _rename_legacy_superuser(settings, ddir)
    return _connect(_socket_conninfo(settings, ddir, settings.db_admin_user))


def _rename_legacy_superuser(settings: Settings, ddir: Path) -> None:
    """Rename the bootstrap superuser of a trust cluster (``db_user``) to ``db_admin_user``.

    A session user cannot be renamed, so a temporary superuser does it; sessions of the old
    superuser (e.g. a running service) are ended so they come back as the application role.
    """
    with _connect(_socket_conninfo(settings, ddir, settings.db_user)) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if not (row and row[0]):
            raise DatabaseUnavailableError(
                f"The cluster in {ddir} trusts local connections but {settings.db_user!r} is "
                "not its superuser; fix pg_hba.conf by hand.")
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                            (UPGRADE_ROLE,)).fetchone():
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER")
                         .format(sql.Identifier(UPGRADE_ROLE)))
    with _connect(_socket_conninfo(settings, ddir, UPGRADE_ROLE)) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} RENAME TO {}").format(
            sql.Identifier(settings.db_user), sql.Identifier(settings.db_admin_user)))
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE usename = %s AND pid <> pg_backend_pid()", (settings.db_admin_user,))


def _ensure_app_role(conn: psycopg.Connection, settings: Settings) -> None:
    """Create or correct the application role: login, no superuser or other power, and the
    password of the passfile."""
    password = app_password(settings)
    role = sql.Identifier(settings.db_user)
    attrs = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
    row = conn.execute(
        "SELECT r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication "
        "OR r.rolbypassrls OR NOT r.rolcanlogin, a.rolpassword "
        "FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = %s",
        (settings.db_user,)).fetchone()
    if row is None:
        conn.execute(sql.SQL("CREATE ROLE {} {}").format(role, attrs))
    elif row[0]:
        conn.execute(sql.SQL("ALTER ROLE {} {}").format(role, attrs))
    if row is None or not _scram_matches(row[1], password):
        # the SCRAM verifier is computed here, so the password itself never reaches the
        # server (nor its log, should the statement fail)
        verifier = conn.pgconn.encrypt_password(password.encode(), settings.db_user.encode(),
                                                b"scram-sha-256").decode()
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(verifier)))
    granted = conn.execute(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s AND (r.rolsuper "
        "OR r.rolname IN ('pg_execute_server_program', 'pg_read_server_files', "
        "'pg_write_server_files', 'pg_read_all_data', 'pg_write_all_data', "
        "'pg_signal_backend'))", (settings.db_user,)).fetchall()
    for (powerful,) in granted:
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(powerful), role))


#: ALTER … OWNER statements handing a database's own objects (not the system's, not an
#: extension's) from the admin role to the application role.
_HAND_OVER = """
WITH ns AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema')
      AND nspname NOT LIKE 'pg\\_toast%%' AND nspname NOT LIKE 'pg\\_temp%%'
), ext AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
), admin AS (
    SELECT oid FROM pg_roles WHERE rolname = %(admin)s::text
)
SELECT format('ALTER SCHEMA %%I OWNER TO %%I', n.nspname, %(app)s::text)
FROM pg_namespace n
WHERE n.oid IN (SELECT oid FROM ns) AND n.nspowner IN (SELECT oid FROM admin)
  AND ('pg_namespace'::regclass, n.oid) NOT IN (SELECT classid, objid FROM ext)
UNION ALL
SELECT format('ALTER %%s %%s OWNER TO %%I',
              CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                             WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                             ELSE 'TABLE' END,
              c.oid::regclass, %(app)s::text)
FROM pg_class c
WHERE c.relnamespace IN (SELECT oid FROM ns) AND c.relowner IN (SELECT oid FROM admin)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND ('pg_class'::regclass, c.oid) NOT IN (SELECT classid, objid FROM ext)
  AND NOT (c.relkind = 'S' AND EXISTS (  -- serial/identity sequences follow their table
      SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT format('ALTER ROUTINE %%s OWNER TO %%I', p.oid::regprocedure, %(app)s::text)
FROM pg_proc p
WHERE p.pronamespace IN (SELECT oid FROM ns) AND p.proowner IN (SELECT oid FROM admin)
  AND ('pg_proc'::regclass, p.oid) NOT IN (SELECT classid, objid FROM ext)
UNION ALL
SELECT format('ALTER TYPE %%s OWNER TO %%I', t.oid::regtype, %(app)s::text)
FROM pg_type t
WHERE t.typnamespace IN (SELECT oid FROM ns) AND t.typowner IN (SELECT oid FROM admin)
  AND (t.typtype IN ('d', 'e', 'r')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND ('pg_type'::regclass, t.oid) NOT IN (SELECT classid, objid FROM ext)
UNION ALL
SELECT format('ALTER STATISTICS %%I.%%I OWNER TO %%I', n.nspname, s.stxname, %(app)s::text)
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxnamespace IN (SELECT oid FROM ns) AND s.stxowner IN (SELECT oid FROM admin)
"""


def _hand_over_databases(conn: psycopg.Connection, settings: Settings, ddir: Path) -> None:
    """Give every application database not yet owned by the application role (those of an
    earlier version), and the objects in it, to that role."""
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
        "AND datname <> 'postgres' AND datdba <> (SELECT oid FROM pg_roles WHERE rolname = %s)",
        (settings.db_user,)).fetchall()
    for (name,) in rows:
        conninfo = _socket_conninfo(settings, ddir, settings.db_admin_user, name)
        with _connect(conninfo) as db, db.transaction():
            statements = db.execute(_HAND_OVER, {"admin": settings.db_admin_user,
                                                 "app": settings.db_user}).fetchall()
            for (stmt,) in statements:
                db.execute(stmt)
        # last, so an interrupted hand-over is resumed by the next `up`
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(name), sql.Identifier(settings.db_user)))


def secure(settings: Settings) -> None:
    """Make the running embedded cluster safe: the application role without superuser and
    with its password, the databases owned by it, and password/peer authentication only
    (an old trust cluster is converted). Idempotent; cheap when nothing is to be done."""
    ddir = data_dir(settings)
    with _admin_connection(settings, ddir) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (UPGRADE_ROLE,)).fetchone():
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(UPGRADE_ROLE)))
        _ensure_app_role(conn, settings)
        _hand_over_databases(conn, settings, ddir)
        was_trusting = _trusts_anyone(ddir)
        if _write_auth_files(settings, ddir):
            conn.execute("SELECT pg_reload_conf()")
        if was_trusting:
            # sessions opened under the old rules (as anyone, without a password) end now
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")


def ready(settings: Settings) -> bool:
    """Whether the embedded cluster runs and has been secured (its password file exists)."""
    return is_running(settings) and settings.passfile.exists()


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
            [str(bindir / "initdb"), "-D", str(ddir), "-U", settings.db_admin_user,
             "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8",
             "--locale=C.UTF-8"],
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
                "unix_socket_permissions = 0700\n"
                "password_encryption = 'scram-sha-256'\n"
                "shared_buffers = 256MB\nwork_mem = 32MB\nmaintenance_work_mem = 256MB\n"
                "max_connections = 100\nfsync = on\njit = off\n"
            )
        _write_auth_files(settings, ddir)
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
    secure(settings)
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
    with psycopg.connect(admin_conninfo(settings), autocommit=True) as conn:
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
        url=settings.display_url(),
        postgis_version=version,
    )
