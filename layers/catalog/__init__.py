"""Modules declaring layers: each defines ``LAYERS: tuple[Layer, ...]``.

To add a topic ``layers/catalog/<topic>.py``, add one line ``"<topic>",`` to ``NAMES``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

NAMES: tuple[str, ...] = (
    "base",
    "cases",
    "coverage",
    "courier",
    "siting",
)

MODULES: list[ModuleType] = [importlib.import_module(f"layers.catalog.{n}") for n in NAMES]
