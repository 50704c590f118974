"""Execute a notebook of notebooks/ top to bottom against the demo database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import Engine

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class Executed:
    """An executed notebook: its cells, and all text and HTML it printed."""

    nb: nbformat.NotebookNode
    text: str
    html: list[str]


def _execute(name: str, db_name: str) -> Executed:
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    params = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(params + 1, nbformat.v4.new_code_cell(
        f"DB_NAME = {db_name!r}", metadata={"tags": ["injected-parameters"]}))
    # raises CellExecutionError, with the cell and its traceback, if any cell fails
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS.parent)}}).execute()
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    text = "\n".join([o.get("text", "") for o in outputs]
                     + [str(o.get("data", {}).get("text/plain", "")) for o in outputs])
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    return Executed(nb, text, html)


@pytest.fixture
def run_notebook(demo_engine: Engine) -> Callable[[str], Executed]:
    """``run_notebook("01_coverage_gaps.ipynb")`` executes it on the demo database."""
    return lambda name: _execute(name, str(demo_engine.url.database))
