"""``servicecircle load demo`` and ``servicecircle city add|list``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the data-loading commands to the main app."""
