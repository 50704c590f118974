"""``servicecircle serve``: the HTTP API and map service."""

from __future__ import annotations

import typer

from api.cli.common import settings


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(None, help="Interface to bind (default from settings)."),
        port: int = typer.Option(None, help="Port (default 8000)."),
        workers: int = typer.Option(1, min=1, help="Worker processes."),
        log_level: str = typer.Option("info", help="critical, error, warning, info or debug."),
        access_log: bool = typer.Option(True, help="Log one line per request."),
    ) -> None:
        """Start the API and map service (http://127.0.0.1:8000 by default)."""
        from api import server
        from geo.store import cluster

        if log_level not in server.LOG_LEVELS:
            raise typer.BadParameter(f"one of {', '.join(server.LOG_LEVELS)}",
                                     param_hint="--log-level")
        s = settings()
        if s.embedded and not cluster.ready(s):
            cluster.up(s)
        server.run(host=host or s.host, port=port or s.port, workers=workers,
                   log_level=log_level, access_log=access_log)
