"""Every command and sub-command of ``servicecircle`` answers ``--help``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from api.cli import app

ROOT = typer.main.get_command(app)


def _paths(cmd: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _paths(sub, (*prefix, name))


PATHS = list(_paths(ROOT))


def test_all_command_groups_are_registered() -> None:
    top = {p[0] for p in PATHS if p}
    assert {"db", "load", "city", "import", "export", "types", "analyze", "keys", "serve",
            "bench"} <= top


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "servicecircle")
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
