"""``servicecircle analyze cases``: compute and store grid-case hot spots per city."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.analyze import cities
from api.cli.common import console, engine, settings
from api.cli.options import Options, with_params
from geo.runs.params import CasesParams


def register(analyze_app: typer.Typer) -> None:
    """Add the ``cases`` command to the ``analyze`` group."""
    analyze_app.command(name="cases")(analyze_cases)


@with_params(CasesParams)
def analyze_cases(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all'.")] = "all", *,
    options: Options[CasesParams],
) -> None:
    """Getis-Ord Gi* hot spots, kernel density and per-grid closure, stored as a run."""
    from geo.runs import run_cases

    params = options.build()
    s = settings()
    with engine() as eng:
        with eng.connect() as conn:
            found = cities(conn, city)
        for c in found:
            with eng.begin() as conn:
                run = run_cases(conn, c, params, s)
            summary = run.summary
            console.print(f"{c.code}: run {run.run_id}: {summary['cases']} cases on "
                          f"{summary['cells']} cells; {summary['hot_cells']} hot, "
                          f"{summary['cold_cells']} cold (90/95/99 % bins: {summary['bins']}); "
                          f"{summary['unassigned_cases']} cases outside every grid.",
                          markup=False, highlight=False)
