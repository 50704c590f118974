"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from api import errors, logs, security
from api.db import database
from api.hosts import HostCheck
from api.limits import BodyLimit
from api.routes import (
    basemap,
    cases,
    courier,
    coverage,
    finder,
    grids,
    health,
    imports,
    keys,
    layers,
    map,
    ogc,
    siting,
    tiles,
    vocabulary,
)
from api.schemas import FeatureCollection, Problem
from geo.settings import Settings
from geo.store.tiles import TileCache
from layers.catalog import default_registry
from layers.registry import Registry

#: The resources served, in the order their routes are matched.
ROUTES = (health, ogc, layers, vocabulary, basemap, tiles, keys, imports, map, cases, courier,
          siting, coverage, grids, finder)


def create_app(settings: Settings | None = None, *, registry: Registry | None = None,
               tile_version_ttl_s: float = 0.5) -> FastAPI:
    """Build the app; the engine is created in the lifespan and disposed after.

    Parameters
    ----------
    registry
        Layer catalogue to serve (default: every layer declared in ``layers/catalog``).
    tile_version_ttl_s
        How often (seconds) tile requests re-read the data version counters; a data change
        reaches tile clients within this time.
    """
    settings = settings or Settings.from_env()
    logs.install()  # no API key reaches the access log, even one sent in a URL

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with database(app.state, settings):  # engine, tile pool, database slots
            yield

    app = FastAPI(
        title="servicecircle",
        description="Service circles, coverage gaps and grid-case analytics as map layers "
        "(OGC API – Features, vector tiles, an interactive map). "
        "Data © OpenStreetMap contributors.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by api.routes.map from vendored Swagger UI (offline)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.registry = registry or default_registry()
    app.state.tile_cache = TileCache()
    app.state.source_versions = tiles.SourceVersions(tile_version_ttl_s)
    app.state.moment_runs = tiles.MomentRuns()
    app.add_middleware(BodyLimit, settings=settings)  # 413 before a body is read or a key checked
    # read-only endpoints may be used by web maps on other origins (keys sent as headers)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"],
                       allow_headers=["X-API-Key", "Authorization", "If-None-Match"],
                       expose_headers=["ETag"])
    app.add_middleware(HostCheck, settings=settings)  # outermost: links use the Host header
    errors.install(app)
    security.install(app)
    for routes in ROUTES:
        app.include_router(routes.router)
    map.mount_static(app)
    install_openapi(app)
    return app


def install_openapi(app: FastAPI) -> None:
    """Generate the OpenAPI document with the ``Problem`` and ``FeatureCollection`` schemas
    that error responses and GeoJSON variants refer to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for model in (Problem, FeatureCollection):
                extra = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(extra.pop("$defs", {}))
                schemas.setdefault(model.__name__, extra)
            # parameter errors are problems too (api.errors), not FastAPI's default body
            for path in doc.get("paths", {}).values():
                for op in path.values():
                    if "422" in op.get("responses", {}):
                        op["responses"]["422"] = errors.problems(422)[422]
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
