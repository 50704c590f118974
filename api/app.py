"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import health
from geo.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is created in the lifespan and disposed after."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from geo.store.migrate import make_engine

        app.state.engine = make_engine(settings, pool_size=10, max_overflow=20)
        try:
            yield
        finally:
            app.state.engine.dispose()

    app = FastAPI(
        title="servicecircle",
        description="Service circles, coverage gaps and grid-case analytics as map layers. "
        "Data © OpenStreetMap contributors.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    errors.install(app)
    app.include_router(health.router)
    return app
