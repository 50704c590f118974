"""Vector tiles ``/tiles/{layer}/{z}/{x}/{y}.mvt`` and TileJSON 3.0.0 per layer.

Rules: z/x/y are checked before any SQL (bad value → 422 problem); a zoom outside the
layer's ``minzoom..maxzoom`` → 404 problem; a tile without features → **204 No Content**
(with ETag and Cache-Control like any tile). Tiles are cached in process and in the
database's ``tile_cache`` shared by every server process (``serve --workers N``), keyed by
layer, z/x/y, city, tile filters, personal-attribute access and the ``layer_version``
counters of the layer's tables (re-read at most every 0.5 s), so a committed data change is
served by every process within 0.5 s. ``X-Tile-Cache`` says which cache answered
(``local``, ``shared``, ``render``) and ``X-Served-By`` which process.
``If-None-Match`` → 304.
Restricted layers need an analyst key.

Layers declaring ``query_filters`` (e.g. coverage layers: ``service_type``, ``minutes``)
accept them as query parameters, e.g. ``?city=guixi&service_type=red_station&minutes=10``;
a value outside the declared ones is a 422 problem.

Coverage layers (a ``run_table`` in their source) take ``at`` with a city, e.g.
``?city=guixi&at=Mo 22:00``: the run counting only the service points open then, picked
by :func:`geo.store.coverage.latest_run` — the run the coverage tables and the panel use
for that moment (the all-day run when nothing is closed then; a ``no-run`` 404 when none
is stored). Tiles of a moment are cached under the id of that run.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NamedTuple, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import Engine

from api.db import run_db
from api.deps import ConnDep, CurrentUser, RegistryDep, readable_layer, sees_personal
from api.errors import problems
from api.schemas import TileJSON
from geo.errors import DatabaseUnavailableError, InvalidInputError, Problem
from geo.io.hours import parse_moment
from geo.store import tile_cache
from geo.store.cities import all_versions, city_ids, get_city, unknown_city
from geo.store.coverage import INPUT_TABLES, latest_run
from geo.store.features import layer_extent, source_table
from geo.store.tile_cache import shared_key
from geo.store.tiles import (
    BUFFER,
    EXTENT,
    TileCache,
    check_zoom,
    tile_sql,
    to_pyformat,
    validate_tile,
)
from layers.registry import Layer

router = APIRouter(tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE = 60
T = TypeVar("T")


class SourceVersions:
    """A snapshot of ``layer_version`` and city codes, re-read at most every ``ttl_s``.

    Tiles are keyed by these counters, so a committed data change reaches tile clients
    within ``ttl_s`` seconds (default 0.5 s) without a database round trip per tile.
    """

    def __init__(self, ttl_s: float = 0.5) -> None:
        self.ttl_s = ttl_s
        self._at = -math.inf
        self._versions: dict[str, int] = {}
        self._cities: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def _read(self, engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
        with engine.connect() as conn:
            return all_versions(conn), city_ids(conn)

    async def snapshot(self, request: Request) -> tuple[dict[str, int], dict[str, int]]:
        """``(versions by table, city id by code)``, fresh within ``ttl_s``."""
        if time.monotonic() - self._at > self.ttl_s:
            async with self._lock:
                if time.monotonic() - self._at > self.ttl_s:
                    self._versions, self._cities = await run_db(
                        request, self._read, request.app.state.engine)
                    self._at = time.monotonic()
        return self._versions, self._cities


#: Tables whose change counters decide which run a moment has (:func:`latest_run` reads
#: the runs and the opening hours and data versions of the inputs).
MOMENT_TABLES = ("analysis_run", *INPUT_TABLES)


class MomentRuns:
    """The run of a city at a moment (:func:`geo.store.coverage.latest_run`), remembered
    while the ``layer_version`` counters of :data:`MOMENT_TABLES` stay the same, so that
    the tiles of a moment do not each read the opening hours again."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._runs: dict[tuple[int, str, tuple[int, ...]], int] = {}

    @staticmethod
    def _read(engine: Engine, city_id: int, label: str) -> int:
        with engine.connect() as conn:
            return int(latest_run(conn, city_id, at=label)["id"])

    async def run_id(self, request: Request, city_id: int | None, at: str,
                     versions: dict[str, int]) -> int:
        """The id of the run of ``city_id`` at ``at``; 422 (field ``at``) for a bad moment
        or without a city, ``no-run`` 404 when none is stored."""
        if city_id is None:
            raise InvalidInputError("at needs a city", [Problem(
                "a moment is a city's coverage run: give city as well", field="at")])
        label = parse_moment(at).label
        key = (city_id, label, tuple(versions.get(t, 0) for t in MOMENT_TABLES))
        run = self._runs.get(key)
        if run is None:
            run = await run_db(request, self._read, request.app.state.engine, city_id, label)
            if len(self._runs) >= self.max_entries:
                self._runs.clear()
            self._runs[key] = run
        return run


async def _render(pool: AsyncConnectionPool, layer: Layer, z: int, x: int, y: int,
                  personal: bool, city_id: int | None,
                  where: tuple[tuple[str, str | int], ...] = (),
                  run_id: int | None = None) -> bytes:
    """Render one tile on the app's async psycopg pool (see :func:`geo.store.tiles.tile_sql`)."""
    sql, params = tile_sql(layer, z, x, y, personal=personal, city_id=city_id, where=where,
                           run_id=run_id)
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(to_pyformat(sql), params)
            row = await cur.fetchone()
    except PoolTimeout:
        raise DatabaseUnavailableError("no database connection for tiles") from None
    return bytes(row[0]) if row and row[0] else b""


async def tile_state(request: Request, city: str | None
                     ) -> tuple[dict[str, int], int | None]:
    """The ``layer_version`` counters and the id of ``city`` (None: every city); an unknown
    city is a 404 with "did you mean"."""
    versions, cities = await request.app.state.source_versions.snapshot(request)
    if city is None:
        return versions, None
    if city not in cities:
        raise unknown_city(city, cities)
    return versions, cities[city]


class CachedTile(NamedTuple):
    """A tile with its ETag and where it came from: ``local`` (this process's LRU),
    ``shared`` (the database's ``tile_cache``, rendered by any process) or ``render``."""

    data: bytes
    etag: str
    source: str


#: Shared-cache stores between two prunes, per process.
PRUNE_EVERY = 256


async def _shared(pool: AsyncConnectionPool, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    try:
        async with pool.connection() as conn:
            return await fn(conn, *args)
    except PoolTimeout:
        raise DatabaseUnavailableError("no database connection for tiles") from None


async def cached_tile(request: Request, lyr: Layer, z: int, x: int, y: int, *,
                      personal: bool, city_id: int | None, versions: dict[str, int],
                      where: tuple[tuple[str, str | int], ...] = (),
                      run_id: int | None = None) -> CachedTile:
    """One layer's tile with its ETag: from this process's cache, else from the cache shared
    by every server process (:mod:`geo.store.tile_cache`), else rendered and stored in both.
    ``run_id``: the run of a moment (:class:`MomentRuns`), part of the key."""
    state = request.app.state
    key = (lyr.name, z, x, y, city_id, where, personal,
           tuple(versions.get(t, 0) for t in lyr.source.versions), run_id)
    cache: TileCache = state.tile_cache
    hit = cache.get(key)
    if hit is not None:
        return CachedTile(*hit, "local")
    max_shared = state.settings.shared_tile_cache_entries
    if max_shared <= 0:
        data = await _render(state.tile_pool, lyr, z, x, y, personal, city_id, where, run_id)
        return CachedTile(*cache.put(key, data), "render")
    skey = shared_key(key)
    shared = await _shared(state.tile_pool, tile_cache.get_tile, skey)
    if shared is not None:
        cache.put(key, shared[0])
        return CachedTile(*shared, "shared")
    data, etag = cache.put(key, await _render(state.tile_pool, lyr, z, x, y, personal,
                                              city_id, where, run_id))
    await _shared(state.tile_pool, tile_cache.put_tile, skey, lyr.name, data, etag)
    state.shared_tile_puts = getattr(state, "shared_tile_puts", 0) + 1
    if state.shared_tile_puts % PRUNE_EVERY == 0:
        await _shared(state.tile_pool, tile_cache.prune, max_shared)
    return CachedTile(data, etag, "render")


def served_by(source: str) -> dict[str, str]:
    """Headers naming the cache a tile came from and the server process that answered
    (processes are interchangeable; this is for operators and load tests)."""
    return {"X-Tile-Cache": source, "X-Served-By": str(os.getpid())}


def tile_response(request: Request, data: bytes, etag: str, headers: dict[str, str]
                  ) -> Response:
    """304 when ``If-None-Match`` holds ``etag``, 204 for an empty tile, else the MVT."""
    headers = {"ETag": etag, **headers}
    inm = request.headers.get("if-none-match")
    if inm and etag in [t.strip().removeprefix("W/") for t in inm.split(",")]:
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/tiles/{layer}/{z}/{x}/{y}.mvt", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "Empty tile"},
                       304: {"description": "Not modified"},
                       **problems(401, 403, 404, 422, 503)})
async def tile(request: Request, registry: RegistryDep, user: CurrentUser,
               layer: str, z: int, x: int, y: int,
               city: Annotated[str | None, Query(description="City code")] = None,
               at: Annotated[str | None, Query(max_length=40, description=(
                   "Coverage layers: the run counting only the service points open then "
                   "('Mo 22:00', '周一 22:00' or an ISO date-time, China Standard Time; "
                   "needs city). Default: all day."))] = None) -> Response:
    """One Mapbox vector tile (extent 4096, buffer 64) of ``layer``, EPSG:3857 XYZ scheme."""
    validate_tile(z, x, y)
    lyr = readable_layer(registry, layer, user)
    check_zoom(lyr, z)
    where = lyr.source.parse_query_filters(request.query_params)
    personal = sees_personal(user) and bool(lyr.source.personal)
    versions, city_id = await tile_state(request, city)
    run_id = None
    if at is not None:
        source_table(lyr, 0)  # 422 unless the layer has runs by moment
        run_id = await request.app.state.moment_runs.run_id(request, city_id, at, versions)
    hit = await cached_tile(request, lyr, z, x, y, personal=personal, city_id=city_id,
                            versions=versions, where=where, run_id=run_id)
    scope = "public" if lyr.public and not personal else "private"
    return tile_response(request, hit.data, hit.etag,
                         {"Cache-Control": f"{scope}, max-age={MAX_AGE}",
                          "Vary": "X-API-Key, Authorization", **served_by(hit.source)})


@router.get("/tiles/{layer}/tilejson.json", response_model=TileJSON,
            responses=problems(404, 422, 503))
def tilejson(request: Request, conn: ConnDep, registry: RegistryDep, user: CurrentUser,
             layer: str,
             city: Annotated[str | None, Query(max_length=64, description="City code")] = None
             ) -> dict[str, Any]:
    """TileJSON 3.0.0 of ``layer`` (one vector layer named after it); ``city`` filters
    tiles, and the bounds and centre are then that city's (its features', or the city's
    own bounds when the layer has none there)."""
    lyr = registry.get(layer)
    base = str(request.base_url).rstrip("/")
    suffix = f"?{urlencode({'city': city})}" if city else ""
    bounds = layer_extent(conn, lyr, city=city) if lyr.source.city_column or not city else None
    if bounds is None and city:
        box = get_city(conn, city).bounds.bounds
        bounds = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    bounds = bounds or (-180.0, -85.0511, 180.0, 85.0511)
    columns = lyr.source.visible_columns(personal=sees_personal(user))
    center_zoom = max(lyr.minzoom, min(14, lyr.maxzoom))
    return {
        "tilejson": "3.0.0",
        "name": lyr.name,
        "description": f"{lyr.title_zh} / {lyr.title_en}",
        "attribution": "© OpenStreetMap contributors",
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{lyr.name}/{{z}}/{{x}}/{{y}}.mvt{suffix}"],
        "minzoom": lyr.minzoom,
        "maxzoom": lyr.maxzoom,
        "bounds": list(bounds),
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, center_zoom],
        "vector_layers": [{"id": lyr.name, "description": lyr.title_en,
                           "minzoom": lyr.minzoom, "maxzoom": lyr.maxzoom,
                           "fields": {c: c for c in columns}}],
        "extent": EXTENT,
        "buffer": BUFFER,
        "empty_tile": "204 No Content",
        "access": "public" if lyr.public else "analyst",
    }
