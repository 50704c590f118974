"""The ``servicecircle`` command line: one module per command group."""

from __future__ import annotations

import importlib
import sys

import typer

from api.cli import bench, data, db, io, serve
from api.cli.common import run_cli

app = typer.Typer(
    name="servicecircle",
    help="15-minute service circles and grid-governance analytics on PostGIS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(bench.app, name="bench")
app.add_typer(importlib.import_module("api.cli.keys").app, name="keys")
app.add_typer(importlib.import_module("api.cli.analyze").app, name="analyze")
data.register(app)
io.register(app)
serve.register(app)


def main() -> None:
    """Entry point of the ``servicecircle`` script."""
    sys.exit(run_cli(app))
