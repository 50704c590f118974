"""notebooks/05_regrid.ipynb runs top to bottom against the demo database, and the
before/after figures, proposed grids and reasons it prints are the regrid endpoint's."""

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
    run = run_notebook("05_regrid.ipynb")
    run.save_figures(artifacts, "notebook-05")
    assert "贵溪" in run.text and "花园社区" in run.text
    check_offline_figures(run, maps=2, charts=0)
    with demo_engine.begin() as conn:
        key = keys.create_key(conn, "test-notebook-05", role="viewer")[1]
    r = api.post("/cities/guixi/grids/regrid", json={"community": "花园社区"},
                 headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    body = r.json()
    # before/after rows as printed
    printed = {s: (int(n), float(mean), float(cv), int(out)) for s, n, mean, cv, out in re.findall(
        r"(before|after): (\d+) grids, mean ([\d.]+) households, CV ([\d.]+), (\d+) outside",
        run.text)}
    api_rows = {row["stage"]: (row["grids"], round(row["mean_households"], 1),
                               round(row["cv_households"], 3), row["outside_range"])
                for row in body["before_after"]}
    assert set(printed) == {"before", "after"} and printed == api_rows
    assert printed["after"][3] == 0 and body["feasible"] is True
    # the proposed grids as printed
    grids = [(int(p), int(h), int(c)) for p, h, c in re.findall(
        r"proposed grid (\d+): (\d+) households, (\d+) compounds", run.text)]
    feats = sorted((f["properties"]["proposal"], round(f["properties"]["households"]),
                    f["properties"]["compounds"]) for f in body["grids"]["features"])
    assert grids and grids == feats
    # the blocking compound and its reason in words, from the vocabulary
    blocked = api.post("/cities/guixi/grids/regrid", json={"community": "炼厂社区"},
                       headers={"X-API-Key": key}).json()
    en = api.post("/cities/guixi/grids/regrid?lang=en", json={"community": "炼厂社区"},
                  headers={"X-API-Key": key}).json()
    for zh_p, en_p in zip(blocked["problems"], en["problems"], strict=True):
        line = (f"炼厂社区: compound {zh_p['compound']} ({zh_p['compound_households']:.0f} "
                f"households) — {zh_p['label']} / {en_p['label']} [{zh_p['reason']}]")
        assert line in run.text
