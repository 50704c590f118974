"""``servicecircle analyze …``: run analyses and store them as analysis runs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import engine, progress
from geo.errors import InvalidInputError, Problem

app = typer.Typer(help="Run analyses on the database and store their results.",
                  no_args_is_help=True)
out = Console()


def parse_numbers(text: str | None, what: str) -> list[float] | None:
    """Parse ``5,10,15`` into positive numbers (None for None)."""
    if text is None:
        return None
    try:
        values = [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise InvalidInputError(f"invalid --{what} {text!r}", [Problem(
            "expected comma-separated numbers, e.g. 5,10,15", field=what)]) from None
    if not values or any(v <= 0 for v in values):
        raise InvalidInputError(f"invalid --{what} {text!r}", [Problem(
            "thresholds must be positive numbers", field=what)])
    return values


@app.command("coverage")
def coverage(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all'.")] = "all",
    minutes: Annotated[str | None, typer.Option(
        "--minutes", help="Walking-time thresholds in minutes (default 5,10,15).")] = None,
    metres: Annotated[str | None, typer.Option(
        "--metres", help="Network-distance thresholds in metres instead, e.g. 300,500,1000 "
        "(GB 50180-2018).")] = None,
    speed: Annotated[float | None, typer.Option(
        "--speed", help="Walking speed in m/min (default 75 = 4.5 km/h).")] = None,
    buffer_m: Annotated[float, typer.Option(
        "--buffer", help="Width in metres either side of reached streets.")] = 40.0,
) -> None:
    """Nearest service, 5/10/15-minute walking circles, gaps and coverage in people.

    Stores one analysis run per city (served as map layers and by /coverage).
    """
    from geo.settings import Settings
    from geo.store.cities import get_city, list_cities
    from geo.store.coverage import latest_run, run_coverage

    mins = parse_numbers(minutes, "minutes")
    mets = parse_numbers(metres, "metres")
    if mins is not None and mets is not None:
        raise InvalidInputError("give --minutes or --metres, not both",
                                [Problem("both given", field="minutes")])
    if mins is None and mets is None:
        mins = [5.0, 10.0, 15.0]
    walk = speed if speed is not None else Settings.from_env().walk_speed_m_per_min
    with engine() as eng:
        with eng.connect() as conn:
            codes = ([c.code for c in list_cities(conn)] if city == "all"
                     else [get_city(conn, city).code])
        if not codes:
            raise InvalidInputError("no cities in the database; run `servicecircle load demo`",
                                    [Problem("no cities", field="city")])
        table = Table(title="Coverage runs")
        for col in ("city", "run", "compounds", "residents", "types"):
            table.add_column(col)
        with progress() as bar:
            task = bar.add_task("coverage", total=len(codes))
            for code in codes:
                bar.update(task, description=f"coverage {code}")
                with eng.begin() as conn:
                    run_id = run_coverage(conn, code, minutes=mins, metres=mets,
                                          speed_m_per_min=walk, buffer_m=buffer_m)
                    summary = latest_run(conn, get_city(conn, code).id)["summary"]
                table.add_row(code, str(run_id), f"{summary['compounds']:,}",
                              f"{summary['residents']:,.0f}",
                              str(len(summary["service_types"])))
                bar.advance(task)
    out.print(table)

