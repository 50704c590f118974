"""notebooks/02_courier_reach.ipynb runs top to bottom against the demo database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.notebooks.conftest import Executed, check_offline_figures


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed],
                                            artifacts: Path) -> None:
    run = run_notebook("02_courier_reach.ipynb")
    run.save_figures(artifacts, "notebook-02")
    assert "贵溪" in run.text and "courier stations" in run.text
    assert "outside every courier station" in run.text
    check_offline_figures(run, maps=1, charts=0)
