"""notebooks/02_courier_reach.ipynb runs top to bottom against the demo database, and
the reach figures it prints are those of the courier endpoint's run."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from geo.store import keys
from tests.notebooks.conftest import Executed, check_offline_figures


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed],
                                            api: TestClient, demo_engine: Engine,
                                            artifacts: Path) -> None:
    run = run_notebook("02_courier_reach.ipynb")
    run.save_figures(artifacts, "notebook-02")
    assert "贵溪" in run.text and "courier stations" in run.text
    assert "outside every courier station" in run.text
    check_offline_figures(run, maps=1, charts=0)
    # the headline figures it prints (non-zero ones) are the endpoint's run summary
    printed = ast.literal_eval(re.search(r"^(\{'stations': .*\})$", run.text,
                                     re.MULTILINE).group(1))
    with demo_engine.begin() as conn:
        key = keys.create_key(conn, "test-notebook-02", role="analyst")[1]
    r = api.post("/cities/guixi/courier/runs", json={"service_type": "courier_station",
                                                     "mode": "ride", "metres": 1000.0},
                 headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    summary = r.json()["summary"]
    assert printed["compounds_reached"] > 0 and printed["residents_reached"] > 0
    assert {k: v for k, v in summary.items() if v} == printed
