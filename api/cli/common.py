"""Shared CLI plumbing: settings, engine, progress bars, parameter objects, error printing.

Errors of the core carry a :class:`~geo.errors.Hint` (a parameter both front ends share,
or an analysis to run first); :func:`advice` words it as this command line's options.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from geo.errors import GeoError, Hint, InvalidInputError, Problem
from geo.runs.params import Params, parse
from geo.settings import Settings

console = Console(stderr=True)
P = TypeVar("P", bound=Params)


def flag(field: str, flags: Mapping[str, str] | None = None) -> str:
    """The option of a parameter field: ``flags[field]`` or ``--field-name`` (an item of a
    list, ``field.2``, is its field's option)."""
    name = field.partition(".")[0]
    return (flags or {}).get(name) or f"--{name.replace('_', '-')}"


def build(model: type[P], /, *, flags: Mapping[str, str] | None = None,
          problems: list[Problem] | None = None, **values: Any) -> P:
    """The parameter object of a command, from its options (named as the model's fields).

    Every problem — the command's own (``problems``) and the model's — is raised at once,
    each naming its option (``flags`` maps fields whose option is not ``--field-name``).
    """
    found = list(problems or [])
    params = None
    try:
        params = parse(model, **values)
    except InvalidInputError as exc:
        found += exc.errors
    if found or params is None:
        raise InvalidInputError("invalid options", [
            replace(p, field=flag(p.field, flags)) if p.field and not p.field.startswith("-")
            else p for p in found])
    return params


def advice(hint: Hint) -> str:
    """A hint in this command line's words (``use --repair``, ``run … first``)."""
    if hint.run == "courier-demand":
        return f"import it with `servicecircle analyze courier-demand --kind {hint.value}`"
    if hint.run:
        return f"run `servicecircle analyze {hint.run}` first"
    opt = f"--{(hint.option or '').replace('_', '-')}"
    if hint.value is None:
        return f"use {opt}" if hint.option == "repair" else f"give it with {opt}"
    return "use " + " ".join(f"{opt} {v}" for v in hint.value.split())


def problem_line(p: Problem) -> str:
    """One problem as printed: where, why and the advice."""
    text = str(replace(p, hint=None))
    return f"{text}; {advice(p.hint)}" if p.hint is not None else text


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
            console.print(f"  - {problem_line(p)}", markup=False, highlight=False,
                          soft_wrap=True)
        if exc.hint is not None:
            console.print(f"  {advice(exc.hint)}", markup=False, highlight=False)
        console.print("Nothing was written.")
        return 2
    except GeoError as exc:
        console.print("[red]error:[/red] ", end="")
        console.print(str(exc) + (f"; {advice(exc.hint)}" if exc.hint is not None else ""),
                      markup=False, highlight=False)
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
