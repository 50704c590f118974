"""``servicecircle db up|status|down|reset``."""

from __future__ import annotations

import typer

from api.cli.common import console, settings
from geo.store import cluster

app = typer.Typer(help="Manage the database (the embedded PostGIS cluster by default).",
                  no_args_is_help=True)


def _print(st: cluster.ClusterStatus) -> None:
    console.print(f"data folder : {st.data_dir}")
    console.print(f"initialised : {st.initialised}")
    console.print(f"running     : {st.running}")
    console.print(f"url         : {st.url}")
    console.print(f"postgis     : {st.postgis_version or '-'}")


@app.command()
def up() -> None:
    """Install PostGIS if missing, start the cluster, create the database, migrate."""
    with console.status("Starting PostGIS and applying migrations…"):
        st = cluster.up(settings())
    _print(st)


@app.command()
def status() -> None:
    """Show where the database is and whether it is running."""
    st = cluster.status(settings())
    _print(st)
    if not st.running:
        raise typer.Exit(3)


@app.command()
def down() -> None:
    """Stop the embedded cluster (data is kept)."""
    cluster.down(settings())
    console.print("stopped")


@app.command()
def reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Drop and recreate the database: all cities and results are lost."""
    s = settings()
    if not yes:
        typer.confirm(f"Drop database {s.database!r} and everything in it?", abort=True)
    _print(cluster.reset(s))
