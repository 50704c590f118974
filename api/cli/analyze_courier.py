"""``servicecircle analyze courier`` and ``analyze courier-demand``: station reach runs.

``analyze courier`` computes and stores the reach of courier rest stations (riding, the
seeds' 1-kilometre service circle by default) and of parcel stations (walking), one run
per city and station type. ``analyze courier-demand`` imports rider-demand points or
per-compound parcel/order estimates used as weights (``--weight``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.analyze import Scheduler, Workers, cities, run_all
from api.cli.common import console, engine, settings
from api.cli.options import Options, with_params
from geo.courier.reach import PRESETS
from geo.runs.params import CourierParams

#: Options not named ``--field-name`` (``--preset`` is the command's own: several presets).
FLAGS = {"service_type": "--type", "speed_m_per_min": "--speed",
         "overlap_min_share": "--overlap"}


def register(analyze_app: typer.Typer) -> None:
    """Add the ``courier`` and ``courier-demand`` commands to the ``analyze`` group."""
    analyze_app.command(name="courier")(analyze_courier)
    analyze_app.command(name="courier-demand")(import_courier_demand)


@with_params(CourierParams, flags=FLAGS, skip=("preset",), defaults={"service_type": None},
             more_help={"service_type": "A custom run instead of presets."})
def analyze_courier(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all'.")] = "all",
    presets: Annotated[str, typer.Option(
        "--preset", help=f"Comma-separated presets ({', '.join(PRESETS)}); default: "
        "courier_1km,parcel_walk_5min. Ignored with --type.")] = "courier_1km,parcel_walk_5min",
    scheduler: Scheduler = None, workers: Workers = None,
    *, options: Options[CourierParams],
) -> None:
    """Which compounds and grids each courier / parcel station reaches; unreached ones
    (``--city all``: each city a task of a Dask cluster, its runs in one transaction)."""
    from geo.runs import run_courier

    if options["service_type"] is not None:
        runs = [options.build()]
    else:
        runs = [options.without("service_type").build(preset=name)
                for name in (p.strip() for p in presets.split(",") if p.strip())]
    if city == "all":
        run_all("courier", runs, scheduler=scheduler, workers=workers,
                line=lambda o: "\n".join(_line(o.city, i, p, sm) for i, p, sm in
                                         zip(o.run_ids, o.params, o.summaries, strict=True)))
        return
    s = settings()
    with engine() as eng:
        with eng.connect() as conn:
            found = cities(conn, city)
        for c in found:
            for params in runs:
                with eng.begin() as conn:
                    run = run_courier(conn, c, params, s)
                console.print(_line(c.code, run.run_id, run.params, run.summary),
                              markup=False, highlight=False)


def _line(code: str, run_id: int, p: dict[str, Any], sm: dict[str, Any]) -> str:
    """One stored reach run in a line (``p``: its resolved parameters)."""
    budget = (f"{p['minutes']:g} min" if p["minutes"] is not None
              else f"{p['budget_m']:,.0f} m")
    return (f"{code} {p['service_type']} ({p['mode']}, {budget}): run "
            f"{run_id}; {sm['stations']} stations "
            f"reach {sm['compounds_reached']}/{sm['compounds']} compounds, "
            f"{sm['residents_reached']:,.0f} of {sm['residents']:,.0f} residents; "
            f"{sm['compounds_unreached']} compounds and {sm['grids_unreached']} grids "
            f"unreached; {sm['merge_candidates']} overlapping pairs ≥ "
            f"{p['overlap_min_share']:.0%}.")


def import_courier_demand(
    city: Annotated[str, typer.Option("--city", help="City code.")],
    path: Annotated[Path, typer.Argument(help="CSV, Excel, GeoJSON, GeoPackage, …")],
    kind: Annotated[str, typer.Option(
        "--kind", help="points (rider demand, with weight) or compounds (per-compound "
        "demand: compound external id + demand).")] = "points",
    crs: Annotated[str | None, typer.Option("--crs", help="wgs84, gcj02, bd09 or EPSG:n.")]
    = None,
    encoding: Annotated[str | None, typer.Option("--encoding")] = None,
    field_map: Annotated[list[str] | None, typer.Option(
        "--map", help="Column rename source=target (repeatable).")] = None,
) -> None:
    """Import courier demand (all rows or none), replacing the city's previous one."""
    from geo.io.files import parse_field_map
    from geo.store.courier_demand import import_demand

    with engine() as eng, eng.begin() as conn:
        report = import_demand(conn, city, kind, path, crs=crs,  # type: ignore[arg-type]
                               encoding=encoding, field_map=parse_field_map(field_map),
                               settings=settings())
    console.print(f"{report.kind}: {report.inserted} rows imported. "
                  + " ".join(report.warnings), markup=False, highlight=False)
