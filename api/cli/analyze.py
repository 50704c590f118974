"""``servicecircle analyze …``: run analyses and store them as analysis runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import console, engine, progress, settings
from api.cli.options import Options, with_params
from geo.errors import InvalidInputError, Problem
from geo.runs.params import CoverageParams, Params

if TYPE_CHECKING:
    from geo.runs.batch import CityOutcome

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


#: ``--scheduler`` and ``--workers`` of the analyses that run over every city.
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Dask scheduler (tcp://host:8786) running --city all; default "
    "SERVICECIRCLE_DASK_SCHEDULER, else an embedded cluster of worker processes.")]
Workers = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Worker processes of the embedded cluster for --city all "
    "(default: one per CPU).")]


def run_all(analysis: str, params: Sequence[Params], *, scheduler: str | None,
            workers: int | None, line: Callable[[CityOutcome], str],
            extra: Mapping[str, Sequence[Params]] | None = None,
            split_compounds: int | None = None) -> list[CityOutcome]:
    """Run ``analysis`` over every city as Dask tasks (:mod:`geo.runs.batch`), the cities
    with most compounds first, printing ``line(outcome)`` as each city finishes; failed
    cities are listed at the end (exit 1). Coverage cities of more than ``split_compounds``
    compounds (default: the settings') are computed in parts by service type."""
    from geo.runs.batch import dask_client, run_batch
    from geo.store.cities import city_compounds

    s = settings()
    with engine() as eng, eng.connect() as conn:
        codes = [c.code for c in cities(conn, "all")]
        sizes = city_compounds(conn)
    where = scheduler or s.dask_scheduler
    with progress() as bar:
        task = bar.add_task(f"{analysis}: starting "
                            + (f"on {where}" if where else "the local cluster"), total=len(codes))
        with dask_client(scheduler=where, workers=workers) as client:
            bar.update(task, description=f"{analysis}: {len(codes)} cities")

            def done(o: CityOutcome) -> None:
                bar.console.print(line(o) if o.ok else f"{o.city}: failed: {o.error}",
                                  markup=False, highlight=False)
                bar.advance(task)

            outcomes = run_batch(analysis, codes, params, client=client, db_name=s.database,
                                 on_done=done, extra=extra, sizes=sizes,
                                 split_compounds=(split_compounds if split_compounds is not None
                                                  else s.batch_split_compounds) or None)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        console.print(f"[red]error:[/red] {len(failed)} of {len(outcomes)} cities failed "
                      f"(the others are stored): {', '.join(o.city for o in failed)}",
                      highlight=False)
        raise typer.Exit(1)
    return outcomes


@app.command("coverage")
@with_params(CoverageParams, flags={"speed_m_per_min": "--speed", "trim_m": "--trim"})
def coverage(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all'.")] = "all",
    scheduler: Scheduler = None, workers: Workers = None, *,
    week: Annotated[bool, typer.Option("--week/--no-week", help=(
        "Also one run (with --at) for each distinct set of service points open over the "
        "week, so that every weekday and time has its run."))] = False,
    split_compounds: Annotated[int | None, typer.Option(
        "--split-compounds", min=0, help="--city all: a city of more compounds is computed "
        "in parts by service type on several workers and stored as one run (default "
        "SERVICECIRCLE_BATCH_SPLIT_COMPOUNDS, 8000; 0 = never).")] = None,
    options: Options[CoverageParams],
) -> None:
    """Nearest service, 5/10/15-minute walking circles, gaps and coverage in people.

    Stores one analysis run per city (served as map layers and by /coverage); with --at,
    the run of the service points open at that moment; with ``--city all`` each city is a
    task of a Dask cluster.
    """
    from geo.runs import run_coverage, week_moments_of

    params = options.build()
    params.thresholds()
    table = Table(title="Coverage runs")
    for col in ("city", "run", "compounds", "residents", "types"):
        table.add_column(col)

    def row(code: str, run_id: int, summary: dict[str, Any]) -> None:
        table.add_row(code, str(run_id), f"{summary['compounds']:,}",
                      f"{summary['residents']:,.0f}", str(len(summary["service_types"])))

    if city == "all":
        extra: dict[str, list[CoverageParams]] = {}
        if week:
            with engine() as eng, eng.connect() as conn:
                extra = {c.code: [options.build(at=m) for m in week_moments_of(conn, c)]
                         for c in cities(conn, "all")}
        for o in run_all("coverage", [params], scheduler=scheduler, workers=workers,
                         extra=extra, split_compounds=split_compounds,
                         line=lambda o: f"{o.city}: run {', '.join(map(str, o.run_ids))} "
                                        f"({o.seconds:.1f} s on {o.worker}"
                                        f"{f', {o.parts} parts' if o.parts > 1 else ''})"):
            row(o.city, o.run_ids[0], o.summaries[0])
        out.print(table)
        return
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
