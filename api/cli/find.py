"""``servicecircle find nearest`` / ``find search``: the nearest-station finder.

``find nearest`` lists the nearest stations of a type from a point (``--lon/--lat``) or a
typed address (``--q``) along the walking or riding network, with minutes, metres, opening
hours and services; ``--out`` writes their routes (GeoJSON, GeoPackage …, EPSG:4326).
``find search`` lists the city's compounds, stations and streets matching an address.
Both call the run layer the HTTP API calls (:func:`geo.runs.run_find`, ``run_search``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import console, engine, settings
from api.cli.options import Options, with_params
from geo.runs.params import FinderParams

app = typer.Typer(help="Find the nearest stations with their routes; search addresses.",
                  no_args_is_help=True)


@app.command(name="nearest")
@with_params(FinderParams, flags={"service_type": "--type", "q": "--address"})
def find_nearest(
    city: Annotated[str, typer.Option("--city", help="City code.")], *,
    options: Options[FinderParams],
    out: Annotated[Path | None, typer.Option("--out", help="Write the routes (.geojson, "
                                             ".gpkg …) with the stations' figures.")] = None,
) -> None:
    """The nearest stations of a type along the streets (not stored)."""
    import geopandas as gpd

    from geo.domain import station_service_term
    from geo.io.files import write_file
    from geo.runs import run_find

    params = options.build()
    with engine() as eng, eng.connect() as conn:
        run = run_find(conn, city, params, settings())
    r = run.result
    where = f"{run.place.name} ({run.place.kind})" if run.place else \
        f"{r.origin.x:.6f}, {r.origin.y:.6f}"
    t = Table(title=f"{run.city.code}: nearest {run.service_type} from {where}, {r.mode} "
              f"at {r.speed_m_per_min:g} m/min ({r.n_reachable} of {r.n_stations} reachable)")
    for col in ("rank", "station", "minutes", "metres", "opening hours", "services"):
        t.add_column(col, overflow="fold")
    for s in r.stations:
        t.add_row(str(s.rank), s.name, f"{s.minutes:.1f}", f"{s.metres:,.0f}",
                  s.opening_hours or "-",
                  "、".join(station_service_term(v).zh for v in s.services) or "-")
    console.print(t)
    if out is not None:
        routes = gpd.GeoDataFrame(
            {"rank": [s.rank for s in r.stations], "station_id": [s.station_id for s in r.stations],
             "name": [s.name for s in r.stations], "minutes": [s.minutes for s in r.stations],
             "metres": [s.metres for s in r.stations],
             "opening_hours": [s.opening_hours for s in r.stations],
             "services": ["、".join(s.services) for s in r.stations]},
            geometry=[s.route for s in r.stations], crs=4326)
        write_file(routes, out)
        console.print(f"wrote {len(routes)} routes to {out}", markup=False)


@app.command(name="search")
def find_search(
    city: Annotated[str, typer.Option("--city", help="City code.")],
    q: Annotated[str, typer.Argument(help="A name or address, e.g. 建设路12号.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=50, help="Most places.")] = 10,
) -> None:
    """Compounds, stations and streets whose name matches an address, best first."""
    from geo.runs import run_search

    with engine() as eng, eng.connect() as conn:
        found = run_search(conn, city, q, limit=limit)
    t = Table(title=f"{city}: places matching {q!r}")
    for col in ("kind", "name", "lon", "lat"):
        t.add_column(col)
    for p in found:
        t.add_row(p.kind, p.name, f"{p.lon:.6f}", f"{p.lat:.6f}")
    console.print(t)
    if not found:
        console.print("no place matches", markup=False)
