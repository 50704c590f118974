"""FastAPI dependencies and their ``Annotated`` aliases.

Authentication and roles are defined in :mod:`api.auth` and re-exported here:
``CurrentUser`` (anonymous when no key), ``require_role("analyst")``, ``AnalystUser``,
``AdminUser``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import contextmanager_in_threadpool
from sqlalchemy import Connection, Engine

from api.auth import AdminUser, AnalystUser, CurrentUser, User, check_role, require_role
from api.db import db_slot
from geo.settings import Settings
from geo.store.cities import CODE_PATTERN, City, get_city
from geo.store.vocabulary import resolve_service_type
from layers.registry import Layer, Registry

__all__ = ["AdminUser", "AnalystUser", "CityCode", "CityDep", "ConnDep", "CurrentUser",
           "EngineDep", "RegistryDep", "SettingsDep", "User", "check_role", "get_city_dep",
           "get_conn", "get_engine", "get_registry", "get_settings",
           "readable_layer", "require_role", "sees_personal", "service_type_param"]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


async def get_conn(request: Request) -> AsyncIterator[Connection]:
    """A connection in a transaction, committed when the handler returns normally.

    Taken after a database slot (:func:`api.db.db_slot`): excess requests wait in line on
    the event loop, not in worker threads.
    """
    async with db_slot(request), contextmanager_in_threadpool(
            request.app.state.engine.begin()) as conn:
        yield conn


async def get_registry(request: Request) -> Registry:
    """The layer catalogue of this app."""
    return request.app.state.registry  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
# scope="function": the commit runs before the response starts, so a failed commit (the
# database going away) is still answered as a problem (503), not a broken response
ConnDep = Annotated[Connection, Depends(get_conn, scope="function")]
RegistryDep = Annotated[Registry, Depends(get_registry)]

#: The ``{city}`` path parameter: a city code, checked before any SQL.
CityCode = Annotated[str, Path(pattern=CODE_PATTERN, max_length=64,
                               description="City code, e.g. guixi")]


def get_city_dep(city: CityCode, conn: ConnDep) -> City:
    """The city of the ``{city}`` path parameter; 404 (close names suggested) if unknown."""
    return get_city(conn, city)


#: The city named by the path, loaded (every ``/cities/{city}/…`` route).
CityDep = Annotated[City, Depends(get_city_dep)]


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


#: Description of the ``service_type`` query parameter (every route taking one).
SERVICE_TYPE_HELP = ("Service type: code, Chinese or English name (e.g. red_station, 红色驿站, "
                     "Red station); unknown names are a 422 with close names suggested")


def service_type_param(default: str | None = None) -> Callable[..., str | None]:
    """A dependency reading the ``service_type`` query parameter (``type`` is its deprecated
    alias) and resolving it to a code (:func:`geo.store.vocabulary.resolve_service_type`:
    codes, Chinese or English names of built-in and added types; 422 with "did you mean"
    otherwise). ``default`` when neither is given."""

    def service_type(conn: Connection, service_type: str | None = None,
                     type_: str | None = None) -> str | None:
        value = service_type if service_type is not None else type_
        if value is None or not value.strip():
            return default
        return resolve_service_type(conn, value)

    # real objects, not the module's postponed (string) annotations: ``default`` is local
    service_type.__annotations__ = {
        "conn": ConnDep,
        "service_type": Annotated[str | None, Query(
            max_length=64, description=SERVICE_TYPE_HELP + (
                f"; default {default}" if default else "; default: every type"))],
        "type_": Annotated[str | None, Query(alias="type", max_length=64, deprecated=True,
                                             description="Deprecated alias of service_type")],
        "return": str | None}
    return service_type


#: ``?service_type=`` (alias ``type``) resolved to a code; ``None`` = every type.
AnyServiceType = Annotated[str | None, Depends(service_type_param())]
