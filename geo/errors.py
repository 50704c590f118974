"""Public exceptions of servicecircle.

Every error a user can cause is one of these; ``api/errors.py`` maps them to HTTP
problem responses and the CLI prints them without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GeoError(Exception):
    """Base class of every servicecircle error."""

    code = "error"


@dataclass(frozen=True)
class Problem:
    """One problem found in the input: where (row, field) and why."""

    reason: str
    row: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class InvalidInputError(GeoError, ValueError):
    """The input is wrong; ``errors`` lists every problem found, not only the first."""

    code = "invalid-input"

    def __init__(self, message: str, errors: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: list[Problem] = list(errors or [])

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        lines = [f"{self.message} ({len(self.errors)} problem(s)):"]
        lines += [f"  - {p}" for p in self.errors]
        return "\n".join(lines)


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
