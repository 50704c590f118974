"""notebooks/02_courier_reach.ipynb runs top to bottom against the demo database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.notebooks.conftest import Executed


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed]) -> None:
    run = run_notebook("02_courier_reach.ipynb")
    assert "贵溪" in run.text and "courier stations" in run.text
    assert "outside every courier station" in run.text
    assert any("CircleMarker" in h or "circleMarker" in h for h in run.html)
