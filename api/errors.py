"""RFC 9457 problem responses: one table maps domain errors to HTTP statuses.

No internal or database error text ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, ProgrammingError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.exc import TimeoutError as SAPoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.errors import (
    ConflictError,
    CRSError,
    DatabaseUnavailableError,
    GeoError,
    InfeasibleError,
    InvalidInputError,
    NotFoundError,
    QueryTimeoutError,
    TooManyRequestsError,
)

log = logging.getLogger("servicecircle.api")

PROBLEM = "application/problem+json"
#: Seconds a client is asked to wait (``Retry-After``) after a 503.
RETRY_AFTER_S = 5
#: Driver errors meaning "no working database connection" (refused, dropped, pool timeout,
#: server shutting down); they are answered as :class:`DatabaseUnavailableError`.
DATABASE_DOWN: tuple[type[Exception], ...] = (SAOperationalError, SAPoolTimeout,
                                              psycopg.OperationalError)


class AuthError(GeoError):
    """Missing/invalid credentials (401) or insufficient role (403)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = "unauthorized" if status == 401 else "forbidden"


class ContentTooLargeError(GeoError):
    """The request body is larger than the endpoint accepts."""

    code = "too-large"


class BusyError(GeoError):
    """Every database slot stayed taken for longer than a request may wait."""

    code = "busy"


#: Domain error → (HTTP status, title). Order matters: first match wins.
STATUS_CODES: list[tuple[type[Exception], int, str]] = [
    (CRSError, 422, "Wrong or missing coordinate reference system"),
    (InvalidInputError, 422, "Invalid input"),
    (NotFoundError, 404, "Not found"),
    (InfeasibleError, 409, "No feasible solution"),
    (ConflictError, 409, "Conflict"),
    (ContentTooLargeError, 413, "Content too large"),
    (TooManyRequestsError, 429, "Too many requests"),
    (QueryTimeoutError, 503, "Query took too long"),
    (DatabaseUnavailableError, 503, "Database unavailable"),
    (BusyError, 503, "Service busy"),
    (GeoError, 400, "Bad request"),
]


def problem(status: int, title: str, detail: str | None = None, *, code: str = "error",
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    """A ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": f"about:blank#{code}", "title": title, "status": status,
                            "code": code}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def geo_problem(exc: GeoError) -> JSONResponse:
    """The problem response of a domain error (status from :data:`STATUS_CODES`)."""
    for cls, status, title in STATUS_CODES:
        if isinstance(exc, cls):
            errors = [p.as_dict() for p in exc.errors] if isinstance(exc, InvalidInputError) else None
            detail = exc.message if isinstance(exc, InvalidInputError) else str(exc)
            if isinstance(exc, DatabaseUnavailableError):
                log.error("database unavailable: %s", exc)
                detail = "The database cannot be reached; try again later."
            retry = getattr(exc, "retry_after_s", RETRY_AFTER_S if status == 503 else None)
            headers = {"Retry-After": str(retry)} if retry is not None else None
            return problem(status, title, detail, code=exc.code, errors=errors, headers=headers)
    return problem(400, "Bad request", code="error")  # pragma: no cover


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else None
        title = "Unauthorized" if exc.status == 401 else "Forbidden"
        return problem(exc.status, title, str(exc), code=exc.code, headers=headers)

    @app.exception_handler(GeoError)
    async def _geo(request: Request, exc: GeoError) -> JSONResponse:
        return geo_problem(exc)

    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        orig = getattr(exc, "orig", exc)
        if isinstance(orig, psycopg.errors.QueryCanceled):  # statement_timeout
            log.warning("statement timeout on %s", request.url.path)
            return geo_problem(QueryTimeoutError(
                "The query ran longer than this service allows; narrow the window, area "
                "or resolution, or try again later."))
        return geo_problem(DatabaseUnavailableError(f"{request.url.path}: {exc}"))

    for cls in (*DATABASE_DOWN, psycopg.errors.QueryCanceled):
        app.add_exception_handler(cls, _database_down)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body")),
                   "reason": e.get("msg", "invalid"), "row": None} for e in exc.errors()]
        return problem(422, "Invalid request parameters", "One or more parameters are invalid.",
                       code="invalid-parameter", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(exc.status_code, detail or "HTTP error", detail,
                       code=f"http-{exc.status_code}", headers=getattr(exc, "headers", None))

    @app.exception_handler(ProgrammingError)
    @app.exception_handler(psycopg.errors.UndefinedTable)
    @app.exception_handler(psycopg.errors.UndefinedColumn)
    async def _schema(request: Request, exc: Exception) -> JSONResponse:
        orig = exc.orig if isinstance(exc, ProgrammingError) else exc
        if isinstance(orig, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn)):
            log.error("database schema out of date on %s: %s", request.url.path, orig)
            return problem(503, "Database schema out of date",
                           "The database is missing tables of this release; the operator "
                           "should run `servicecircle db upgrade`.", code="schema-out-of-date")
        return await _internal(request, exc)

    @app.exception_handler(DataError)
    @app.exception_handler(psycopg.errors.DataError)
    async def _data(request: Request, exc: Exception) -> JSONResponse:
        # SQLSTATE class 22 (data exception): a value the database cannot take, e.g. a NUL
        # character or a number out of range; the database's text is logged, not returned.
        log.warning("data error on %s: %s", request.url.path, getattr(exc, "orig", exc))
        return problem(422, "Invalid request parameters",
                       "A parameter value is malformed or out of range.",
                       code="invalid-parameter")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return problem(500, "Internal server error",
                       "The server could not complete the request.", code="internal")
