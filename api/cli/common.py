"""Shared CLI plumbing: settings, engine, progress bars and error printing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from geo.errors import GeoError, InvalidInputError
from geo.settings import Settings

console = Console(stderr=True)


def settings() -> Settings:
    return Settings.from_env()


@contextmanager
def engine() -> Iterator[Engine]:
    """An engine on the configured database (embedded cluster started if needed)."""
    from geo.store import cluster, migrate

    s = settings()
    if s.embedded and not cluster.ready(s):
        cluster.up(s)
    eng = migrate.make_engine(s)
    try:
        yield eng
    finally:
        eng.dispose()


def progress() -> Progress:
    """A progress bar for steps that take more than a couple of seconds."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                    console=console, transient=False)


def run_cli(app: typer.Typer) -> int:
    """Run the Typer app; print user errors plainly (every problem listed), no traceback."""
    try:
        app(standalone_mode=False)
    except InvalidInputError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        for p in exc.errors:
            console.print(f"  - {p}", markup=False, highlight=False, soft_wrap=True)
        console.print("Nothing was written.")
        return 2
    except GeoError as exc:
        console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        console.print("Aborted.")
        return 1
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0
