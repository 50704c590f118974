"""``servicecircle keys create/list/revoke`` against the sample database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from geo.settings import Settings

CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("+psycopg", "")
    return subprocess.run([*CLI, "keys", *args], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).parents[2], timeout=60, check=False)


def test_create_list_revoke(sample_settings: Settings, client: TestClient) -> None:
    made = _cli(sample_settings, "create", "cli-analyst", "--role", "analyst")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("sc")
    r = client.get("/collections/grid_cases/items", headers={"X-API-Key": key})
    assert r.status_code == 200
    listed = _cli(sample_settings, "list")
    assert "cli-analyst\tanalyst" in listed.stdout and key not in listed.stdout
    assert _cli(sample_settings, "revoke", "cli-analyst").returncode == 0
    # the server keeps key checks Settings.key_cache_s seconds: refused within that time
    deadline = time.monotonic() + sample_settings.key_cache_s + 2
    while client.get("/collections/grid_cases/items",
                     headers={"X-API-Key": key}).status_code != 401:
        assert time.monotonic() < deadline, "revoked key still accepted"
        time.sleep(0.1)


def test_bad_role_fails_without_traceback(sample_settings: Settings) -> None:
    out = _cli(sample_settings, "create", "x", "--role", "root")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and "role" in out.stderr


def test_revoke_unknown_fails(sample_settings: Settings) -> None:
    out = _cli(sample_settings, "revoke", "nobody-here")
    assert out.returncode == 2 and "no API key" in out.stderr  # a slip: a name nobody has
