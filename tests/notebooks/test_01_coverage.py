"""notebooks/01_coverage_gaps.ipynb runs top to bottom against the demo database."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.notebooks.conftest import Executed


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed]) -> None:
    run = run_notebook("01_coverage_gaps.ipynb")
    assert "贵溪" in run.text and "residents outside the 15-minute walk" in run.text
    # the one coverage definition: the gap layer's residents are the table's
    table, gaps = re.search(r"walk of a red_station: ([\d,]+) \(gap layer: ([\d,]+)\)",
                            run.text).groups()
    assert table == gaps and int(table.replace(",", "")) > 0
    assert any("15-min circles" in h and "compounds" in h for h in run.html)
