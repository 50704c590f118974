"""Authentication (API keys) and role checks as FastAPI dependencies.

Roles are ordered viewer < analyst < admin. Requests without a key are anonymous and may
read public layers only. A key that is given but wrong or revoked is always 401; a valid
key with too low a role is 403 (both as ``application/problem+json``).

Keys are sent in headers only (``X-API-Key`` or ``Authorization: Bearer``), never in the
URL. Each server process keeps the outcome of checking a key (valid with its role, or not)
for ``Settings.key_cache_s`` seconds (5 by default; :class:`KeyCache`), so a request with
a key costs no database query while it is fresh: a key revoked with ``servicecircle keys
revoke`` or by another process stops working within that time; one revoked through this
process's ``DELETE /keys/{name}`` at once. A malformed key is refused without a query.

Use in a route::

    @router.get("/cases/raw", dependencies=[Depends(require_role("analyst"))])
    def raw_cases(conn: ConnDep, user: CurrentUser) -> ...
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
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


class KeyCache:
    """Outcomes of key checks (the user, or ``None`` for a refused key) for ``ttl_s``
    seconds, by a digest of the key; an LRU of at most ``max_entries``."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._data: OrderedDict[bytes, tuple[float, User | None]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _digest(key: str) -> bytes:
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()

    def get(self, key: str) -> tuple[bool, User | None]:
        """``(True, outcome)`` while a fresh outcome is kept, else ``(False, None)``."""
        if self.ttl_s <= 0:
            return False, None
        d = self._digest(key)
        with self._lock:
            item = self._data.get(d)
            if item is None or time.monotonic() - item[0] > self.ttl_s:
                return False, None
            self._data.move_to_end(d)
            return True, item[1]

    def put(self, key: str, user: User | None) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._data[self._digest(key)] = (time.monotonic(), user)
            self._data.move_to_end(self._digest(key))
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget every outcome (after a key was revoked in this process)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def key_cache(request: Request) -> KeyCache:
    """The app's key cache (made on first use from ``Settings.key_cache_s``)."""
    state = request.app.state
    cache: KeyCache | None = getattr(state, "key_cache", None)
    if cache is None:
        cache = state.key_cache = KeyCache(state.settings.key_cache_s)
    return cache


def _verify(request: Request, key: str) -> User | None:
    from geo.store.keys import verify_key

    with request.app.state.engine.connect() as conn:
        found = verify_key(conn, key)
    return None if found is None else User(found.name, found.role)


async def current_user(request: Request) -> User:
    """The authenticated caller, or :data:`ANONYMOUS` when no key is presented."""
    from geo.store.keys import well_formed

    key = presented_key(request)
    if key is None:
        return ANONYMOUS
    found: User | None = None
    if well_formed(key):
        cache = key_cache(request)
        known, found = cache.get(key)
        if not known:
            found = await run_db(request, _verify, request, key)
            cache.put(key, found)
    if found is None:
        raise AuthError(401, "The API key is not valid or has been revoked.")
    return found


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
