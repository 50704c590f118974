"""notebooks/04_siting.ipynb runs top to bottom against the demo database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.notebooks.conftest import Executed, check_offline_figures


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed],
                                            artifacts: Path) -> None:
    run = run_notebook("04_siting.ipynb")
    run.save_figures(artifacts, "notebook-04")
    assert "贵溪" in run.text and "candidate sites" in run.text
    found = re.search(r"exact ([\d,]+) \(sites .*\), enumeration ([\d,]+),", run.text)
    assert found and found.group(1) == found.group(2)
    gains = [float(v.replace(",", "")) for v in
             re.findall(r"sites \d+: residents covered ([\d,.]+)", run.text)]
    assert len(gains) == 6 and gains == sorted(gains) and gains[-1] > gains[0]
    check_offline_figures(run, maps=1, charts=1)
