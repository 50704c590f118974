"""``/keys``: who am I (any key), and API-key administration (admin keys only)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.auth import key_cache
from api.deps import AdminUser, ConnDep, CurrentUser
from api.errors import problems
from api.schemas import CreatedKey, Key, Keys, Me
from geo.store.keys import ApiKey, create_key, list_keys, revoke_key

router = APIRouter(tags=["keys"])


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["viewer", "analyst", "admin"] = "viewer"


def _key_json(k: ApiKey) -> dict[str, Any]:
    return {"name": k.name, "role": k.role, "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}


@router.get("/keys/me", response_model=Me, responses=problems(401))
def me(user: CurrentUser) -> dict[str, Any]:
    """The caller's key name and role (``null`` for anonymous requests)."""
    return {"name": user.name, "role": user.role}


@router.get("/keys", response_model=Keys, responses=problems(401, 403, 503))
def keys(conn: ConnDep, admin: AdminUser) -> dict[str, Any]:
    """All keys (never the keys themselves)."""
    return {"keys": [_key_json(k) for k in list_keys(conn)]}


@router.post("/keys", status_code=201, response_model=CreatedKey,
             responses=problems(401, 403, 413, 422, 503))
def create(body: NewKey, conn: ConnDep, admin: AdminUser) -> dict[str, Any]:
    """Create a key; the plain key is in this response only."""
    key, plain = create_key(conn, body.name, role=body.role)
    return {**_key_json(key), "key": plain}


@router.delete("/keys/{name}", response_model=Key, responses=problems(401, 403, 404, 503))
def revoke(request: Request, name: str, conn: ConnDep, admin: AdminUser) -> dict[str, Any]:
    """Revoke a key (404 problem if unknown)."""
    revoked = _key_json(revoke_key(conn, name))
    key_cache(request).clear()  # at once in this process; others within Settings.key_cache_s
    return revoked
