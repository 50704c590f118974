"""notebooks/02_courier_reach.ipynb runs top to bottom against the demo database."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import Engine

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_courier_reach.ipynb"


def _outputs(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
            if out.get("output_type") == "error":
                parts.append("Traceback")
    return "\n".join(parts)


@pytest.mark.slow
def test_notebook_runs_on_the_demo_database(demo_engine: Engine) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(params + 1, nbformat.v4.new_code_cell(
        f"DB_NAME = {demo_engine.url.database!r}", metadata={"tags": ["injected-parameters"]}))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parents[1])}}).execute()
    text = _outputs(nb)
    assert "Traceback" not in text
    assert "贵溪" in text and "courier stations" in text
    assert "outside every courier station" in text
    html = nb.cells[-2].outputs[0]["data"]["text/html"]
    assert "CircleMarker" in html or "circleMarker" in html
