"""notebooks/04_siting.ipynb runs top to bottom against the demo database, and the plan
it prints is the siting endpoint's."""

from __future__ import annotations

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
    run = run_notebook("04_siting.ipynb")
    run.save_figures(artifacts, "notebook-04")
    assert "贵溪" in run.text and "candidate sites" in run.text
    # red stations serve all residents at the deployment's speed, as their coverage counts
    assert "demand: 全部居民，步行75米/分钟 (all residents, walking 75 m/min); 15 min = 1,125 m" \
        in run.text
    found = re.search(r"exact ([\d,]+) \(sites .*\), enumeration ([\d,]+),", run.text)
    assert found and found.group(1) == found.group(2)
    gains = [float(v.replace(",", "")) for v in
             re.findall(r"sites \d+: all residents covered ([\d,.]+)", run.text)]
    assert len(gains) == 6 and gains == sorted(gains) and gains[-1] > gains[0]
    check_offline_figures(run, maps=1, charts=1)
    # before/after and the ranked sites it prints are the plan endpoint's
    before, total, after = (float(v.replace(",", "")) for v in re.search(
        r"covered before ([\d,]+) / ([\d,]+) all residents \(.*\); after ([\d,]+)",
        run.text).groups())
    n_cand = int(re.search(r"(\d+) candidate sites; solved", run.text).group(1))
    with demo_engine.begin() as conn:
        key = keys.create_key(conn, "test-notebook-04", role="analyst")[1]
    r = api.post("/cities/guixi/siting/plan", json={"service_type": "red_station", "p": 5,
                                                    "minutes": 15},
                 headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n_candidates"] == n_cand
    assert (round(body["before_weight"]), round(body["total_weight"]),
            round(body["after_weight"])) == (before, total, after)
    assert after > before and len(body["sites"]["features"]) == 5
