"""``servicecircle bench`` loads a benchmark only when it runs, and names its extras."""

from __future__ import annotations

from importlib.util import find_spec

import pytest
from typer.testing import CliRunner

from api.cli import app, bench


def test_every_benchmark_module_is_a_command() -> None:
    from benchmarks import EXTRAS

    assert set(bench.BENCHMARKS) == set(EXTRAS)
    assert all(find_spec(f"benchmarks.{name}") is not None for name in bench.BENCHMARKS)


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "find_spec", lambda name: None if name == "pulp" else find_spec(name))
    result = CliRunner().invoke(app, ["bench", "siting", "--quick"])
    assert result.exit_code == 1
    assert "pulp" in result.output and "pip install -e .[bench]" in result.output
