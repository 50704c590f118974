"""FastAPI dependencies and their ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from geo.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_conn(request: Request) -> Iterator[Connection]:
    """A connection in a transaction, committed when the handler returns normally."""
    with get_engine(request).begin() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConnDep = Annotated[Connection, Depends(get_conn)]
