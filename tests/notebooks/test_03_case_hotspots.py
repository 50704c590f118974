"""notebooks/03_case_hotspots.ipynb runs top to bottom against the demo database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.notebooks.conftest import Executed


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed]) -> None:
    run = run_notebook("03_case_hotspots.ipynb")
    assert "贵溪" in run.text and "cases" in run.text
    assert any("HeatMap" in h or "heatLayer" in h for h in run.html)
