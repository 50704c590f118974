"""RFC 9457 problem responses: one table maps domain errors to HTTP statuses.

No internal or database error text ever reaches a client. A name nobody has (city, layer,
service type, category, threshold) carries the close names as ``suggestions``. Browser
routes (``/map``, ``/docs``, report pages) get the same problem as an HTML page
(:mod:`api.error_pages`). A core error's
:class:`~geo.errors.Hint` is worded for this API by :func:`advice` (``?repair=true``, the
endpoint computing a missing run), as the CLI words it as options. :func:`problems`
documents the error statuses of a route in the OpenAPI description (``Problem`` schema,
``application/problem+json``).
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, ProgrammingError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.exc import TimeoutError as SAPoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.error_pages import as_page
from geo.errors import (
    ConflictError,
    CRSError,
    DatabaseUnavailableError,
    GeoError,
    Hint,
    InfeasibleError,
    InvalidInputError,
    NotFoundError,
    QueryParameterError,
    QueryTimeoutError,
    TooManyRequestsError,
)
from geo.runs.params import validation_problems

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


#: Paths (besides ``/collections…``) of OGC API resources, where bad parameters are 400.
OGC_400_PATHS = ("/", "/conformance")

#: Domain error → (HTTP status, title). Order matters: first match wins.
STATUS_CODES: list[tuple[type[Exception], int, str]] = [
    (QueryParameterError, 400, "Bad query parameter"),
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


#: Query parameters of the import endpoint that a hint may name as they are.
IMPORT_PARAMETERS = ("crs", "encoding", "repair", "check_offset")
#: What to do when a run is missing, per analysis.
RUN_ADVICE = {
    "coverage": "no coverage run is stored yet; it is computed by the operator's coverage "
                "analysis",
    "courier": "POST /cities/{city}/courier/runs (analyst key) computes one",
    "courier-demand": "an administrator imports the courier demand first",
}


def advice(hint: Hint) -> str:
    """A hint in this API's words."""
    if hint.run:
        return RUN_ADVICE.get(hint.run, f"run the {hint.run} analysis first")
    if hint.option == "repair":
        return "send the upload again with ?repair=true"
    if hint.option in IMPORT_PARAMETERS:
        value = hint.value if hint.value is not None else "…"
        return f"send the upload again with ?{hint.option}={value}"
    if hint.option == "map":
        return f"rename the column(s) in the file ({hint.value})" if hint.value \
            else "rename the column(s) in the file"
    if hint.option == "layer":
        return "upload a GeoPackage holding only the layer to import"
    return str(hint)


def _error(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"row": p.row, "field": p.field, "reason": p.reason}
    if p.hint is not None:
        out["hint"] = advice(p.hint)
    return out


#: Titles of the documented error statuses.
ERROR_TITLES = {400: "Bad request", 401: "Missing or invalid API key",
                403: "API key's role too low", 404: "Not found",
                409: "No feasible solution", 413: "Content too large",
                422: "Invalid input or parameters", 429: "Too many requests",
                503: "Database unavailable, busy or too slow (Retry-After)"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of these error statuses: ``Problem`` bodies as
    ``application/problem+json``."""
    return {s: {"description": ERROR_TITLES[s], "content": {PROBLEM: {"schema": {
        "$ref": "#/components/schemas/Problem"}}}} for s in statuses}


def problem(status: int, title: str, detail: str | None = None, *, code: str = "error",
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None, hint: str | None = None,
            suggestions: tuple[str, ...] | list[str] = ()) -> JSONResponse:
    """A ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": f"about:blank#{code}", "title": title, "status": status,
                            "code": code}
    if detail:
        body["detail"] = detail
    if hint:
        body["hint"] = hint
    if errors:
        body["errors"] = errors
    if suggestions:
        body["suggestions"] = list(suggestions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def geo_problem(exc: GeoError) -> JSONResponse:
    """The problem response of a domain error (status from :data:`STATUS_CODES`)."""
    for cls, status, title in STATUS_CODES:
        if isinstance(exc, cls):
            errors = [_error(p) for p in exc.errors] if isinstance(exc, InvalidInputError) \
                else None
            detail = exc.message if isinstance(exc, InvalidInputError) else str(exc)
            if isinstance(exc, DatabaseUnavailableError):
                log.error("database unavailable: %s", exc)
                detail = "The database cannot be reached; try again later."
            retry = getattr(exc, "retry_after_s", RETRY_AFTER_S if status == 503 else None)
            headers = {"Retry-After": str(retry)} if retry is not None else None
            return problem(status, title, detail, code=exc.code, errors=errors, headers=headers,
                           hint=advice(exc.hint) if exc.hint is not None else None,
                           suggestions=exc.suggestions)
    return problem(400, "Bad request", code="error")  # pragma: no cover


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> Response:
        headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else None
        title = "Unauthorized" if exc.status == 401 else "Forbidden"
        return as_page(request, problem(exc.status, title, str(exc), code=exc.code,
                                        headers=headers))

    @app.exception_handler(GeoError)
    async def _geo(request: Request, exc: GeoError) -> Response:
        return as_page(request, geo_problem(exc))

    async def _database_down(request: Request, exc: Exception) -> Response:
        orig = getattr(exc, "orig", exc)
        if isinstance(orig, psycopg.errors.QueryCanceled):  # statement_timeout
            log.warning("statement timeout on %s", request.url.path)
            return as_page(request, geo_problem(QueryTimeoutError(
                "The query ran longer than this service allows; narrow the window, area "
                "or resolution, or try again later.")))
        return as_page(request, geo_problem(DatabaseUnavailableError(
            f"{request.url.path}: {exc}")))

    for cls in (*DATABASE_DOWN, psycopg.errors.QueryCanceled):
        app.add_exception_handler(cls, _database_down)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [_error(p) | {"field": p.field or ""} for p in validation_problems(
            exc.errors(), skip=("query", "path", "body"))]
        # OGC API – Features answers a bad parameter with 400 (its standard's rule)
        path = request.url.path
        status = 400 if path in OGC_400_PATHS or path.startswith("/collections") else 422
        return as_page(request, problem(
            status, "Invalid request parameters", "One or more parameters are invalid.",
            code="invalid-parameter", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return as_page(request, problem(exc.status_code, detail or "HTTP error", detail,
                                        code=f"http-{exc.status_code}",
                                        headers=getattr(exc, "headers", None)))

    @app.exception_handler(ProgrammingError)
    @app.exception_handler(psycopg.errors.UndefinedTable)
    @app.exception_handler(psycopg.errors.UndefinedColumn)
    async def _schema(request: Request, exc: Exception) -> Response:
        orig = exc.orig if isinstance(exc, ProgrammingError) else exc
        if isinstance(orig, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn)):
            log.error("database schema out of date on %s: %s", request.url.path, orig)
            return as_page(request, problem(
                503, "Database schema out of date", "The database is missing tables of this "
                "release; the operator should run `servicecircle db upgrade`.",
                code="schema-out-of-date"))
        return await _internal(request, exc)

    @app.exception_handler(DataError)
    @app.exception_handler(psycopg.errors.DataError)
    async def _data(request: Request, exc: Exception) -> Response:
        # SQLSTATE class 22 (data exception): a value the database cannot take, e.g. a NUL
        # character or a number out of range; the database's text is logged, not returned.
        log.warning("data error on %s: %s", request.url.path, getattr(exc, "orig", exc))
        return as_page(request, problem(422, "Invalid request parameters",
                                        "A parameter value is malformed or out of range.",
                                        code="invalid-parameter"))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return as_page(request, problem(500, "Internal server error",
                                        "The server could not complete the request.",
                                        code="internal"))
