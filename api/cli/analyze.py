"""``servicecircle analyze …``: run analyses and store them as analysis runs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import engine, progress, settings
from api.cli.options import Options, with_params
from geo.errors import InvalidInputError, Problem
from geo.runs.params import CoverageParams

app = typer.Typer(help="Run analyses on the database and store their results.",
                  no_args_is_help=True)
out = Console()


def cities(conn: Any, city: str) -> list[Any]:
    """The cities a command runs over: every city for ``all``, else the one named."""
    from geo.store.cities import get_city, list_cities

    found = list_cities(conn) if city == "all" else [get_city(conn, city)]
    if not found:
        raise InvalidInputError("no cities in the database; run `servicecircle load demo`",
                                [Problem("no cities", field="city")])
    return found


@app.command("coverage")
@with_params(CoverageParams, flags={"speed_m_per_min": "--speed", "trim_m": "--trim"})
def coverage(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all'.")] = "all", *,
    week: Annotated[bool, typer.Option("--week/--no-week", help=(
        "Also one run (with --at) for each distinct set of service points open over the "
        "week, so that every weekday and time has its run."))] = False,
    options: Options[CoverageParams],
) -> None:
    """Nearest service, 5/10/15-minute walking circles, gaps and coverage in people.

    Stores one analysis run per city (served as map layers and by /coverage); with --at,
    the run of the service points open at that moment.
    """
    from geo.runs import run_coverage, week_moments_of

    params = options.build()
    params.thresholds()
    s = settings()
    with engine() as eng:
        with eng.connect() as conn:
            found = cities(conn, city)
            jobs = [(c, params) for c in found]
            if week:
                jobs += [(c, options.build(at=m)) for c in found
                         for m in week_moments_of(conn, c)]
        table = Table(title="Coverage runs")
        for col in ("city", "run", "at", "compounds", "residents", "types"):
            table.add_column(col)
        with progress() as bar:
            task = bar.add_task("coverage", total=len(jobs))
            for c, p in jobs:
                bar.update(task, description=f"coverage {c.code} {p.at or ''}")
                with eng.begin() as conn:
                    run = run_coverage(conn, c, p, s)
                summary = run.summary
                table.add_row(c.code, str(run.run_id), p.at or "all day",
                              f"{summary['compounds']:,}", f"{summary['residents']:,.0f}",
                              str(len(summary["service_types"])))
                bar.advance(task)
    out.print(table)
