"""``GET /vocabulary``: built-in and added service types, labels, colours, thresholds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.domain import (
    BROUGHT_INSIDE_COLOR,
    CASE_CATEGORIES,
    CASE_STATUSES,
    LIFE_CIRCLE_MINUTES,
    PROPOSED_SITE_COLOR,
    SERVICE_TYPES,
    WALK_MINUTES,
    added_type_color,
)
from geo.settings import Settings

CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def _types_add(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("+psycopg", "")
    return subprocess.run([*CLI, "types", "add", *args], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).parents[2], timeout=60, check=False)


@pytest.fixture
def youth_station(sample_settings: Settings, sample_engine: Engine) -> Iterator[str]:
    """A service type added with ``servicecircle types add``; removed after the test."""
    out = _types_add(sample_settings, "youth_station", "--zh", "青年驿站", "--en", "Youth station")
    assert out.returncode == 0, out.stderr
    yield "youth_station"
    with sample_engine.begin() as conn:
        conn.execute(text("DELETE FROM service_type WHERE code = 'youth_station'"))


def test_lists_every_built_in_term_with_labels_and_colours(client: TestClient) -> None:
    v = client.get("/vocabulary").json()
    types = {t["code"]: t for t in v["service_types"]}
    assert list(types) == list(SERVICE_TYPES)  # built-ins in the vocabulary's order
    red = types["red_station"]
    assert (red["label"], red["label_zh"], red["label_en"]) == ("红色驿站", "红色驿站", "Red station")
    assert red["color"] == SERVICE_TYPES["red_station"].color and red["glyph"] == "红"
    assert red["builtin"] is True
    assert [c["code"] for c in v["case_categories"]] == list(CASE_CATEGORIES)
    assert all(c["color"] for c in v["case_categories"])
    assert [s["code"] for s in v["case_statuses"]] == list(CASE_STATUSES)
    assert v["columns"]["type"] == v["columns"]["service_type"] == "service_types"
    assert v["columns"]["category"] == "case_categories"


def test_english_labels(client: TestClient) -> None:
    v = client.get("/vocabulary", params={"lang": "en"}).json()
    assert {t["code"]: t["label"] for t in v["service_types"]}["red_station"] == "Red station"
    assert {s["code"]: s["label"] for s in v["case_statuses"]}["closed"] == "Closed"


def test_thresholds_and_defaults(client: TestClient, sample_settings: Settings) -> None:
    v = client.get("/vocabulary").json()
    th = v["thresholds"]
    assert th["walk_minutes"] == list(WALK_MINUTES)
    assert th["life_circle_minutes"] == LIFE_CIRCLE_MINUTES
    assert th["gb50180_m"] == {"5": 300.0, "10": 500.0, "15": 1000.0}
    assert th["courier_circle_m"] == 1000.0
    assert th["grid_households"] == [120, 300]
    assert th["walk_speed_m_per_min"] == sample_settings.walk_speed_m_per_min
    assert v["defaults"] == {"siting_service_type": "red_station",
                             "minutes": LIFE_CIRCLE_MINUTES, "siting_sites": 5,
                             "siting_colors": {"proposed": PROPOSED_SITE_COLOR,
                                               "brought_inside": BROUGHT_INSIDE_COLOR},
                             "service_type": "red_station"}


def test_a_type_added_with_the_cli_is_listed(client: TestClient, youth_station: str) -> None:
    zh = client.get("/vocabulary").json()["service_types"]
    en = client.get("/vocabulary", params={"lang": "en"}).json()["service_types"]
    assert [t["code"] for t in zh][-1] == youth_station  # after the built-ins
    added = zh[-1]
    assert (added["label_zh"], added["label_en"]) == ("青年驿站", "Youth station")
    assert added["label"] == "青年驿站" and en[-1]["label"] == "Youth station"
    assert added["builtin"] is False and added["glyph"] == "青"
    assert added["color"] == added_type_color(youth_station)  # the same in every process
    assert added["color"] not in {t.color for t in SERVICE_TYPES.values()}


def test_tiles_accept_an_added_type_but_not_a_malformed_code(client: TestClient,
                                                              youth_station: str) -> None:
    base = "/tiles/coverage_circles_15/12/3380/1714.mvt"
    assert client.get(base, params={"service_type": youth_station}).status_code in (200, 204)
    bad = client.get(base, params={"service_type": "x';drop"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "service_type"
