"""Rendered vector tiles shared by every server process, in the ``tile_cache`` table.

Each process keeps its own small LRU (:class:`geo.store.tiles.TileCache`) in front of this
table; a tile rendered by one process is then served by all the others without rendering
it again. Keys are digests of everything a tile depends on — layer, z/x/y, city, filters,
personal-attribute access and the ``layer_version`` counters of the layer's tables — so a
committed data change makes the old entries unreachable for every process at once (each
re-reads the counters within its ``tile_version_ttl_s``); old entries are pruned oldest
first once the table holds more than ``max_entries`` (migration 0008e: an UNLOGGED table,
emptied after a database crash, which only costs renders).

Functions take an open psycopg async connection in autocommit mode (the app's tile pool).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable

from psycopg import AsyncConnection


def shared_key(key: Hashable) -> bytes:
    """A 20-byte digest of ``key`` (a tuple of str/int/None/tuples: its ``repr`` is the same
    in every process)."""
    return hashlib.blake2b(repr(key).encode(), digest_size=20).digest()


async def get_tile(conn: AsyncConnection, key: bytes) -> tuple[bytes, str] | None:
    """``(tile, etag)`` stored under ``key``, or ``None``."""
    cur = await conn.execute("SELECT tile, etag FROM tile_cache WHERE key = %s", (key,))
    row = await cur.fetchone()
    return (bytes(row[0]), str(row[1])) if row else None


async def put_tile(conn: AsyncConnection, key: bytes, layer: str, tile: bytes, etag: str) -> None:
    """Store a rendered tile (a concurrent store of the same key by another process wins)."""
    await conn.execute(
        "INSERT INTO tile_cache (key, layer, tile, etag) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (key) DO NOTHING", (key, layer, tile, etag))


async def prune(conn: AsyncConnection, max_entries: int) -> int:
    """Delete the oldest entries beyond ``max_entries``; return how many went."""
    cur = await conn.execute(
        "DELETE FROM tile_cache WHERE created_at < (SELECT created_at FROM tile_cache "
        "ORDER BY created_at DESC OFFSET %s LIMIT 1)", (max_entries,))
    return cur.rowcount


async def clear(conn: AsyncConnection) -> None:
    """Empty the shared cache."""
    await conn.execute("DELETE FROM tile_cache")
