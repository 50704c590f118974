"""``servicecircle import|export|types``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import console, engine, settings

KINDS_HELP = ("streets (街道 sub-district polygons), communities, grids, compounds, "
              "service-points, cases or candidates")
IMPORT_KINDS_HELP = ("streets (街道 sub-district polygons), communities, grids, compounds, "
                     "service-points, cases or candidates (siting candidate sites: points with "
                     "optional name, kind, cost, capacity)")

types_app = typer.Typer(help="Service types: the built-in ones and those added by configuration.",
                        no_args_is_help=True)


@types_app.command("list")
def types_list() -> None:
    """List service types (code, Chinese and English name, built-in or added)."""
    from geo.store.imports import list_service_types

    with engine() as eng, eng.connect() as conn:
        for code, zh, en, builtin in list_service_types(conn):
            console.print(f"{code:<22} {zh:<10} {en:<30} {'built-in' if builtin else 'added'}",
                          markup=False, highlight=False)


@types_app.command("add")
def types_add(
    code: str = typer.Argument(..., help="Code, e.g. youth_station (a-z, 0-9, _)."),
    zh: str = typer.Option(..., "--zh", help="Chinese name, e.g. 青年驿站."),
    en: str = typer.Option(..., "--en", help="English name, e.g. Youth station."),
) -> None:
    """Add a service type (or rename one added before)."""
    from geo.store.imports import add_service_type

    with engine() as eng, eng.begin() as conn:
        add_service_type(conn, code, name_zh=zh, name_en=en)
    console.print(f"service type {code!r} saved")


def register(app: typer.Typer) -> None:
    """Attach import/export commands to the main app."""
    app.add_typer(types_app, name="types")

    @app.command("import")
    def import_(
        kind: Annotated[str, typer.Argument(help=f"What the file holds: {IMPORT_KINDS_HELP}.")],
        file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile (.shp or "
                                                  ".zip), CSV, GeoParquet or Excel (.xlsx).")],
        city: Annotated[str, typer.Option("--city", help="City code (see `servicecircle city "
                                                         "list`).")],
        crs: str = typer.Option(None, "--crs", help="wgs84, gcj02, bd09 or EPSG:n; required when "
                                                    "the file has no CRS (CSV: WGS-84)."),
        repair: bool = typer.Option(False, "--repair",
                                    help="Repair invalid polygons instead of rejecting them."),
        mapping: Annotated[list[str] | None, typer.Option(
            "--map", help="Rename a column: source=target (repeatable).")] = None,
        encoding: str = typer.Option(None, "--encoding",
                                     help="Text encoding if not UTF-8, e.g. gb18030."),
        no_offset_check: bool = typer.Option(
            False, "--no-offset-check",
            help="Do not reject WGS-84 data that looks GCJ-02/BD-09-shifted."),
        dry_run: bool = typer.Option(False, "--dry-run",
                                     help="Validate and count, then write nothing."),
        layer: str = typer.Option(None, "--layer",
                                  help="GeoPackage layer to read (needed when it has several)."),
    ) -> None:
        """Import features into a city: every problem is listed, nothing is written on error."""
        from geo.io.files import parse_field_map
        from geo.store.imports import import_file

        field_map = parse_field_map(mapping)
        # closing the connection without commit rolls back: errors and dry runs write nothing
        with engine() as eng, eng.connect() as conn:
            with console.status(f"Importing {file.name}…"):
                report = import_file(conn, city, kind, file, crs=crs, repair=repair,
                                     field_map=field_map, encoding=encoding,
                                     check_offset=not no_offset_check, settings=settings(),
                                     layer=layer)
            if not dry_run:
                conn.commit()
        for w in report.warnings:
            console.print(f"warning: {w}", markup=False, highlight=False)
        verb = "would be" if dry_run else "were"
        console.print(f"{report.rows_read} {kind} read: {report.inserted} {verb} inserted, "
                      f"{report.updated} {verb} updated"
                      + (f", {len(report.repaired)} repaired" if report.repaired else "")
                      + (" (dry run: nothing was written)" if dry_run else ""))

    @app.command("export")
    def export(
        kind: Annotated[str, typer.Argument(help=f"What to export: {KINDS_HELP}.")],
        file: Annotated[Path, typer.Argument(help="Output file; the format follows the "
                                                  "extension (.geojson, .gpkg, .shp, .zip, "
                                                  ".csv, .parquet, .xlsx).")],
        city: Annotated[str, typer.Option("--city", help="City code.")],
    ) -> None:
        """Export a city's features (EPSG:4326) in a format the import reads back."""
        from geo.store.exports import export_features

        with engine() as eng, eng.connect() as conn:
            n = export_features(conn, city, kind, file)
        console.print(f"{n} {kind} written to {file}")
