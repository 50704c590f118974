"""notebooks/01_coverage_gaps.ipynb runs top to bottom against the demo database, and its
coverage by community is the panel's."""

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
    run = run_notebook("01_coverage_gaps.ipynb")
    run.save_figures(artifacts, "notebook-01")
    assert "贵溪" in run.text and "residents outside the 15-minute walk" in run.text
    # the one coverage definition: the gap layer's residents are the table's
    table, gaps = re.search(r"walk of a red_station: ([\d,]+) \(gap layer: ([\d,]+)\)",
                            run.text).groups()
    assert table == gaps and int(table.replace(",", "")) > 0
    check_offline_figures(run, maps=1, charts=2)
    # the bars of the community chart are the panel's rows
    printed = {int(u): (int(i), int(o)) for u, i, o in re.findall(
        r"community (\d+): residents inside (\d+), outside (\d+)", run.text)}
    r = api.get("/cities/guixi/coverage/panel",
                params={"service_type": "red_station", "minutes": 15})
    assert r.status_code == 200, r.text
    panel = {int(row["unit_id"]): (row["residents_in"], row["residents_out"])
             for row in r.json()["rows"] if row["unit_kind"] == "community"}
    assert printed and printed == panel
    _residents_60_plus_as_the_panel(run, api)


def _residents_60_plus_as_the_panel(run: Executed, api: TestClient) -> None:
    """The notebook's residents 60+ at the slow speed (elderly canteens) are the panel's."""
    assert "elderly_canteen serves age_60_plus walking at 60 m/min" in run.text
    printed = {int(u): (int(i), int(o), int(k)) for u, i, o, k in re.findall(
        r"community (\d+): residents 60\+ inside (\d+), outside (\d+), unknown compounds "
        r"(\d+) \(elderly_canteen at 60 m/min\)", run.text)}
    table, gaps = re.search(r"residents 60\+ outside the 15-minute walk of a elderly_canteen: "
                            r"([\d,]+) \(gap layer: ([\d,]+)\)", run.text).groups()
    assert table == gaps
    r = api.get("/cities/guixi/coverage/panel",
                params={"service_type": "elderly_canteen", "minutes": 15, "lang": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["target_group"], body["speed_m_per_min"]) == ("age_60_plus", 60.0)
    assert body["target_group_label"] == "residents 60+" and body["budget_m"] == 900.0
    panel = {int(row["unit_id"]): (row["target_in"], row["target_out"],
                                   row["compounds_target_unknown"])
             for row in body["rows"] if row["unit_kind"] == "community"}
    assert printed and printed == panel
    assert sum(o for _, o, _ in panel.values()) == int(table.replace(",", "")) > 0
