"""``servicecircle analyze cases``: compute and store grid-case hot spots per city."""

from __future__ import annotations

import typer

from api.cli.analyze import cities
from api.cli.common import build, console, engine, settings
from geo.cases.stats import DEFAULT_OVERDUE_HOURS
from geo.runs.params import CasesParams, field_help

H = CasesParams


def register(analyze_app: typer.Typer) -> None:
    """Add the ``cases`` command to the ``analyze`` group."""
    analyze_app.command(name="cases")(analyze_cases)


def analyze_cases(
    city: str = typer.Option("all", "--city", help="City code, or 'all'."),
    categories: str = typer.Option(None, help=field_help(H, "categories") + " Comma-separated."),
    start: str = typer.Option(None, help=field_help(H, "start")),
    end: str = typer.Option(None, help=field_help(H, "end")),
    resolution: int = typer.Option(9, help=field_help(H, "resolution")),
    permutations: int = typer.Option(999, help=field_help(H, "permutations")),
    seed: int = typer.Option(0, help=field_help(H, "seed")),
    fdr: bool = typer.Option(False, "--fdr", help=field_help(H, "fdr")),
    bandwidth_m: float = typer.Option(300.0, help=field_help(H, "bandwidth_m")),
    overdue_hours: float = typer.Option(DEFAULT_OVERDUE_HOURS,
                                        help=field_help(H, "overdue_hours")),
    area: str = typer.Option("grids", help=field_help(H, "area")),
) -> None:
    """Getis-Ord Gi* hot spots, kernel density and per-grid closure, stored as a run."""
    from geo.runs import run_cases

    params = build(CasesParams, categories=categories, start=start, end=end,
                   resolution=resolution, permutations=permutations, seed=seed, fdr=fdr,
                   bandwidth_m=bandwidth_m, overdue_hours=overdue_hours, area=area)
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
