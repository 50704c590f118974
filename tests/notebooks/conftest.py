"""Execute a notebook of notebooks/ top to bottom against the demo database."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from fastapi.testclient import TestClient
from nbclient import NotebookClient
from sqlalchemy import Engine

from geo.settings import Settings

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class Executed:
    """An executed notebook: its cells, all text and HTML it printed, its PNG figures."""

    nb: nbformat.NotebookNode
    text: str
    html: list[str]
    images: list[bytes]

    def save_figures(self, folder: Path, stem: str) -> list[Path]:
        """Write the PNG figures to ``folder/stem-N.png`` for people to look at."""
        paths = []
        for i, png in enumerate(self.images, 1):
            paths.append(folder / f"{stem}-{i}.png")
            paths[-1].write_bytes(png)
        return paths


#: a script or stylesheet fetched from anywhere but this machine: blank offline
REMOTE_ASSET = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?https?://(?!127\.0\.0\.1)""",
                          re.IGNORECASE)


def check_offline_figures(run: Executed, *, maps: int, charts: int) -> None:
    """The notebook shows ``maps + charts`` PNG figures, each map carries the OSM credit,
    and nothing in its outputs loads a remote script or stylesheet."""
    assert len(run.images) == maps + charts, len(run.images)
    assert all(png.startswith(b"\x89PNG") for png in run.images)
    assert run.text.count("© OpenStreetMap contributors") == maps
    # every map is drawn on the city's stored OSM basemap, roads and Chinese labels included
    drawn = re.findall(r"basemap of ([\d,]+) OSM features \(([\d,]+) roads, (\d+) labels\)", run.text)
    assert len(drawn) == maps and all(int(n.replace(",", "")) > 0 and int(r.replace(",", "")) > 0
                                      and int(lab) > 0 for n, r, lab in drawn)
    assert not [h for h in run.html if REMOTE_ASSET.search(h)]


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
    images = [base64.b64decode(o["data"]["image/png"]) for o in outputs
              if "image/png" in o.get("data", {})]
    return Executed(nb, text, html, images)


@pytest.fixture
def run_notebook(demo_engine: Engine) -> Callable[[str], Executed]:
    """``run_notebook("01_coverage_gaps.ipynb")`` executes it on the demo database."""
    return lambda name: _execute(name, str(demo_engine.url.database))


@pytest.fixture(scope="module")
def api(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    """The service on the demo database, with a coverage run of Guixi stored (the panel)."""
    from api.app import create_app
    from geo.domain import WALK_MINUTES
    from geo.runs import CoverageParams, run_coverage

    with demo_engine.begin() as conn:
        run_coverage(conn, "guixi", CoverageParams(minutes=list(WALK_MINUTES)))
    with TestClient(create_app(settings)) as c:
        yield c
