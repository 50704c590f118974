"""Siting walks at the configured speed, through the run layer, the API and the CLI alike.

Halving ``SERVICECIRCLE_WALK_SPEED_M_PER_MIN`` halves the distance a 15-minute circle
reaches, so the existing stations cover fewer residents and the what-if engine's reach
shrinks; before, siting built its network at the default 75 m/min whatever the setting.
A type with walkers of its own keeps them: the CLI plans elderly canteens for residents 60+
walking 60 m/min and says so.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from api.app import create_app
from geo.runs import PlanParams, WhatIfParams, run_plan, run_whatif
from geo.settings import Settings

URL = "/cities/guixi/siting"
SITE = (117.2195, 28.2445)  # a point in Guixi's centre



def _before(run_settings: Settings, conn: Connection) -> float:
    run = run_whatif(conn, "guixi", WhatIfParams(sites=[SITE]), run_settings)
    return run.totals["before_weight"]


def test_run_layer_covers_less_at_half_the_speed(settings: Settings,
                                                        demo: Connection) -> None:
    fast = _before(replace(settings, walk_speed_m_per_min=75.0), demo)
    slow = _before(replace(settings, walk_speed_m_per_min=37.5), demo)
    assert 0 < slow < fast


def test_plan_uses_the_configured_speed(settings: Settings, demo: Connection) -> None:
    params = PlanParams(p=1, minutes=10)
    fast = run_plan(demo, "guixi", params, replace(settings, walk_speed_m_per_min=75.0))
    slow = run_plan(demo, "guixi", params, replace(settings, walk_speed_m_per_min=37.5))
    assert slow.totals["before_weight"] < fast.totals["before_weight"]
    assert slow.inputs.net.speed_m_per_min == 37.5


def test_api_honours_the_walking_speed(settings: Settings, demo_engine: Engine) -> None:
    answers = {}
    for speed in (75.0, 37.5):
        app = create_app(replace(settings, walk_speed_m_per_min=speed))
        with TestClient(app) as client:
            r = client.post(f"{URL}/whatif", json={"sites": [list(SITE)]})
            assert r.status_code == 200, r.text
            answers[speed] = r.json()
    assert 0 < answers[37.5]["before_weight"] < answers[75.0]["before_weight"]
    assert answers[37.5]["total_weight"] == answers[75.0]["total_weight"]


def _cli(settings: Settings, speed: float | None, *args: str) -> str:
    """``analyze siting --city guixi --p 1 --minutes 10 *args``: what it printed to stderr,
    whitespace collapsed."""
    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    env.pop("SERVICECIRCLE_WALK_SPEED_M_PER_MIN", None)
    if speed is not None:
        env["SERVICECIRCLE_WALK_SPEED_M_PER_MIN"] = str(speed)
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("+psycopg", "")
    done = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "analyze",
                           "siting", "--city", "guixi", "--p", "1", "--minutes", "10", *args],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).parents[2], timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stderr.split())


def _cli_before(settings: Settings, speed: float | None) -> float:
    said = _cli(settings, speed)
    m = re.search(r"all residents: ([\d,]+) →", said)
    assert m is not None, said
    return float(m.group(1).replace(",", ""))


def test_cli_honours_the_walking_speed_setting(settings: Settings, demo_engine: Engine) -> None:
    assert 0 < _cli_before(settings, 37.5) < _cli_before(settings, None)


def test_cli_plans_elderly_canteens_for_residents_60_plus_walking_60_m_per_min(
        settings: Settings, demo: Connection) -> None:
    said = _cli(settings, None, "--type", "孝老食堂")
    assert "residents 60+, walking 60 m/min" in said and "10 min = 600 m" in said, said
    m = re.search(r"residents 60\+: ([\d,]+) →", said)
    assert m is not None, said
    run = run_plan(demo, "guixi", PlanParams(service_type="elderly_canteen", p=1, minutes=10))
    assert float(m.group(1).replace(",", "")) == run.totals["before_weight"]
