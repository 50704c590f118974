"""notebooks/03_case_hotspots.ipynb runs top to bottom against the demo database, and its
monthly trend is the API's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.notebooks.conftest import Executed, check_offline_figures


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed],
                                            api: TestClient, artifacts: Path) -> None:
    run = run_notebook("03_case_hotspots.ipynb")
    run.save_figures(artifacts, "notebook-03")
    assert "贵溪" in run.text and "cases" in run.text
    check_offline_figures(run, maps=1, charts=1)
    printed = {(m[:7], k): int(n) for m, k, n in re.findall(r"trend (\S+) (\w+): (\d+)", run.text)}
    r = api.get("/cities/guixi/cases/trends", params={"by": "category"})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    shown = {(str(x["month"])[:7], x["key"]): x["n_cases"] for x in rows
             if not x.get("suppressed") and x.get("n_cases") is not None}
    assert printed and shown
    # every figure the API publishes is the notebook's (the API also lists empty months: 0)
    assert {k: printed.get(k, 0) for k in shown} == shown
    assert sum(printed.values()) >= sum(shown.values())
