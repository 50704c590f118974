"""100 concurrent clients on database-backed pages all get answers (a real uvicorn server).

Requests queue for a database slot instead of timing out in the connection pool.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from geo.store import keys

CLIENTS = 100


async def _fire(base: str, requests: list[tuple[str, dict[str, str]]]) -> list[int]:
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        responses = await asyncio.gather(*(client.get(path, headers=headers)
                                           for path, headers in requests))
    return [r.status_code for r in responses]


@pytest.fixture
def analyst_key(demo_engine: Engine) -> Iterator[str]:
    name = f"conc-{uuid.uuid4().hex[:8]}"
    with demo_engine.begin() as conn:
        plain = keys.create_key(conn, name, role="analyst")[1]
    yield plain
    with demo_engine.begin() as conn:
        keys.revoke_key(conn, name)


def test_100_concurrent_feature_pages_all_answer_200(demo_server: str) -> None:
    statuses = asyncio.run(_fire(demo_server, [("/collections/compounds/items?limit=100", {})]
                                 * CLIENTS))
    assert statuses.count(200) == CLIENTS, sorted(set(statuses))


def test_100_concurrent_keyed_and_anonymous_requests_all_answer_200(
        demo_server: str, analyst_key: str) -> None:
    # a keyed request verifies its key on a second connection while holding its first one
    keyed = ("/collections/grid_cases/items?limit=50", {"X-API-Key": analyst_key})
    mix = [keyed, ("/collections/service_points/items?limit=50", {}),
           ("/collections/grids", {}), ("/tiles/compounds/tilejson.json", {})]
    statuses = asyncio.run(_fire(demo_server, mix * (CLIENTS // len(mix))))
    assert statuses.count(200) == CLIENTS, sorted(set(statuses))
