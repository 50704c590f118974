"""Command options generated from the run layer's parameter objects.

Every field of a model in :mod:`geo.runs.params` is one option of its ``analyze`` command:
named ``--field-name`` (or the command's own spelling in ``flags``), with the field's
default and its description as help, followed by its bounds. The model checks the values
(:func:`api.cli.common.build`), so the command line and the HTTP API take the same
parameters with the same defaults and bounds, defined once. Lists are given
comma-separated, times as ISO text; a boolean ``--flag`` also has ``--no-flag``.

A command states only what is its own::

    @with_params(PlanParams, flags={"service_type": "--type"}, skip=("exclude",))
    def analyze_siting(city: Annotated[str, typer.Option("--city")], *,
                       options: Options) -> None:
        params = options.build()
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

import annotated_types as at
import typer
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from api.cli.common import build, flag
from geo.errors import Problem
from geo.runs.params import Params

P = TypeVar("P", bound=Params)
F = TypeVar("F", bound=Callable[..., Any])


class Options(dict[str, Any], Generic[P]):
    """The values of a command's generated options, keyed by field name."""

    def __init__(self, model: type[P], flags: Mapping[str, str], values: Mapping[str, Any]
                 ) -> None:
        super().__init__(values)
        self.model, self.flags = model, dict(flags)

    def build(self, *, problems: list[Problem] | None = None, **values: Any) -> P:
        """The parameter object (``values`` added or replacing options); every problem,
        the command's own ``problems`` included, raised at once naming its option."""
        given = {**self, **values}
        for name, value in given.items():
            if isinstance(value, str) and _is_list(self.model.model_fields[name]):
                given[name] = [v.strip() for v in value.split(",") if v.strip()]
        return build(self.model, flags=self.flags, problems=problems, **given)

    def without(self, *names: str) -> Options[P]:
        """These options but ``names`` (which then take the model's defaults)."""
        return Options(self.model, self.flags, {k: v for k, v in self.items() if k not in names})


def _optional(annotation: Any) -> tuple[Any, bool]:
    """``(T, True)`` for ``T | None``, else ``(annotation, False)``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _is_list(field: FieldInfo) -> bool:
    return get_origin(_optional(field.annotation)[0]) is list


def _cli_type(model: type[Params], name: str) -> Any:
    """The type the option parses: bool, int, float, or text the model parses further."""
    base, optional = _optional(model.model_fields[name].annotation)
    if base is bool:
        return bool
    if base in (int, float, str):
        return base | None if optional else base
    if (get_origin(base) in (list, Literal) or base is datetime
            or (isinstance(base, type) and issubclass(base, Enum))):
        return str | None if optional or get_origin(base) is list else str
    raise TypeError(f"{model.__name__}.{name} ({base!r}) has no command-line form; "
                    "skip it or give it one here")


def bounds(field: FieldInfo) -> str:
    """The field's numeric bounds as ``[1<=x<=200]`` (empty when it has none)."""
    low = high = ""
    for m in field.metadata:
        if isinstance(m, at.Ge):
            low = f"{m.ge:g}<="
        elif isinstance(m, at.Gt):
            low = f"{m.gt:g}<"
        elif isinstance(m, at.Le):
            high = f"<={m.le:g}"
        elif isinstance(m, at.Lt):
            high = f"<{m.lt:g}"
    return f"[{low}x{high}]" if low or high else ""


def params_options(model: type[Params], *, flags: Mapping[str, str] | None = None,
                   skip: tuple[str, ...] = (), defaults: Mapping[str, Any] | None = None,
                   more_help: Mapping[str, str] | None = None) -> list[inspect.Parameter]:
    """One keyword parameter with a Typer option per field of ``model`` but ``skip``
    (the model's own fields first, then those it inherits).

    ``defaults`` replaces a field's default on the command line (e.g. ``None``: the
    option is not given, the command decides); ``more_help`` adds to a field's help.
    """
    out = []
    own = [n for n in model.model_fields if n in vars(model).get("__annotations__", {})]
    for name in [*own, *(n for n in model.model_fields if n not in own)]:
        field = model.model_fields[name]
        if name in skip:
            continue
        opt = flag(name, flags)
        typ = _cli_type(model, name)
        text = " ".join(t for t in (
            field.description or "", (more_help or {}).get(name, ""),
            "Comma-separated." if _is_list(field) else "", bounds(field)) if t)
        decls = [f"{opt}/--no-{opt[2:]}"] if typ is bool else [opt]
        default = (defaults or {}).get(name, field.default)
        if default is PydanticUndefined:
            default = inspect.Parameter.empty
        elif isinstance(default, Enum):
            default = default.value
        out.append(inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default,
            annotation=Annotated[typ, typer.Option(*decls, help=text)]))
    return out


def with_params(model: type[P], *, flags: Mapping[str, str] | None = None,
                skip: tuple[str, ...] = (), defaults: Mapping[str, Any] | None = None,
                more_help: Mapping[str, str] | None = None,
                into: str = "options") -> Callable[[F], F]:
    """Give a command one option per field of ``model`` (see :func:`params_options`);
    their values reach it as the :class:`Options` parameter ``into``."""

    def wrap(fn: F) -> F:
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values()
               if p.name != into]
        generated = params_options(model, flags=flags, skip=skip, defaults=defaults,
                                   more_help=more_help)
        names = {p.name for p in generated}

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            values = {k: kwargs.pop(k) for k in names}
            return fn(**kwargs, **{into: Options(model, flags or {}, values)})

        command.__signature__ = inspect.Signature([*own, *generated])  # type: ignore[attr-defined]
        command.__annotations__ = {}  # the signature above is the whole truth
        return command  # type: ignore[return-value]

    return wrap
