"""``servicecircle analyze courier`` and ``analyze courier-demand``: station reach runs.

``analyze courier`` computes and stores the reach of courier rest stations (riding, the
seeds' 1-kilometre service circle by default) and of parcel stations (walking), one run
per city and station type. ``analyze courier-demand`` imports rider-demand points or
per-compound parcel/order estimates used as weights (``--weight``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import console, engine, settings
from geo.courier.reach import PRESETS, preset
from geo.errors import InvalidInputError, Problem


def register(analyze_app: typer.Typer) -> None:
    """Add the ``courier`` and ``courier-demand`` commands to the ``analyze`` group."""
    analyze_app.command(name="courier")(analyze_courier)
    analyze_app.command(name="courier-demand")(import_courier_demand)


def analyze_courier(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all'.")] = "all",
    presets: Annotated[str, typer.Option(
        "--preset", help=f"Comma-separated presets ({', '.join(PRESETS)}); default: "
        "courier_1km,parcel_walk_5min. Ignored with --type.")] = "courier_1km,parcel_walk_5min",
    service_type: Annotated[str | None, typer.Option(
        "--type", help="Station type for a custom run, e.g. courier_station.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="ride (e-bike) or walk.")] = "ride",
    minutes: Annotated[float | None, typer.Option("--minutes", min=0.1)] = None,
    metres: Annotated[float | None, typer.Option("--metres", min=1.0)] = None,
    weight: Annotated[str, typer.Option(
        "--weight", help="residents, compound_demand or demand_points.")] = "residents",
    speed: Annotated[float | None, typer.Option(
        "--speed", min=1.0, help="Travel speed in m/min (default: riding 250 = 15 km/h, "
        "walking 75 = 4.5 km/h; see geo.settings).")] = None,
    overlap: Annotated[float, typer.Option(
        "--overlap", min=0.0, max=1.0, help="Share of the smaller catchment two stations "
        "must share to be flagged.")] = 0.5,
) -> None:
    """Which compounds and grids each courier / parcel station reaches; unreached ones."""
    from geo.store.cities import get_city, list_cities
    from geo.store.courier import analyze_city_courier

    if service_type is not None:
        if (minutes is None) == (metres is None):
            raise InvalidInputError("give --minutes or --metres with --type",
                                    [Problem("exactly one budget", field="minutes")])
        runs = [(service_type, mode, minutes, metres)]
    else:
        runs = []
        for name in (p.strip() for p in presets.split(",") if p.strip()):
            p = preset(name)
            runs.append((p.service_type, p.mode, p.minutes, p.metres))
    s = settings()
    speed_arg = speed
    with engine() as eng:
        with eng.connect() as conn:
            cities = list_cities(conn) if city == "all" else [get_city(conn, city)]
        for c in cities:
            for typ, md, mins, mets in runs:
                speed = speed_arg if speed_arg is not None else (
                    s.ride_speed_m_per_min if md == "ride" else s.walk_speed_m_per_min)
                with eng.begin() as conn:
                    run_id, reach = analyze_city_courier(
                        conn, c.id, service_type=typ, mode=md,  # type: ignore[arg-type]
                        minutes=mins, metres=mets, weight=weight,  # type: ignore[arg-type]
                        overlap_min_share=overlap, speed_m_per_min=speed,
                        max_snap_m=s.max_snap_m, metric_epsg=c.metric_epsg)
                sm = reach.summary()
                budget = f"{mins:g} min" if mins is not None else f"{reach.budget_m:,.0f} m"
                console.print(
                    f"{c.code} {typ} ({md}, {budget}): run {run_id}; {sm['stations']} stations "
                    f"reach {sm['compounds_reached']}/{sm['compounds']} compounds, "
                    f"{sm['residents_reached']:,.0f} of {sm['residents']:,.0f} residents; "
                    f"{sm['compounds_unreached']} compounds and {sm['grids_unreached']} grids "
                    f"unreached; {sm['merge_candidates']} overlapping pairs ≥ {overlap:.0%}.",
                    markup=False, highlight=False)


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
