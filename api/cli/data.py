"""``servicecircle load demo|province`` and ``servicecircle city add|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import console, engine, progress
from geo.errors import InvalidInputError, Problem

out = Console()

load_app = typer.Typer(help="Load bundled data sets into the database.", no_args_is_help=True)
city_app = typer.Typer(help="Manage cities: add one from an OpenStreetMap extract, list them.",
                       no_args_is_help=True)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse ``minlon,minlat,maxlon,maxlat`` (EPSG:4326 degrees) and check it."""
    from geo.network.osm import check_bbox

    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidInputError(f"invalid --bbox {text!r}", [Problem(
            "expected four numbers: minlon,minlat,maxlon,maxlat", field="bbox")]) from None
    if len(values) != 4:
        raise InvalidInputError(f"invalid --bbox {text!r}", [Problem(
            f"expected four numbers, got {len(values)}", field="bbox")])
    return check_bbox((values[0], values[1], values[2], values[3]))


@load_app.command("demo")
def load_demo_command() -> None:
    """Load the demo cities Guixi 贵溪 and Wudaokou 五道口 (idempotent: reloading changes nothing).

    Real streets, places and boundaries from OpenStreetMap (© OpenStreetMap contributors);
    communities, grids, compounds, service points and cases are generated (data/README.md).
    """
    from geo.demo import DEMO_CITIES, STEPS_PER_CITY, load_demo

    with engine() as eng, progress() as bar:
        task = bar.add_task("loading demo", total=STEPS_PER_CITY * len(DEMO_CITIES))

        def report(message: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=message)

        with eng.begin() as conn:
            counts = load_demo(conn, progress=report)
    table = Table(title="Demo cities loaded (rows per table)")
    table.add_column("table")
    for code in counts:
        table.add_column(code, justify="right")
    for name in next(iter(counts.values())):
        table.add_row(name, *[f"{counts[c][name]:,}" for c in counts])
    out.print(table)
    from geo.settings import Settings
    from geo.store.network import network_figures_by_city

    with engine() as eng, eng.connect() as conn:
        figures = network_figures_by_city(conn)
    for code in counts:
        if figures.get(code):
            out.print(f"{code}:")
            print_network_figures(figures[code] or {},
                                  min_share=Settings.from_env().largest_component_min_share)


@load_app.command("province")
def load_province_command(
    cities: Annotated[int, typer.Option("--cities", min=1, max=999,
                                        help="Number of generated cities.")] = 8,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generator.")] = 20261201,
    compounds: Annotated[int | None, typer.Option(
        "--compounds", min=20, max=20_000,
        help="Compounds of every city (default: realistic sizes, 150–1,200).")] = None,
) -> None:
    """Load a generated province: cities gen001 … of realistic sizes (geo/demo/province.py),
    for batch runs and `servicecircle bench scale`. Everything is generated; reloading the
    same seed changes nothing."""
    from geo.demo.province import load_province

    with engine() as eng, progress() as bar:
        task = bar.add_task("generating cities", total=cities)

        def report(code: str, done: int, total: int) -> None:
            bar.update(task, completed=done, description=f"loaded {code}")

        with eng.begin() as conn:
            counts = load_province(conn, cities, seed=seed, compounds=compounds,
                                   progress=report)
    table = Table(title="Generated cities loaded (rows)")
    for col in ("city", "street nodes", "compounds", "service points", "grid cases"):
        table.add_column(col, justify="right")
    for code, c in counts.items():
        table.add_row(code, f"{c['street_node']:,}", f"{c['compound']:,}",
                      f"{c['service_point']:,}", f"{c['grid_case']:,}")
    out.print(table)


@city_app.command("add")
def city_add(
    code: Annotated[str, typer.Argument(
        help="Short city code: lower-case letters, digits, '_' or '-'.")],
    osm: Annotated[Path, typer.Option("--osm", help="OpenStreetMap extract (.osm XML or .osm.pbf).")],
    bbox: Annotated[str | None, typer.Option(
        "--bbox", help="Clip to minlon,minlat,maxlon,maxlat (EPSG:4326); default: the file's "
        "<bounds>.")] = None,
    name_zh: Annotated[str | None, typer.Option("--name-zh", help="Chinese name (default: code).")] = None,
    name_en: Annotated[str | None, typer.Option("--name-en", help="English name (default: code).")] = None,
) -> None:
    """Add a city (or replace its street network) from an OpenStreetMap extract.

    Builds the walking network and the network couriers ride on, clipped to --bbox or the
    file's own bounds. Import grids, compounds, service points and cases afterwards with
    `servicecircle import`.
    """
    from geo.basemap import read_basemap
    from geo.network.osm import read_osm
    from geo.settings import Settings
    from geo.store.basemap import write_basemap
    from geo.store.cities import code_problems, create_city
    from geo.store.osm import write_osm_network

    problems = code_problems(code)
    if problems:
        raise InvalidInputError("invalid city code", problems)
    box = parse_bbox(bbox) if bbox is not None else None
    settings = Settings.from_env()
    with console.status(f"Reading {osm.name}…"):
        extract = read_osm(osm, bbox=box, walk_trunk_by_default=settings.walk_trunk_by_default)
        basemap = read_basemap(osm, bbox=tuple(extract.bounds.bounds))  # type: ignore[arg-type]
    edges = extract.edges
    if edges.empty:
        raise InvalidInputError(f"no walkable or rideable streets inside the bounds of {osm.name}",
                                [Problem("the street network is empty; check --bbox", field="bbox")])
    with engine() as eng, eng.begin() as conn, console.status("Writing the street network…"):
        city = create_city(conn, code, name_zh=name_zh or code, name_en=name_en or code,
                           bounds=extract.bounds)
        figures = write_osm_network(conn, city.id, nodes=extract.nodes, edges=edges,
                                    gate_points=extract.gate_points,
                                    walk_rules=extract.walk_rules)
        drawn = write_basemap(conn, city.id, basemap)
    ride_km = edges.loc[edges["ride"], "length_m"].sum() / 1000
    out.print(f"city {city.code} ({city.name_zh} / {city.name_en}), metric CRS EPSG:{city.metric_epsg}")
    out.print(f"  stored: {len(extract.nodes):,} nodes, {len(edges):,} edges (walking and riding); "
              f"ride {ride_km:,.1f} km")
    print_network_figures(figures, min_share=settings.largest_component_min_share)
    out.print(f"  OSM gate and entrance nodes: {len(extract.gate_points):,}")
    out.print(f"  basemap: {sum(drawn.values()):,} features (streets, water, green, buildings, "
              "names)")
    out.print("  © OpenStreetMap contributors (ODbL)")


def print_network_figures(figures: dict[str, Any], *, min_share: float) -> None:
    """The walking network's figures, km per walkability rule, and a warning naming the
    disconnected parts when the largest part holds less than ``min_share`` of the length."""
    w = figures["walk"]
    share = w["largest_share"]
    out.print(f"  walking network: {w['n_nodes']:,} nodes, {w['n_edges']:,} edges, "
              f"{w['length_m'] / 1000:,.1f} km in {w['n_components']:,} part(s); the largest "
              f"holds {w['largest_length_m'] / 1000:,.1f} km"
              + (f" ({share:.1%})" if share is not None else ""))
    table = Table(title="Walkability rules (km of streets in the bounds each rule decided)")
    for col in ("rule", "effect", "ways", "km"):
        table.add_column(col, justify="right" if col in ("ways", "km") else "left")
    for r in figures["walk_rules"]:
        table.add_row(r["rule"], "added" if r["walkable"] else "removed", f"{r['ways']:,}",
                      f"{r['km']:,.2f}")
    out.print(table)
    if share is not None and share < min_share:
        out.print(f"[yellow]warning:[/yellow] the largest part of the walking network holds "
                  f"only {share:.1%} of its length (below {min_share:.0%}); travel between "
                  f"parts is impossible. The other parts, longest first:")
        for p in w["pieces"]:
            names = "、".join(p["names"]) or "(unnamed)"
            ways = ", ".join(f"way {i}" for i in p["way_ids"])
            out.print(f"    {p['length_m'] / 1000:,.2f} km, {p['n_edges']} edges: {names} "
                      f"({ways})")
        if w["n_components"] - 1 > len(w["pieces"]):
            out.print(f"    … and {w['n_components'] - 1 - len(w['pieces'])} smaller part(s)")


@city_app.command("list")
def city_list() -> None:
    """List the cities in the database with their street-network size."""
    from sqlalchemy import text

    from geo.store.cities import list_cities

    with engine() as eng, eng.connect() as conn:
        cities = list_cities(conn)
        sizes: dict[int, int] = dict(conn.execute(text(
            "SELECT city_id, count(*) FROM street_edge GROUP BY city_id")).all())
    table = Table(title="Cities")
    for col in ("code", "中文名", "name", "EPSG", "bounds (lon/lat)", "street edges"):
        table.add_column(col)
    for c in cities:
        b = ", ".join(f"{v:.4f}" for v in c.bounds.bounds)
        table.add_row(c.code, c.name_zh, c.name_en, str(c.metric_epsg), b,
                      f"{sizes.get(c.id, 0):,}")
    out.print(table)


def register(app: typer.Typer) -> None:
    """Attach the data-loading commands to the main app."""
    app.add_typer(load_app, name="load")
    app.add_typer(city_app, name="city")
