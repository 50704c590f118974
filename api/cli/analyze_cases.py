"""``servicecircle analyze cases``: compute and store grid-case hot spots per city."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.analyze import Scheduler, Workers, cities, run_all
from api.cli.common import console, engine, settings
from api.cli.options import Options, with_params
from geo.runs.params import CasesParams


def register(analyze_app: typer.Typer) -> None:
    """Add the ``cases`` command to the ``analyze`` group."""
    analyze_app.command(name="cases")(analyze_cases)


def _line(code: str, run_id: int, summary: dict[str, Any]) -> str:
    return (f"{code}: run {run_id}: {summary['cases']} cases on "
            f"{summary['cells']} cells; {summary['hot_cells']} hot, "
            f"{summary['cold_cells']} cold (90/95/99 % bins: {summary['bins']}); "
            f"{summary['unassigned_cases']} cases outside every grid.")


@with_params(CasesParams)
def analyze_cases(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all'.")] = "all",
    scheduler: Scheduler = None, workers: Workers = None, *,
    options: Options[CasesParams],
) -> None:
    """Getis-Ord Gi* hot spots, kernel density and per-grid closure, stored as a run
    (``--city all``: each city a task of a Dask cluster)."""
    from geo.runs import run_cases

    params = options.build()
    if city == "all":
        run_all("cases", [params], scheduler=scheduler, workers=workers,
                line=lambda o: _line(o.city, o.run_ids[0], o.summaries[0]))
        return
    s = settings()
    with engine() as eng:
        with eng.connect() as conn:
            found = cities(conn, city)
        for c in found:
            with eng.begin() as conn:
                run = run_cases(conn, c, params, s)
            console.print(_line(c.code, run.run_id, run.summary), markup=False,
                          highlight=False)
