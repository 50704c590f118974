"""Mapbox vector tiles of catalogue layers, rendered in PostGIS, and a versioned tile cache.

Tiles are in Web Mercator (EPSG:3857) XYZ addressing, extent 4096 with a 64-unit buffer.
Rules (documented for clients, also in TileJSON):

- ``z`` must be 0-24 and ``x``/``y`` in ``0 .. 2**z - 1``; otherwise :class:`InvalidInputError`
  (HTTP 422) — checked before any SQL.
- ``z`` outside the layer's ``[minzoom, maxzoom]`` → :class:`NotFoundError` (HTTP 404).
- A tile without features renders as ``b""`` (served as HTTP 204 No Content).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable
from typing import Any

from sqlalchemy import Connection, bindparam, text

from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.store.cache import SizedLRU
from geo.store.features import fid_sql, quote, source_table
from layers.registry import Layer

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24


def validate_tile(z: int, x: int, y: int) -> None:
    """Raise :class:`InvalidInputError` unless z/x/y address an existing XYZ tile."""
    problems = []
    if not 0 <= z <= MAX_ZOOM:
        problems.append(Problem(f"z must be between 0 and {MAX_ZOOM}", field="z"))
    else:
        n = 1 << z
        if not 0 <= x < n:
            problems.append(Problem(f"x must be between 0 and {n - 1} at zoom {z}", field="x"))
        if not 0 <= y < n:
            problems.append(Problem(f"y must be between 0 and {n - 1} at zoom {z}", field="y"))
    if problems:
        raise InvalidInputError("invalid tile address", problems)


def check_zoom(layer: Layer, z: int) -> None:
    """:class:`NotFoundError` when ``z`` is outside the layer's zoom range."""
    if not layer.minzoom <= z <= layer.maxzoom:
        raise NotFoundError(f"layer {layer.name!r} has tiles at zoom {layer.minzoom}-"
                            f"{layer.maxzoom} only")


def source_versions(conn: Connection, layer: Layer) -> tuple[int, ...]:
    """Change counters (``layer_version``) of the tables behind ``layer``; 0 if unknown."""
    names = layer.source.versions
    rows = conn.execute(text("SELECT table_name, version FROM layer_version "
                             "WHERE table_name IN :names")
                        .bindparams(bindparam("names", expanding=True)), {"names": list(names)})
    found = {r.table_name: int(r.version) for r in rows}
    return tuple(found.get(n, 0) for n in names)


def tile_sql(layer: Layer, z: int, x: int, y: int, *, personal: bool = False,
             city_id: int | None = None,
             where: tuple[tuple[str, str | int], ...] = (),
             run_id: int | None = None) -> tuple[str, dict[str, Any]]:
    """SQL (``:name`` placeholders) and parameters rendering tile z/x/y of ``layer`` as MVT.

    Validates the address and zoom range first (no SQL for a bad tile). ``where`` holds
    ``(column, value)`` pairs from :meth:`layers.registry.Source.parse_query_filters`;
    a column the layer does not declare filterable raises :class:`InvalidInputError`.
    ``run_id``: the features of that analysis run (the run of a moment, from the layer's
    ``run_table``) instead of the latest all-day run.
    """
    validate_tile(z, x, y)
    check_zoom(layer, z)
    s = layer.source
    cols = s.visible_columns(personal=personal)
    g = f"t.{quote(s.geometry_column)}"
    clauses = [f"{g} && b.env4326"]
    params: dict[str, Any] = {"z": z, "x": x, "y": y, "name": layer.name,
                              "margin": BUFFER / EXTENT}
    table = source_table(layer, run_id)
    if run_id is not None:
        clauses.append("t.run_id = :run_id")
        params["run_id"] = run_id
    for i, (col, value) in enumerate(s.filters):
        clauses.append(f"t.{quote(col)} = :fixed{i}")
        params[f"fixed{i}"] = value
    declared = {c for c, _ in s.query_filters}
    for i, (col, value) in enumerate(where):
        if col not in declared:
            raise InvalidInputError("invalid tile filter",
                                    [Problem(f"cannot filter by {col!r}", field=col)])
        clauses.append(f"t.{quote(col)} = :qf{i}")
        params[f"qf{i}"] = value
    if city_id is not None and s.city_column:
        clauses.append(f"t.{quote(s.city_column)} = :city_id")
        params["city_id"] = city_id
    props = "".join(f", t.{quote(c)}" for c in cols)
    sql = f"""
        WITH b AS (
            SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                   ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS env4326
        )
        SELECT ST_AsMVT(m, :name, {EXTENT}, 'geom', 'fid') FROM (
            SELECT {fid_sql(layer)} AS fid{props},
                   ST_AsMVTGeom(ST_Transform({g}, 3857), b.env, {EXTENT}, {BUFFER}, true) AS geom
            FROM {table} AS t, b
            WHERE {' AND '.join(clauses)}
        ) AS m WHERE m.geom IS NOT NULL"""
    return sql, params


_PLACEHOLDER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def to_pyformat(sql: str) -> str:
    """``:name`` placeholders (as from :func:`tile_sql`) → psycopg's ``%(name)s``."""
    return _PLACEHOLDER.sub(r"%(\1)s", sql.replace("%", "%%"))


def render_tile(conn: Connection, layer: Layer, z: int, x: int, y: int, *, personal: bool = False,
                city_id: int | None = None,
                where: tuple[tuple[str, str | int], ...] = (),
                run_id: int | None = None) -> bytes:
    """The MVT of tile z/x/y of ``layer`` (one MVT layer named after it); ``b""`` if empty.

    Feature ids are the OGC feature ids; attributes are the layer's exposed columns
    (personal ones only when ``personal``); ``run_id`` as in :func:`tile_sql`.
    """
    sql, params = tile_sql(layer, z, x, y, personal=personal, city_id=city_id, where=where,
                           run_id=run_id)
    data = conn.execute(text(sql), params).scalar_one()
    return bytes(data) if data else b""


class TileCache:
    """A thread-safe LRU of rendered tiles with their ETags; keys include the source
    versions, so a data change makes old entries unreachable (they age out).

    Bounded in bytes, each entry counted as its tile plus :data:`geo.store.cache.ENTRY_OVERHEAD` (an empty
    tile is not free), and in entries (``max_entries``).
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_entries: int = 100_000) -> None:
        self._lru: SizedLRU[tuple[bytes, str]] = SizedLRU(
            max_bytes, size_of=lambda item: len(item[0]), max_entries=max_entries)
        self.max_bytes = max_bytes

    @property
    def size(self) -> int:
        """Bytes counted against ``max_bytes``."""
        return self._lru.size

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """``(tile, etag)`` or ``None``."""
        return self._lru.get(key)

    def put(self, key: Hashable, tile: bytes) -> tuple[bytes, str]:
        """Store ``tile``; return it with its ETag (a quoted hash of the bytes)."""
        item = (tile, '"' + hashlib.blake2b(tile, digest_size=12).hexdigest() + '"')
        self._lru.put(key, item)
        return item

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)
