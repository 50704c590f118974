"""``servicecircle analyze cases``: compute and store grid-case hot spots per city."""

from __future__ import annotations

import typer

from api.cli.common import console, engine, settings


def register(analyze_app: typer.Typer) -> None:
    """Add the ``cases`` command to the ``analyze`` group."""
    analyze_app.command(name="cases")(analyze_cases)


def analyze_cases(
    city: str = typer.Option("all", "--city", help="City code, or 'all'."),
    categories: str = typer.Option(None, help="Comma-separated category codes (default: all)."),
    start: str = typer.Option(None, help="Window start, inclusive (ISO; China Standard Time "
                              "without an offset)."),
    end: str = typer.Option(None, help="Window end, exclusive."),
    resolution: int = typer.Option(9, min=6, max=10, help="H3 resolution (8 ≈ grid, "
                                   "9 ≈ compound)."),
    permutations: int = typer.Option(999, min=99, help="Gi* permutations."),
    seed: int = typer.Option(0, help="Random seed of the permutations."),
    fdr: bool = typer.Option(False, "--fdr", help="Bin on Benjamini–Hochberg adjusted p."),
    bandwidth_m: float = typer.Option(300.0, min=50, help="KDE bandwidth in metres."),
    overdue_hours: float = typer.Option(72.0, min=1, help="Open cases older than this are "
                                        "overdue (hours)."),
    area: str = typer.Option("grids", help="Study area: 'grids' (union of the grids) or "
                             "'city' (the city bounds)."),
) -> None:
    """Getis-Ord Gi* hot spots, kernel density and per-grid closure, stored as a run."""
    from api.routes.cases import parse_categories, parse_time
    from geo.cases.counts import check_window
    from geo.store.cases import analyze_city_cases
    from geo.store.cities import get_city, list_cities

    s, e = parse_time(start, "start"), parse_time(end, "end")
    check_window(s, e)
    with engine() as eng:
        with eng.connect() as conn:
            cities = list_cities(conn) if city == "all" else [get_city(conn, city)]
        for c in cities:
            with eng.begin() as conn:
                run_id, summary = analyze_city_cases(
                    conn, c.id, metric_epsg=c.metric_epsg,
                    categories=parse_categories(categories), start=s, end=e,
                    resolution=resolution, permutations=permutations, seed=seed, fdr=fdr,
                    bandwidth_m=bandwidth_m, overdue_hours=overdue_hours,
                    area=area,  # type: ignore[arg-type]  # checked by study_area
                    min_public_case_count=settings().min_public_case_count)
            console.print(f"{c.code}: run {run_id}: {summary['cases']} cases on "
                          f"{summary['cells']} cells; {summary['hot_cells']} hot, "
                          f"{summary['cold_cells']} cold (90/95/99 % bins: {summary['bins']}); "
                          f"{summary['unassigned_cases']} cases outside every grid.",
                          markup=False, highlight=False)
