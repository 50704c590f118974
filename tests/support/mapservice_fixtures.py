"""Fixtures shared by tests/api, tests/layers and tests/browser: a database of their own
holding the sample cities (committed), the app, a live uvicorn server and API keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from geo.settings import Settings
from geo.store import cluster, keys, migrate
from tests.support import TEST_HOSTS
from tests.support.sample import live_server, load_sample


@pytest.fixture(scope="session")
def sample_settings() -> Iterator[Settings]:
    """Settings of a fresh migrated database holding the committed sample cities."""
    base = Settings.from_env()
    if base.embedded:
        cluster.up(base)
    name = f"sc_api_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with migrate.scratch_database(base, name, fill=load_sample) as s:
        yield replace(s, allowed_hosts=TEST_HOSTS)


@pytest.fixture(scope="session")
def sample_engine(sample_settings: Settings) -> Iterator[Engine]:
    eng = migrate.make_engine(sample_settings)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def api_keys(sample_engine: Engine) -> dict[str, str]:
    """Plain keys by role: viewer, analyst, admin, and a revoked analyst key."""
    out = {}
    with sample_engine.begin() as conn:
        for role in ("viewer", "analyst", "admin"):
            out[role] = keys.create_key(conn, f"test-{role}", role=role)[1]
        out["revoked"] = keys.create_key(conn, "test-revoked", role="analyst")[1]
        keys.revoke_key(conn, "test-revoked")
    return out


@pytest.fixture(scope="session")
def client(sample_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sample_settings)) as c:
        yield c


@pytest.fixture(scope="session")
def server(sample_settings: Settings) -> Iterator[str]:
    """Base URL of a real uvicorn server on the sample database."""
    with live_server(create_app(sample_settings)) as url:
        yield url


@pytest.fixture(scope="session")
def demo_server(settings: Settings, demo_engine: Engine) -> Iterator[str]:
    """Base URL of a real uvicorn server on the session database with both demo cities."""
    with live_server(create_app(settings)) as url:
        yield url
