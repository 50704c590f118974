"""Authentication (API keys) and role checks as FastAPI dependencies.

Roles are ordered viewer < analyst < admin. Requests without a key are anonymous and may
read public layers only. A key that is given but wrong or revoked is always 401; a valid
key with too low a role is 403 (both as ``application/problem+json``).

Use in a route::

    @router.get("/cases/raw", dependencies=[Depends(require_role("analyst"))])
    def raw_cases(conn: ConnDep, user: CurrentUser) -> ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.db import run_db
from api.errors import AuthError

ROLE_RANK: dict[str, int] = {"viewer": 1, "analyst": 2, "admin": 3}


@dataclass(frozen=True)
class User:
    """The caller: ``name``/``role`` are ``None`` for anonymous requests."""

    name: str | None = None
    role: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.role is None

    def has_role(self, role: str) -> bool:
        """True when the caller's role is ``role`` or higher."""
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[role]


ANONYMOUS = User()


def presented_key(request: Request) -> str | None:
    """The key from ``X-API-Key`` or ``Authorization: Bearer <key>``, if any."""
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if auth:
        raise AuthError(401, "Unsupported Authorization scheme; use 'Bearer <key>' or X-API-Key.")
    return None


def _verify(request: Request, key: str) -> object:
    from geo.store.keys import verify_key

    with request.app.state.engine.connect() as conn:
        return verify_key(conn, key)


async def current_user(request: Request) -> User:
    """The authenticated caller, or :data:`ANONYMOUS` when no key is presented."""
    key = presented_key(request)
    if key is None:
        return ANONYMOUS
    found = await run_db(request, _verify, request, key)
    if found is None:
        raise AuthError(401, "The API key is not valid or has been revoked.")
    return User(found.name, found.role)  # type: ignore[attr-defined]


CurrentUser = Annotated[User, Depends(current_user)]


def check_role(user: User, role: str) -> User:
    """Return ``user`` if it has ``role`` or higher; :class:`AuthError` 401/403 otherwise."""
    if user.anonymous:
        raise AuthError(401, f"This resource needs an API key with role '{role}'.")
    if not user.has_role(role):
        raise AuthError(403, f"This resource needs role '{role}'; the key has '{user.role}'.")
    return user


def require_role(role: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets callers with ``role`` or higher through (401/403 otherwise)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(user: CurrentUser) -> User:
        return check_role(user, role)

    return dependency


AnalystUser = Annotated[User, Depends(require_role("analyst"))]
AdminUser = Annotated[User, Depends(require_role("admin"))]
