"""No database, a dropped connection or every slot busy: 503 problem with Retry-After, never 500."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.deps import ConnDep
from geo.settings import Settings
from tests.support.sample import free_port, live_server, tile_of


def _assert_503(r: httpx.Response, code: str = "database-unavailable") -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["code"] == code


@pytest.fixture(scope="module")
def no_db(sample_settings: Settings) -> Iterator[tuple[TestClient, int]]:
    """An app whose database URL points at a port where nothing listens."""
    port = free_port()
    s = replace(sample_settings, database_url=f"postgresql://servicecircle@127.0.0.1:{port}/x",
                db_name="", db_wait_s=2.0)
    with TestClient(create_app(s)) as c:
        yield c, port


@pytest.mark.parametrize("url", [
    "/collections/compounds/items?limit=5",
    "/cities/testville/coverage",
    "/tiles/compounds/{z}/{x}/{y}.mvt".format(**dict(zip("zxy", tile_of(117.05, 28.25, 14),
                                                          strict=True))),
    "/health",
])
def test_unreachable_database_is_503_with_retry_after(no_db: tuple[TestClient, int],
                                                      url: str) -> None:
    client, port = no_db
    r = client.get(url)
    _assert_503(r)
    assert str(port) not in r.text and "psycopg" not in r.text.lower()


def test_key_check_without_database_is_503(no_db: tuple[TestClient, int]) -> None:
    _assert_503(no_db[0].get("/collections/grid_cases/items", headers={"X-API-Key": "sc1_" + "x" * 30}))


def _with_test_routes(settings: Settings) -> Any:
    app = create_app(settings)

    def drop(conn: ConnDep) -> dict[str, Any]:
        conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return {}

    def slow(conn: ConnDep) -> dict[str, Any]:
        conn.execute(text("SELECT pg_sleep(1.5)"))
        return {}

    app.add_api_route("/test/drop", drop)
    app.add_api_route("/test/slow", slow)
    return app


def test_connection_dropped_mid_request_is_503_and_next_request_works(
        sample_settings: Settings) -> None:
    with TestClient(_with_test_routes(sample_settings)) as client:
        _assert_503(client.get("/test/drop"))
        assert client.get("/collections/compounds/items?limit=1").status_code == 200


def test_waiting_longer_than_db_wait_s_for_a_slot_is_503_busy(sample_settings: Settings) -> None:
    s = replace(sample_settings, db_slots=1, db_wait_s=0.3)
    with live_server(_with_test_routes(s)) as url, ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: httpx.get(f"{url}/test/slow", timeout=30), range(2))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 503]
    _assert_503(first if first.status_code == 503 else second, code="busy")


def test_tile_pool_replaces_connections_the_server_dropped(sample_settings: Settings,
                                                           sample_engine: Engine) -> None:
    with TestClient(create_app(sample_settings)) as client:
        z, x, y = tile_of(117.05, 28.25, 14)
        assert client.get(f"/tiles/grids/{z}/{x}/{y}.mvt").status_code == 200
        with sample_engine.connect() as conn:
            dropped = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                "datname = current_database() AND application_name = 'servicecircle-tiles'"
            )).scalar_one()
        assert dropped >= 1
        z, x, y = tile_of(117.05, 28.25, 13)  # not cached: rendered on the tile pool
        assert client.get(f"/tiles/grids/{z}/{x}/{y}.mvt").status_code == 200
