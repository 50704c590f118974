"""The shape of the house: the import contracts of pyproject.toml ([tool.importlinter]).

The core (geo without geo.store and geo.demo) reads no database and imports neither the
store, the demo, the map layers, the HTTP API nor the benchmarks; geo.store does not
import the API, layers do not import the API; no package has an import cycle between its
modules. ``make lint`` runs the same check (``lint-imports``).
"""

from __future__ import annotations

import subprocess
import sys

from geo.settings import PROJECT_ROOT

LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True, no_logo=True))")


def test_import_contracts_are_kept() -> None:
    out = subprocess.run([sys.executable, "-c", LINT], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=300, check=False)
    assert "Contracts: " in out.stdout, out.stdout + out.stderr
    assert out.returncode == 0, out.stdout + out.stderr
