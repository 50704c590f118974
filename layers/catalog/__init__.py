"""The layer catalogue: the modules declaring layers, and the registry built from them.

Each module defines ``LAYERS: tuple[Layer, ...]``. To add a topic, write
``layers/catalog/<topic>.py``, import it here and add it to :data:`MODULES`.
"""

from __future__ import annotations

from types import ModuleType

from layers.catalog import base, basemap, cases, courier, coverage, gates, grids, siting
from layers.registry import Layer, Registry

MODULES: tuple[ModuleType, ...] = (basemap, base, grids, cases, coverage, courier, siting,
                                   gates)


def build_registry() -> Registry:
    """A registry of every layer declared in the modules of :data:`MODULES`."""
    reg = Registry()
    for module in MODULES:
        reg.extend(getattr(module, "LAYERS", ()))
    return reg


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The catalogue built once from ``layers/catalog`` (immutable layers, safe to share)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = build_registry()
    return _DEFAULT


def get_layer(name: str) -> Layer:
    """Layer ``name`` from the default catalogue; :class:`NotFoundError` if none."""
    return default_registry().get(name)
