"""The ``servicecircle`` command line: one module per command group."""

from __future__ import annotations

import sys
import warnings

import typer

from api.cli import (
    analyze,
    analyze_cases,
    analyze_courier,
    analyze_grids,
    analyze_siting,
    bench,
    data,
    db,
    io,
    keys,
    serve,
)
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
app.add_typer(keys.app, name="keys")
app.add_typer(analyze.app, name="analyze")
analyze_cases.register(analyze.app)
analyze_grids.register(analyze.app)
analyze_courier.register(analyze.app)
analyze_siting.register(analyze.app)
data.register(app)
io.register(app)
serve.register(app)


def main() -> None:
    """Entry point of the ``servicecircle`` script.

    Python warnings (e.g. GDAL's notes on a file it is reading) are not shown: every
    problem a user can act on is printed as a problem; ``python -W default`` shows them.
    """
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    sys.exit(run_cli(app))
