"""FastAPI dependencies and their ``Annotated`` aliases.

Authentication and roles are defined in :mod:`api.auth` and re-exported here:
``CurrentUser`` (anonymous when no key), ``require_role("analyst")``, ``AnalystUser``,
``AdminUser``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from api.auth import AdminUser, AnalystUser, CurrentUser, User, check_role, require_role
from geo.settings import Settings
from layers.registry import Layer, Registry

__all__ = ["AdminUser", "AnalystUser", "ConnDep", "CurrentUser", "EngineDep", "RegistryDep",
           "SettingsDep", "User", "check_role", "get_conn", "get_engine", "get_registry",
           "get_settings",
           "readable_layer", "require_role", "sees_personal"]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_conn(request: Request) -> Iterator[Connection]:
    """A connection in a transaction, committed when the handler returns normally."""
    with request.app.state.engine.begin() as conn:
        yield conn


async def get_registry(request: Request) -> Registry:
    """The layer catalogue of this app."""
    return request.app.state.registry  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConnDep = Annotated[Connection, Depends(get_conn)]
RegistryDep = Annotated[Registry, Depends(get_registry)]


def readable_layer(registry: Registry, name: str, user: User) -> Layer:
    """Layer ``name`` if ``user`` may read its features (restricted → analyst); else 401/403.

    Unknown names raise :class:`geo.errors.NotFoundError` (404).
    """
    layer = registry.get(name)
    if not layer.public:
        check_role(user, "analyst")
    return layer


def sees_personal(user: User) -> bool:
    """Whether ``user`` may receive personal attributes (analyst or admin)."""
    return user.has_role("analyst")
