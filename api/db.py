"""The app's database access: engine, tile pool and database slots.

A database-backed request first takes one of ``Settings.db_slots`` *slots* (an async
capacity limiter) and only then a worker thread and a connection. Requests beyond that
wait in line on the event loop (up to ``db_wait_s``, then 503 ``busy`` with Retry-After)
instead of holding worker threads that wait for connections held by requests that in
turn wait for a thread. The engine's pool has two connections per slot (the request's
own and one for API key verification), so a thread holding a slot never waits for one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
from psycopg_pool import AsyncConnectionPool
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.requests import HTTPConnection

from api.errors import BusyError
from geo.settings import Settings

T = TypeVar("T")

#: Seconds libpq may take to open a connection before the attempt fails.
CONNECT_TIMEOUT_S = 10
#: Connections of the async pool that renders vector tiles.
TILE_POOL_SIZE = 8
_SLOT = "servicecircle.db_slot"


def connect_options(settings: Settings) -> dict[str, str]:
    """libpq ``options`` setting the statement timeout of request-serving connections."""
    ms = int(settings.statement_timeout_s * 1000)
    return {"options": f"-c statement_timeout={ms}"} if ms > 0 else {}


@asynccontextmanager
async def database(state: State, settings: Settings) -> AsyncIterator[None]:
    """Open the engine, the tile pool and the slots on ``state``; close them afterwards."""
    from geo.store.migrate import make_engine

    slots = settings.db_slots
    state.db_slots = anyio.CapacityLimiter(slots)
    state.engine = make_engine(
        settings, pool_size=slots, max_overflow=slots, pool_timeout=settings.db_wait_s,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "servicecircle",
                      **connect_options(settings)})
    # Tiles render on an async psycopg pool (autocommit, prepared statements, no thread
    # hop); it connects in the background, so the app starts even if the database is down,
    # and checks each connection before lending it, so dropped ones are replaced.
    state.tile_pool = AsyncConnectionPool(
        settings.url().replace("postgresql+psycopg://", "postgresql://"),
        min_size=2, max_size=TILE_POOL_SIZE, timeout=settings.db_wait_s, open=False,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S,
                "application_name": "servicecircle-tiles", **connect_options(settings)})
    await state.tile_pool.open(wait=False)
    try:
        yield
    finally:
        await state.tile_pool.close()
        state.engine.dispose()


@asynccontextmanager
async def db_slot(conn: HTTPConnection) -> AsyncIterator[None]:
    """Hold a database slot for the block; nested blocks of the same request share it.

    Raises :class:`api.errors.BusyError` (503) after ``db_wait_s`` seconds in line.
    """
    scope = conn.scope
    if scope.get(_SLOT):
        yield
        return
    state = conn.app.state
    limiter: anyio.CapacityLimiter = state.db_slots
    token = object()
    try:
        with anyio.fail_after(state.settings.db_wait_s):
            await limiter.acquire_on_behalf_of(token)
    except TimeoutError:
        raise BusyError("every database connection is busy; try again shortly") from None
    scope[_SLOT] = True
    try:
        yield
    finally:
        scope[_SLOT] = False
        limiter.release_on_behalf_of(token)


async def run_db(conn: HTTPConnection, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a worker thread while holding a database slot."""
    async with db_slot(conn):
        return await run_in_threadpool(func, *args, **kwargs)
