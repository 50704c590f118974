"""``servicecircle analyze grids`` / ``analyze regrid``: grid workload and re-gridding."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import console, engine
from api.cli.options import Options, with_params
from geo.runs.params import GridsParams, RegridParams


def register(analyze_app: typer.Typer) -> None:
    """Add the ``grids`` and ``regrid`` commands to the ``analyze`` group."""
    analyze_app.command(name="grids")(analyze_grids)
    analyze_app.command(name="regrid")(analyze_regrid)


@with_params(GridsParams)
def analyze_grids(
    city: Annotated[str, typer.Option("--city", help="City code.")], *,
    options: Options[GridsParams],
    out: Annotated[Path | None, typer.Option("--out", help="Write the per-grid table "
                                             "(.csv, .xlsx …) with grid polygons (.gpkg, "
                                             ".geojson).")] = None,
) -> None:
    """Per-grid households, cases per month, median closure time and workload index, and
    the imbalance per community or street (not stored)."""
    from geo.io.files import write_file
    from geo.runs import run_grid_workload
    from geo.store.grids import read_grid_units

    params = options.build()
    with engine() as eng, eng.connect() as conn:
        run = run_grid_workload(conn, city, params)
        geoms = read_grid_units(conn, run.city.id)[["grid_id", "geometry"]]
    t = Table(title=f"{run.city.code}: imbalance by {params.by} "
              f"({params.lower}–{params.upper} households)")
    for col in (params.by, "grids", "mean_households", "cv_households", "cv_workload",
                "outside_range"):
        t.add_column(col)
    for r in run.imbalance.itertuples(index=False):
        d = r._asdict()
        t.add_row(str(d[params.by]), str(d["grids"]), f"{d['mean_households']:.0f}",
                  f"{d['cv_households']:.2f}", f"{d['cv_workload']:.2f}",
                  f"{d['outside_range']}/{d['grids']}")
    console.print(t)
    if out is not None:
        write_file(geoms.merge(run.workload.table, on="grid_id"), out)
        console.print(f"wrote {len(run.workload.table)} grids to {out}", markup=False)


@with_params(RegridParams)
def analyze_regrid(
    city: Annotated[str, typer.Option("--city", help="City code.")], *,
    options: Options[RegridParams],
    out: Annotated[Path | None, typer.Option("--out", help="Write the proposed grids "
                                             "(.gpkg, .geojson, .shp).")] = None,
) -> None:
    """Propose grids for one community within the household range (max-p over compound
    cells; compounds are never split) and print the before/after table; --save stores
    the proposal (the map's grid_proposal layer)."""
    from geo.io.files import write_file
    from geo.runs import run_regrid

    params = options.build()
    with engine() as eng, eng.begin() as conn:
        run = run_regrid(conn, city, params)
    t = Table(title=f"{run.city.code} {run.community}: {params.lower}–{params.upper} households")
    for col in ("stage", "grids", "mean_households", "cv_households", "outside_range"):
        t.add_column(col)
    for r in run.before_after.to_dict("records"):
        mean = "-" if r["mean_households"] is None else f"{r['mean_households']:.0f}"
        cvh = "-" if r["cv_households"] is None else f"{r['cv_households']:.2f}"
        t.add_row(r["stage"], str(r["grids"]), mean, cvh, str(r["outside_range"]))
    console.print(t)
    for p in run.result.problems:
        console.print(f"{p.label('zh')} / {p.label('en')} ({p.reason}): compound "
                      f"{p.compound} ({p.compound_households:.0f} "
                      f"households) — proposed grid {p.proposal} holds "
                      f"{p.grid_households:.0f}", markup=False, highlight=False)
    if run.run_id is not None:
        console.print(f"saved as run {run.run_id}", markup=False, highlight=False)
    if out is not None:
        write_file(run.result.grids, out)
        console.print(f"wrote {len(run.result.grids)} proposed grids to {out}", markup=False)
