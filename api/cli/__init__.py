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
    find,
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
app.add_typer(find.app, name="find")
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
    Slips print one short message (exit code 2), never a traceback; ``SERVICECIRCLE_DEBUG=1``
    shows tracebacks.
    """
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    sys.exit(run_cli(app, debug=debug()))


def debug() -> bool:
    """Whether tracebacks are shown (``SERVICECIRCLE_DEBUG=1``); a broken setting is no
    reason to fail before the command has even run."""
    from geo.settings import Settings

    try:
        return Settings.from_env().debug
    except (TypeError, ValueError):
        return False
