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

# typer vendors click as typer._click: its usage errors are these classes
from typer._click.exceptions import NoArgsIsHelpError, NoSuchOption, UsageError

from geo.errors import (
    ConflictError,
    DatabaseUnavailableError,
    GeoError,
    Hint,
    InfeasibleError,
    InvalidInputError,
    Problem,
    QueryTimeoutError,
    TooManyRequestsError,
)
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


#: Errors that are not the user's slip (the system, the database, the solver): exit code 1.
#: Everything else the user can fix (usage, input, unknown names) exits with 2.
RUNTIME_ERRORS: tuple[type[GeoError], ...] = (DatabaseUnavailableError, InfeasibleError,
                                             ConflictError, QueryTimeoutError,
                                             TooManyRequestsError)


def usage_message(exc: UsageError) -> str:
    """A click usage error in one line, with click's "did you mean" worded as ours."""
    if isinstance(exc, NoSuchOption):
        near = sorted(exc.possibilities or ())
        return f"no such option {exc.option_name}" + (
            f"; did you mean {' or '.join(near)}?" if near else "")
    return exc.format_message()


def _help_line(exc: UsageError) -> str | None:
    if exc.ctx is None:
        return None
    return f"Try '{exc.ctx.command_path} --help' for help."


def run_cli(app: typer.Typer, args: list[str] | None = None, *, debug: bool = False) -> int:
    """Run the Typer app and return the exit code: 0 done, 2 a slip of the user (usage,
    input, unknown name: one short message with "did you mean …", every problem listed),
    1 anything else. No traceback unless ``debug`` (``SERVICECIRCLE_DEBUG=1``)."""
    try:
        # without standalone mode click returns the code of a ``typer.Exit`` (else None)
        code = app(args=args, prog_name="servicecircle", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        if exc.ctx is not None:
            typer.echo(exc.ctx.get_help())
        return 0
    except UsageError as exc:
        if debug:
            raise
        console.print(f"[red]error:[/red] {usage_message(exc)}", highlight=False, soft_wrap=True)
        if (line := _help_line(exc)) is not None:
            console.print(line, markup=False, highlight=False)
        return 2
    except InvalidInputError as exc:
        if debug:
            raise
        console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        for p in exc.errors:
            console.print(f"  - {problem_line(p)}", markup=False, highlight=False,
                          soft_wrap=True)
        if exc.hint is not None:
            console.print(f"  {advice(exc.hint)}", markup=False, highlight=False)
        console.print("Nothing was written.")
        return 2
    except GeoError as exc:
        if debug:
            raise
        console.print("[red]error:[/red] ", end="")
        console.print(str(exc) + (f"; {advice(exc.hint)}" if exc.hint is not None else ""),
                      markup=False, highlight=False)
        return 1 if isinstance(exc, RUNTIME_ERRORS) else 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.print("Aborted.")
        return 1
    except typer.TyperException as exc:  # click's other errors (e.g. a file it cannot open)
        if debug:
            raise
        console.print(f"[red]error:[/red] {exc.format_message()}", highlight=False)
        return int(getattr(exc, "exit_code", 1))
    except Exception as exc:
        if debug:
            raise
        console.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}",
                      markup=False, highlight=False)
        console.print("This is a bug; SERVICECIRCLE_DEBUG=1 shows the traceback.")
        return 1
    return code if isinstance(code, int) else 0
