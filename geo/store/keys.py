"""API keys: created once (the plain key is shown only then), stored hashed, revocable.

A key looks like ``sc<id>_<secret>``; the table keeps ``sha256$<salt>$<digest>`` of the
secret with a per-key random salt, so a leaked table does not reveal usable keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from geo.errors import InvalidInputError, NotFoundError, Problem

ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")
_KEY = re.compile(r"^sc(\d{1,10})_([A-Za-z0-9_-]{20,100})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def create_key(conn: Connection, name: str, *, role: str) -> tuple[ApiKey, str]:
    """Create key ``name`` with ``role``; return it and the plain key (shown only once)."""
    problems = []
    if role not in ROLES:
        problems.append(Problem(f"role must be one of {', '.join(ROLES)}", field="role"))
    if not _NAME.match(name or ""):
        problems.append(Problem("name must be 1-64 letters, digits, '_', '.', '@' or '-'",
                                field="name"))
    if problems:
        raise InvalidInputError("invalid API key", problems)
    key_id = int(conn.execute(
        text("SELECT nextval(pg_get_serial_sequence('api_key', 'id'))")).scalar_one())
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    # ON CONFLICT: two concurrent requests for one name cannot both pass a check-then-insert
    row = conn.execute(
        text("INSERT INTO api_key (id, name, role, key_hash) VALUES (:id, :n, :r, :h) "
             "ON CONFLICT (name) DO NOTHING "
             "RETURNING id, name, role, created_at, revoked_at"),
        {"id": key_id, "n": name, "r": role, "h": f"sha256${salt}${_digest(salt, secret)}"},
    ).first()
    if row is None:
        raise InvalidInputError("invalid API key",
                                [Problem(f"a key named {name!r} exists; revoke it or choose "
                                         "another name", field="name")])
    return ApiKey(*row), f"sc{key_id}_{secret}"


def list_keys(conn: Connection) -> list[ApiKey]:
    """All keys, revoked ones included, by name."""
    rows = conn.execute(text("SELECT id, name, role, created_at, revoked_at FROM api_key "
                             "ORDER BY name"))
    return [ApiKey(*r) for r in rows]


def revoke_key(conn: Connection, name: str) -> ApiKey:
    """Revoke key ``name`` (idempotent); :class:`NotFoundError` if there is none."""
    row = conn.execute(
        text("UPDATE api_key SET revoked_at = coalesce(revoked_at, now()) WHERE name = :n "
             "RETURNING id, name, role, created_at, revoked_at"), {"n": name}).one_or_none()
    if row is None:
        raise NotFoundError(f"no API key named {name!r}")
    return ApiKey(*row)


def well_formed(key: str) -> bool:
    """Whether ``key`` looks like a key this module makes (checked without the database)."""
    return bool(_KEY.match(key or ""))


def verify_key(conn: Connection, key: str) -> ApiKey | None:
    """The active key matching the plain ``key``, or ``None`` (malformed, wrong, revoked)."""
    m = _KEY.match(key or "")
    if not m:
        return None
    row = conn.execute(
        text("SELECT id, name, role, created_at, revoked_at, key_hash FROM api_key "
             "WHERE id = :id AND revoked_at IS NULL"), {"id": int(m.group(1))}).one_or_none()
    if row is None:
        return None
    scheme, salt, digest = (row.key_hash.split("$") + ["", ""])[:3]
    if scheme != "sha256" or not hmac.compare_digest(digest, _digest(salt, m.group(2))):
        return None
    return ApiKey(row.id, row.name, row.role, row.created_at, row.revoked_at)
