"""``servicecircle import|export|types``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach import/export commands to the main app."""
