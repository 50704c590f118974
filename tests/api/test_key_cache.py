"""Key checks are kept briefly per process: no database query per keyed request, and a
revoked key stops working within ``Settings.key_cache_s``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from api.app import create_app
from geo.settings import Settings
from geo.store import keys

TTL_S = 1.0


@pytest.fixture(scope="module")
def cached(sample_settings: Settings) -> Iterator[tuple[TestClient, list[str]]]:
    """A client of an app keeping key checks ``TTL_S`` seconds, and the SQL it runs."""
    statements: list[str] = []
    with TestClient(create_app(replace(sample_settings, key_cache_s=TTL_S))) as c:
        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(c.app.state.engine, "before_cursor_execute", count)  # type: ignore[attr-defined]
        yield c, statements


def _new_key(engine: Engine, role: str = "analyst") -> tuple[str, str]:
    name = f"cache-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        return name, keys.create_key(conn, name, role=role)[1]


def test_a_known_key_is_checked_once_while_fresh(cached: tuple[TestClient, list[str]],
                                                sample_engine: Engine) -> None:
    client, statements = cached
    _, plain = _new_key(sample_engine)
    statements.clear()
    for _ in range(5):
        assert client.get("/keys/me", headers={"X-API-Key": plain}).json()["role"] == "analyst"
    assert sum("api_key" in s for s in statements) == 1


def test_a_malformed_key_costs_no_query(cached: tuple[TestClient, list[str]]) -> None:
    client, statements = cached
    statements.clear()
    assert client.get("/keys/me", headers={"X-API-Key": "not-a-key"}).status_code == 401
    assert statements == []


def test_a_key_revoked_elsewhere_stops_working_within_the_cache_time(
        cached: tuple[TestClient, list[str]], sample_engine: Engine) -> None:
    client, _ = cached
    name, plain = _new_key(sample_engine)
    headers = {"X-API-Key": plain}
    assert client.get("/keys/me", headers=headers).status_code == 200
    with sample_engine.begin() as conn:  # as `servicecircle keys revoke` would
        keys.revoke_key(conn, name)
    revoked_at = time.monotonic()
    while client.get("/keys/me", headers=headers).status_code != 401:
        assert time.monotonic() - revoked_at < TTL_S + 1.0, "revoked key still accepted"
        time.sleep(0.05)


def test_a_key_revoked_through_the_api_stops_working_at_once(
        cached: tuple[TestClient, list[str]], sample_engine: Engine,
        api_keys: dict[str, str]) -> None:
    client, _ = cached
    name, plain = _new_key(sample_engine)
    headers = {"X-API-Key": plain}
    assert client.get("/keys/me", headers=headers).status_code == 200
    r = client.delete(f"/keys/{name}", headers={"X-API-Key": api_keys["admin"]})
    assert r.status_code == 200
    assert client.get("/keys/me", headers=headers).status_code == 401


def test_the_default_keeps_checks_five_seconds() -> None:
    assert Settings().key_cache_s == 5.0
    assert Settings.from_env({"SERVICECIRCLE_KEY_CACHE_S": "0.5"}).key_cache_s == 0.5
