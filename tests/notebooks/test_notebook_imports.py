"""The notebooks use only the public API: ``from geo import …``, the ``geo.store`` readers and
``geo.runs`` — no private module or name, no ``api``/``layers`` internals."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

import geo

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
ALLOWED = re.compile(r"^geo(\.store\.[a-z]\w*|\.runs(\.[a-z]\w*)?)?$")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    nb = nbformat.read(path, as_version=4)
    out: list[tuple[str, list[str]]] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and node.module:
                out.append((node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                out += [(a.name, []) for a in node.names]
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_import_only_public_names(path: Path) -> None:
    imports = _imports(path)
    assert any(m == "geo" for m, _ in imports)
    for module, names in imports:
        root = module.split(".")[0]
        assert root not in ("api", "layers", "benchmarks"), module
        assert not any(part.startswith("_") for part in module.split(".")), module
        assert not any(n.startswith("_") for n in names), (module, names)
        if root == "geo":
            assert ALLOWED.match(module), f"{path.name}: {module} is not public"
        if module == "geo":
            assert set(names) <= set(geo.__all__), set(names) - set(geo.__all__)
