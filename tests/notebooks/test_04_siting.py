"""notebooks/04_siting.ipynb runs top to bottom against the demo database."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.notebooks.conftest import Executed


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(run_notebook: Callable[[str], Executed]) -> None:
    run = run_notebook("04_siting.ipynb")
    assert "贵溪" in run.text and "candidate sites" in run.text
    found = re.search(r"exact ([\d,]+) \(sites .*\), enumeration ([\d,]+),", run.text)
    assert found and found.group(1) == found.group(2)
    assert any("leaflet" in h.lower() for h in run.html)  # the before/after map
