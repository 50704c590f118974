"""Expensive analyses (kernel density, hot spots, period comparison, siting): bounded
parameters, cached results, per-client concurrency limits, statement timeouts.

- **Bounds** are checked before any computation: the H3 cells an analysis evaluates
  (study area / mean cell area at the resolution) and the cells within a kernel's reach
  (π (4 bandwidths)² / cell area) are capped, with higher caps for analysts
  (``Settings.*_max_cells``, ``*_max_kernel_cells``, ``public_max_permutations``). Too
  much is a 422 problem naming the fields and the limit.
- **Cache**: results are kept in an in-process LRU (``Settings.analysis_cache_mb``) keyed by
  the endpoint, the effective parameters, the access level and the ``layer_version``
  counters of the input tables, so any data change makes old entries unreachable.
- **Siting** (:func:`check_siting`): bounded stations, solver time and candidate spacing
  for callers below the analyst role; case-weighted demand needs the analyst role.
- **Concurrency**: at most ``Settings.expensive_per_client`` analyses per client (API key
  name, else client address) and ``Settings.expensive_total`` in all run at once; the
  next gets 429 with ``Retry-After``. Cache hits take no slot.
- **Statement timeout**: request-serving connections run with
  ``statement_timeout = Settings.statement_timeout_s`` (:func:`api.db.connect_options`); a
  statement cut off is a 503 problem.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import h3
from fastapi import Request
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from api.auth import CurrentUser, User, check_role
from geo.errors import InvalidInputError, Problem, TooManyRequestsError
from geo.settings import Settings
from geo.store.cache import SizedLRU
from geo.store.cities import data_version

#: Seconds a client refused for concurrency is asked to wait.
RETRY_AFTER_S = 5
#: Tables whose change counters version cached case results.
CASE_TABLES = ("grid_case", "grid", "city")


def client_id(request: Request, user: User) -> str:
    """Who an analysis is counted against: the API key's name, else the client address."""
    if not user.anonymous and user.name:
        return f"key:{user.name}"
    return f"addr:{request.client.host if request.client else 'unknown'}"


class ConcurrencyLimiter:
    """At most ``per_client`` running analyses per client and ``total`` in all."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    @property
    def running(self) -> int:
        with self._lock:
            return sum(self._running.values())

    @contextmanager
    def slot(self, client: str) -> Iterator[None]:
        """Hold one slot for ``client``; :class:`TooManyRequestsError` (429) if none free."""
        with self._lock:
            mine = self._running.get(client, 0)
            if mine >= self.per_client:
                raise TooManyRequestsError(
                    f"at most {self.per_client} expensive analyses per client run at once; "
                    "wait for the running ones", retry_after_s=RETRY_AFTER_S)
            if sum(self._running.values()) >= self.total:
                raise TooManyRequestsError(
                    "the server is busy with other analyses; try again shortly",
                    retry_after_s=RETRY_AFTER_S)
            self._running[client] = mine + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[client] - 1
                if left:
                    self._running[client] = left
                else:
                    del self._running[client]


_STATE_LOCK = threading.Lock()


def limiter(request: Request) -> ConcurrencyLimiter:
    """The app's limiter (created on first use from its settings)."""
    state = request.app.state
    with _STATE_LOCK:
        if getattr(state, "expensive_limiter", None) is None:
            s: Settings = state.settings
            state.expensive_limiter = ConcurrencyLimiter(s.expensive_per_client,
                                                         s.expensive_total)
    out: ConcurrencyLimiter = state.expensive_limiter
    return out


def result_cache(request: Request) -> SizedLRU[bytes]:
    """The app's cache of expensive results (created on first use)."""
    state = request.app.state
    with _STATE_LOCK:
        if getattr(state, "analysis_cache", None) is None:
            state.analysis_cache = SizedLRU(state.settings.analysis_cache_mb * 1024 * 1024, size_of=len)
    out: SizedLRU[bytes] = state.analysis_cache
    return out


def cache_key(conn: Connection, endpoint: str, *parts: Any) -> tuple[Any, ...]:
    """``(endpoint, *parts, versions of CASE_TABLES)``: stale once any input table changes."""
    versions = data_version(conn, CASE_TABLES)
    return (endpoint, *parts, tuple(sorted(versions.items())))


@contextmanager
def expensive_slot(request: Request, user: User) -> Iterator[None]:
    """Hold a concurrency slot of the caller for the block (429 when none is free)."""
    with limiter(request).slot(client_id(request, user)):
        yield


def siting_slot(request: Request, user: CurrentUser) -> Iterator[None]:
    """Dependency form of :func:`expensive_slot` (siting plans, what-if, reports,
    re-gridding)."""
    with expensive_slot(request, user):
        yield


# --- bounds ----------------------------------------------------------------------------

def area_m2(area: BaseGeometry, epsg: int) -> float:
    """Area (m²) of a geometry given in EPSG:4326, measured in the projected CRS ``epsg``."""
    return float(gpd.GeoSeries([area], crs=4326).to_crs(epsg).area.iloc[0])


def estimated_cells(area: BaseGeometry, resolution: int, epsg: int) -> int:
    """H3 cells at ``resolution`` needed to cover ``area`` (area / mean cell area)."""
    return math.ceil(area_m2(area, epsg) / h3.average_hexagon_area(resolution, unit="m^2"))


def kernel_cells(bandwidth_m: float, resolution: int) -> int:
    """H3 cells within a Gaussian kernel's reach (4 bandwidths) at ``resolution``."""
    return math.ceil(math.pi * (4 * bandwidth_m) ** 2
                     / h3.average_hexagon_area(resolution, unit="m^2"))


def max_bandwidth_m(resolution: int, max_kernel_cells: int) -> float:
    """Largest bandwidth (m, whole metres) whose reach stays within ``max_kernel_cells``."""
    return math.floor(math.sqrt(max_kernel_cells * h3.average_hexagon_area(
        resolution, unit="m^2") / math.pi) / 4)


def check_bounds(settings: Settings, analyst: bool, *, area: BaseGeometry | None = None,
                 epsg: int | None = None, resolution: int | None = None,
                 bandwidth_m: float | None = None,
                 permutations: Iterable[int] = ()) -> dict[str, Any]:
    """Raise a 422 :class:`InvalidInputError` naming every parameter over its cap.

    Returns the estimates (``cells``, ``kernel_cells``) for response metadata.
    """
    max_cells = settings.analyst_max_cells if analyst else settings.public_max_cells
    max_kernel = (settings.analyst_max_kernel_cells if analyst
                  else settings.public_max_kernel_cells)
    who = "analysts" if analyst else "callers without an analyst key"
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    if area is not None and epsg is not None and resolution is not None:
        cells = estimated_cells(area, resolution, epsg)
        out["cells"] = cells
        if cells > max_cells:
            problems += [Problem(
                f"the study area needs about {cells:,} H3 cells at resolution {resolution}; "
                f"{who} may use at most {max_cells:,}: choose a coarser resolution or "
                "area=grids", field=f) for f in ("resolution", "area")]
    if bandwidth_m is not None and resolution is not None:
        reach = kernel_cells(bandwidth_m, resolution)
        out["kernel_cells"] = reach
        if reach > max_kernel:
            problems.append(Problem(
                f"bandwidth {bandwidth_m:g} m reaches about {reach:,} cells at resolution "
                f"{resolution}; {who} may reach at most {max_kernel:,}, i.e. a bandwidth of "
                f"at most {max_bandwidth_m(resolution, max_kernel):g} m at this resolution",
                field="bandwidth_m"))
    if not analyst:
        for p in permutations:
            if p > settings.public_max_permutations:
                problems.append(Problem(
                    f"{who} may use at most {settings.public_max_permutations} permutations",
                    field="permutations"))
                break
    if problems:
        raise InvalidInputError("analysis too large", problems)
    return out


def check_siting(request: Request, user: User, *, weight: str, p: int | None = None,
                 time_limit_s: float | None = None, spacing_m: float | None = None) -> None:
    """Bounds of a siting request for callers below the analyst role (422 naming fields).

    Case-weighted demand (``weight="cases"``) is a count of grid cases per compound and
    needs the analyst role (401/403), like every case figure finer than the public rule.
    """
    if user.has_role("analyst"):
        return
    if weight == "cases":
        check_role(user, "analyst")
    s: Settings = request.app.state.settings
    problems = []
    if p is not None and p > s.public_max_siting_p:
        problems.append(Problem(f"at most {s.public_max_siting_p} new stations without an "
                                "analyst key", field="p"))
    if time_limit_s is not None and time_limit_s > s.public_max_solve_s:
        problems.append(Problem(f"at most {s.public_max_solve_s:g} s of solver time without "
                                "an analyst key", field="time_limit_s"))
    if spacing_m is not None and spacing_m < s.public_min_spacing_m:
        problems.append(Problem(f"candidates at least {s.public_min_spacing_m:g} m apart "
                                "without an analyst key", field="spacing_m"))
    if problems:
        raise InvalidInputError("siting request too large", problems)
