"""Public exceptions of servicecircle.

Every error a user can cause is one of these; ``api/errors.py`` maps them to HTTP
problem responses and the CLI prints them without a traceback.

Messages never name a command-line flag or an HTTP parameter: what the caller can change is
a :class:`Hint` (a parameter both front ends share, with the value to try, or an analysis
to run first), which the CLI renders as ``--encoding gb18030`` and the API as
``?encoding=gb18030``. A name nobody has (a city, layer, service type, case category, a
threshold no run computed) is an error whose ``suggestions`` hold the close names
(:func:`geo.vocab.suggest`); stable codes of these slips: ``unknown-city``, ``not-found``
(a layer), ``unknown-service-type``, ``unknown-category``, ``unknown-kind``,
``unavailable-threshold``, ``unavailable-service-type``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hint:
    """What the caller can change to get past an error, independent of the front end.

    ``option`` is a parameter the CLI and the API share by name (``encoding``, ``crs``,
    ``repair``, ``map``, ``layer``, ``kind``) and ``value`` the value to try (``None``: a
    switch, or "give one"); ``run`` names an analysis to run first (``coverage``,
    ``courier``, ``courier-demand``). Each front end words it (``--repair`` /
    ``?repair=true``).
    """

    option: str | None = None
    value: str | None = None
    run: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("option", self.option), ("value", self.value),
                                  ("run", self.run)) if v is not None}

    def __str__(self) -> str:
        if self.run:
            return f"run the {self.run} analysis first"
        if self.value is None:
            return f"set {self.option}"
        return f"set {self.option} = {self.value}"


class GeoError(Exception):
    """Base class of every servicecircle error.

    ``code`` is stable (clients and tests may rely on it); ``hint`` says what to change.
    """

    code = "error"
    hint: Hint | None = None
    #: Close names the caller may have meant ("did you mean …"), best first.
    suggestions: tuple[str, ...] = ()

    def __init__(self, message: str = "", *, code: str | None = None,
                 hint: Hint | None = None, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if hint is not None:
            self.hint = hint
        if suggestions:
            self.suggestions = tuple(suggestions)


@dataclass(frozen=True)
class Problem:
    """One problem found in the input: where (row, field), why, and what to change."""

    reason: str
    row: int | None = None
    field: str | None = None
    hint: Hint | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "field": self.field, "reason": self.reason}
        if self.hint is not None:
            out["hint"] = self.hint.as_dict()
        return out

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field!r}")
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        return f"{text} ({self.hint})" if self.hint is not None else text


class InvalidInputError(GeoError, ValueError):
    """The input is wrong; ``errors`` lists every problem found, not only the first."""

    code = "invalid-input"

    def __init__(self, message: str, errors: list[Problem] | None = None, *,
                 code: str | None = None, hint: Hint | None = None,
                 suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message, code=code, hint=hint, suggestions=suggestions)
        self.message = message
        self.errors: list[Problem] = list(errors or [])

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        lines = [f"{self.message} ({len(self.errors)} problem(s)):"]
        lines += [f"  - {p}" for p in self.errors]
        return "\n".join(lines)


class QueryParameterError(InvalidInputError):
    """A query parameter of a standard protocol (OGC API) is unknown or malformed.

    Answered with 400, as those standards require, rather than 422.
    """

    code = "bad-parameter"


class CRSError(InvalidInputError):
    """A coordinate reference system is missing, unknown or not the one expected."""

    code = "crs"


class NotFoundError(GeoError, LookupError):
    """A named thing (city, layer, feature, run) does not exist."""

    code = "not-found"


class InfeasibleError(GeoError):
    """An optimisation problem has no solution under the given constraints."""

    code = "infeasible"


class ConflictError(GeoError):
    """A write collided with concurrent writes and could not be completed (HTTP 409); nothing
    was written, and sending it again usually works."""

    code = "conflict"


class DatabaseUnavailableError(GeoError):
    """The database cannot be reached or set up; the message says what to do."""

    code = "database-unavailable"


class TooManyRequestsError(GeoError):
    """The caller already runs as many expensive analyses as allowed (HTTP 429)."""

    code = "too-many-requests"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class QueryTimeoutError(GeoError):
    """A database statement ran longer than the request's statement timeout (HTTP 503)."""

    code = "statement-timeout"

    def __init__(self, message: str, *, retry_after_s: int = 30) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
