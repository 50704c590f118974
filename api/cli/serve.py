"""``servicecircle serve``: the HTTP API and map service."""

from __future__ import annotations

import typer

from api.cli.common import settings


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(None, help="Interface to bind (default from settings)."),
        port: int = typer.Option(None, help="Port (default 8000)."),
        workers: int = typer.Option(1, help="Worker processes."),
    ) -> None:
        """Start the API and map service (http://127.0.0.1:8000 by default)."""
        import uvicorn

        from geo.store import cluster

        s = settings()
        if s.embedded and not cluster.ready(s):
            cluster.up(s)
        uvicorn.run("api.app:create_app", factory=True, host=host or s.host,
                    port=port or s.port, workers=workers, log_level="info")
