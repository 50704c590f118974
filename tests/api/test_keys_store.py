"""Key storage: hashed, verifiable, revocable (on the rolled-back test connection)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo.errors import InvalidInputError, NotFoundError
from geo.store.keys import create_key, list_keys, revoke_key, verify_key


def test_key_is_stored_hashed_with_salt(conn: Connection) -> None:
    _, plain = create_key(conn, "alice", role="analyst")
    stored = conn.execute(text("SELECT key_hash FROM api_key WHERE name = 'alice'")).scalar_one()
    assert plain.split("_", 1)[1] not in stored
    scheme, salt, digest = stored.split("$")
    assert scheme == "sha256" and len(salt) == 32 and len(digest) == 64


def test_same_name_twice_rejected(conn: Connection) -> None:
    create_key(conn, "bob", role="viewer")
    with pytest.raises(InvalidInputError):
        create_key(conn, "bob", role="viewer")


def test_verify_round_trip_and_revocation(conn: Connection) -> None:
    _, plain = create_key(conn, "carol", role="admin")
    found = verify_key(conn, plain)
    assert found is not None and found.role == "admin"
    assert verify_key(conn, plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None
    revoke_key(conn, "carol")
    assert verify_key(conn, plain) is None
    assert [k.active for k in list_keys(conn) if k.name == "carol"] == [False]


def test_bad_role_and_unknown_revoke(conn: Connection) -> None:
    with pytest.raises(InvalidInputError):
        create_key(conn, "dave", role="root")
    with pytest.raises(NotFoundError):
        revoke_key(conn, "nobody")
