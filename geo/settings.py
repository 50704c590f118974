"""The one place where settings are read.

Settings come from environment variables (prefix ``SERVICECIRCLE_``) and are built
explicitly with :meth:`Settings.from_env`; nothing reads the environment at import time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: Default walking speed: 75 m/min = 4.5 km/h, the pace behind GB 50180-2018's
#: life circles (15 min ≈ 800–1,000 m of walking along streets, 5 min ≈ 300 m).
DEFAULT_WALK_SPEED_M_PER_MIN = 75.0
#: Default e-bike speed of couriers on urban streets: 15 km/h = 250 m/min (the
#: 25 km/h legal cap of GB 17761-2018 minus stops at crossings and gates).
DEFAULT_RIDE_SPEED_M_PER_MIN = 250.0
#: Polygon trim distance of the service circles (metres): land farther than this from
#: every street is in no circle; nearer, it takes the walk time of its nearest street
#: access point (the default of network service-area "detailed polygons", ArcGIS Network
#: Analyst; half the width of a 200 m urban block).
#: See :mod:`geo.coverage.analysis`.
DEFAULT_TRIM_M: float = 100.0
#: Cell size of the grid the circles are drawn on (metres; boundaries within one cell).
DEFAULT_CELL_M: float = 10.0


def _default_home() -> Path:
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / ".servicecircle"
    return Path.cwd() / ".servicecircle"


def _flag(value: str) -> bool:
    """``1/true/yes/on`` → True, ``0/false/no/off`` → False; anything else is an error."""
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _names(value: str) -> tuple[str, ...]:
    """``"a.org, b.org"`` → ``("a.org", "b.org")``."""
    return tuple(n.strip().lower() for n in value.split(",") if n.strip())


@dataclass(frozen=True)
class Settings:
    """Deployment settings.

    ``database_url`` set means "use that PostGIS server"; unset means the project-managed
    local cluster under ``home`` on ``pg_port``: the application connects as ``db_user``
    (no superuser) with the password kept in :attr:`passfile`; ``db_admin_user`` is the
    cluster's superuser, reachable only through its unix socket by the cluster's owner.
    """

    database_url: str | None = None
    home: Path = field(default_factory=_default_home)
    pg_port: int = 55432
    db_name: str = ""  # "" = the database named in database_url, else "servicecircle"
    db_user: str = "servicecircle"
    db_admin_user: str = "servicecircle_admin"
    host: str = "127.0.0.1"
    port: int = 8000
    #: Host names (``Host`` header) the service answers to besides ``host`` and the
    #: loopback names; ``*.example.org`` matches subdomains, ``*`` any host (links in
    #: responses are built from the Host header, so only names you trust belong here).
    allowed_hosts: tuple[str, ...] = ()
    basemap_url: str | None = None
    #: The map's basemap: ``osm`` (the city's own OpenStreetMap extract, offline), or an
    #: online one: ``tianditu`` (天地图, needs ``basemap_key``; CGCS2000 ≈ WGS-84),
    #: ``amap`` (高德) or ``tencent`` (腾讯) (GCJ-02 tiles: the map shifts them onto our
    #: WGS-84 data), ``xyz`` (``basemap_url``). Online ones show ``basemap_review_number``
    #: (审图号, as the provider publishes it) with their attribution.
    basemap: str = "osm"
    basemap_key: str | None = None
    basemap_review_number: str | None = None
    #: The city ``/map`` opens on without ``?city=`` (default: the first demo city present).
    default_city: str | None = None
    walk_speed_m_per_min: float = DEFAULT_WALK_SPEED_M_PER_MIN
    ride_speed_m_per_min: float = DEFAULT_RIDE_SPEED_M_PER_MIN
    max_snap_m: float = 250.0
    #: Trunk roads (``highway=trunk|trunk_link``) without sidewalk or foot tags are
    #: walkable (OSMnx's walk network) instead of not (rule ``trunk_untagged`` of
    #: :data:`geo.network.walkable.WALK_RULES`); applied when a city's network is built.
    walk_trunk_by_default: bool = False
    #: ``city add`` warns when the largest part of the walking network holds less than this
    #: share of its street length, and names the other parts.
    largest_component_min_share: float = 0.8
    #: Service circles: polygon trim distance and drawing cell size, metres
    #: (:mod:`geo.coverage.analysis`).
    circle_trim_m: float = DEFAULT_TRIM_M
    circle_cell_m: float = DEFAULT_CELL_M
    max_upload_bytes: int = 50 * 1024 * 1024
    #: Largest request body of any other endpoint (JSON); 10,000 candidate sites fit.
    max_body_bytes: int = 2 * 1024 * 1024
    #: Database-backed requests served at once per server process; more wait in line.
    #: Each process opens at most 2 × this many connections (+ 8 for tiles): keep
    #: workers × (2 × db_slots + 8) under the server's ``max_connections`` (100 embedded).
    db_slots: int = 10
    #: Seconds a request waits for a database slot or connection before a 503.
    db_wait_s: float = 20.0
    min_public_case_count: int = 5
    #: Longest SQL statement of a request-serving connection (seconds; 0 = no limit).
    statement_timeout_s: float = 30.0
    #: Expensive analyses (density, hot spots, comparison, siting) computed at once per
    #: client (API key, else address) and in total; more get 429 with Retry-After.
    expensive_per_client: int = 2
    expensive_total: int = 4
    #: In-process cache of expensive case results, megabytes (0 = off).
    analysis_cache_mb: int = 64
    #: Most H3 cells one analysis may evaluate (study area / cell area, estimated first),
    #: for callers below the analyst role and for analysts.
    public_max_cells: int = 20_000
    analyst_max_cells: int = 200_000
    #: Most H3 cells within a kernel's reach (4 bandwidths): bounds the bandwidth relative
    #: to the resolution.
    public_max_kernel_cells: int = 2_000
    analyst_max_kernel_cells: int = 20_000
    #: Most Gi* permutations for callers below the analyst role (analysts: 9,999).
    public_max_permutations: int = 999
    #: Siting plans of callers below the analyst role: most new stations, longest solver
    #: time (seconds) and closest candidate spacing (metres).
    public_max_siting_p: int = 20
    public_max_solve_s: float = 20.0
    public_min_spacing_m: float = 50.0
    #: Seconds a server process keeps the result of checking an API key (0 = check every
    #: request): a key revoked elsewhere (CLI, another process) stops working within this.
    key_cache_s: float = 5.0
    #: Show Python tracebacks of the command line's errors (developers).
    debug: bool = False
    #: Dask scheduler of ``analyze … --city all`` (``tcp://host:8786``); unset: an embedded
    #: cluster of one worker process per CPU (:mod:`geo.runs.batch`).
    dask_scheduler: str | None = None
    #: ``analyze coverage --city all``: a city with more compounds than this is computed in
    #: ``ceil(compounds / this)`` parts by service type on several workers, then stored as
    #: one run (:mod:`geo.runs.batch`); about a minute of one worker's time at 8 ms a
    #: compound. 0 = never split.
    batch_split_compounds: int = 8_000
    #: Rendered tiles kept in the database's ``tile_cache`` table, shared by every server
    #: process (``serve --workers N``, several hosts); 0 = each process caches alone.
    shared_tile_cache_entries: int = 200_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``SERVICECIRCLE_*`` variables (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        s = cls()
        conv: dict[str, tuple[str, Callable[[str], Any]]] = {
            "DATABASE_URL": ("database_url", str),
            "HOME": ("home", Path),
            "PG_PORT": ("pg_port", int),
            "DB_NAME": ("db_name", str),
            "HOST": ("host", str),
            "PORT": ("port", int),
            "ALLOWED_HOSTS": ("allowed_hosts", _names),
            "BASEMAP_URL": ("basemap_url", str),
            "BASEMAP": ("basemap", str),
            "BASEMAP_KEY": ("basemap_key", str),
            "BASEMAP_REVIEW_NUMBER": ("basemap_review_number", str),
            "DEFAULT_CITY": ("default_city", str),
            "WALK_SPEED_M_PER_MIN": ("walk_speed_m_per_min", float),
            "RIDE_SPEED_M_PER_MIN": ("ride_speed_m_per_min", float),
            "MAX_SNAP_M": ("max_snap_m", float),
            "WALK_TRUNK_BY_DEFAULT": ("walk_trunk_by_default", _flag),
            "LARGEST_COMPONENT_MIN_SHARE": ("largest_component_min_share", float),
            "CIRCLE_TRIM_M": ("circle_trim_m", float),
            "CIRCLE_CELL_M": ("circle_cell_m", float),
            "MAX_UPLOAD_BYTES": ("max_upload_bytes", int),
            "MAX_BODY_BYTES": ("max_body_bytes", int),
            "DB_SLOTS": ("db_slots", int),
            "DB_WAIT_S": ("db_wait_s", float),
            "MIN_PUBLIC_CASE_COUNT": ("min_public_case_count", int),
            "STATEMENT_TIMEOUT_S": ("statement_timeout_s", float),
            "EXPENSIVE_PER_CLIENT": ("expensive_per_client", int),
            "EXPENSIVE_TOTAL": ("expensive_total", int),
            "ANALYSIS_CACHE_MB": ("analysis_cache_mb", int),
            "PUBLIC_MAX_CELLS": ("public_max_cells", int),
            "ANALYST_MAX_CELLS": ("analyst_max_cells", int),
            "PUBLIC_MAX_KERNEL_CELLS": ("public_max_kernel_cells", int),
            "ANALYST_MAX_KERNEL_CELLS": ("analyst_max_kernel_cells", int),
            "PUBLIC_MAX_PERMUTATIONS": ("public_max_permutations", int),
            "PUBLIC_MAX_SITING_P": ("public_max_siting_p", int),
            "PUBLIC_MAX_SOLVE_S": ("public_max_solve_s", float),
            "PUBLIC_MIN_SPACING_M": ("public_min_spacing_m", float),
            "KEY_CACHE_S": ("key_cache_s", float),
            "DEBUG": ("debug", _flag),
            "DASK_SCHEDULER": ("dask_scheduler", str),
            "BATCH_SPLIT_COMPOUNDS": ("batch_split_compounds", int),
            "SHARED_TILE_CACHE_ENTRIES": ("shared_tile_cache_entries", int),
        }
        changes: dict[str, Any] = {}
        for key, (attr, typ) in conv.items():
            value = env.get(f"SERVICECIRCLE_{key}")
            if value:
                changes[attr] = typ(value)
        return replace(s, **changes)

    @property
    def embedded(self) -> bool:
        """True when the project manages its own local PostGIS cluster."""
        return not self.database_url

    @property
    def database(self) -> str:
        """Name of the database in use."""
        if self.db_name:
            return self.db_name
        if self.database_url:
            return self.database_url.split("?")[0].rpartition("/")[2] or "postgres"
        return "servicecircle"

    @property
    def secrets_dir(self) -> Path:
        """Owner-only folder (0700) holding the embedded cluster's secrets."""
        return (self.home / "secrets").absolute()

    @property
    def passfile(self) -> Path:
        """libpq password file (0600) with the application role's password."""
        return self.secrets_dir / "pgpass"

    def url(self, db_name: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of the database in use, or of ``db_name``.

        For the embedded cluster the URL names the application role and the password file;
        libpq reads the password from it when connecting, so the URL holds no secret.
        """
        name = db_name or self.db_name
        if self.database_url:
            url = self.database_url
            for prefix in ("postgresql://", "postgres://"):
                if url.startswith(prefix):
                    url = "postgresql+psycopg://" + url[len(prefix):]
            if name:
                path, _, query = url.partition("?")
                url = f"{path.rpartition('/')[0]}/{name}" + (f"?{query}" if query else "")
            return url
        return (f"postgresql+psycopg://{self.db_user}@127.0.0.1:{self.pg_port}/"
                f"{name or self.database}?passfile={quote(str(self.passfile), safe='')}")

    def display_url(self, db_name: str | None = None) -> str:
        """:meth:`url` with any password masked (and the password file's path readable),
        for printing."""
        return unquote(mask_password(self.url(db_name)))


def mask_password(url: str) -> str:
    """``url`` with the password of its user part and any ``password=`` parameter masked."""
    scheme, sep, rest = url.partition("://")
    if sep:
        cut = len(re.split(r"[?#]", rest, maxsplit=1)[0])
        head, tail = rest[:cut], rest[cut:]
        userinfo, at, hostpart = head.rpartition("@")
        if at and ":" in userinfo:
            url = f"{scheme}://{userinfo.partition(':')[0]}:***@{hostpart}{tail}"
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)
