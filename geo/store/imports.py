"""Importing a file into a city: read → CRS → validate → upsert, all or nothing.

:func:`import_file` runs in the caller's transaction and never commits: it validates every
row first and raises one :class:`InvalidInputError` listing every problem before anything
is written; the CLI commits only when it returns. Lookup tables (service types, case
categories) are read here and passed to the pure validators.

Concurrent imports: rows are written in id order (:mod:`geo.store.write`), so imports of
overlapping ids wait for each other instead of deadlocking. Should PostgreSQL still fail
the write for a deadlock or a serialization failure (a lock cycle with some other
transaction), the write step is rolled back to a savepoint and run again, at most
:data:`WRITE_ATTEMPTS` times with a short random pause; after that the import fails with
:class:`ConflictError` (HTTP 409), having written nothing.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geo.crs.chinese import detect_offset
from geo.errors import ConflictError, Hint, InvalidInputError, Problem
from geo.io.files import read_file, resolve_crs
from geo.io.validate import validate_features
from geo.settings import Settings
from geo.store.cities import City, get_city
from geo.store.gates import refresh_inferred_gates
from geo.store.siting import write_candidates
from geo.store.write import WriteCounts, refresh_grid_compound, upsert_counts
from geo.vocab import suggest

#: Kinds as written on the command line → table names.
CLI_KINDS: dict[str, str] = {
    "streets": "street", "communities": "community", "grids": "grid", "compounds": "compound",
    "service-points": "service_point", "cases": "grid_case", "candidates": "siting_candidate"}
_PARENT_TABLE = {"community": "street", "grid": "community", "compound": "community"}
_OFFSET_SAMPLE = 5000
#: A zipped Shapefile, .xlsx or GeoParquet may unpack to this many times the upload limit.
UNPACK_FACTOR = 4
#: Fewer features than this are never reported as GCJ-02/BD-09-shifted (too few to tell).
_OFFSET_MIN_FEATURES = 10
#: Runs of the write step when PostgreSQL fails it for a deadlock or serialization failure.
WRITE_ATTEMPTS = 4
#: Longest pause (seconds) before the last run; earlier pauses are shorter (doubling).
_RETRY_PAUSE_S = 0.4

log = logging.getLogger("servicecircle.imports")


@dataclass(frozen=True)
class ImportReport:
    """What one import did: rows read, inserted, updated, rows repaired, warnings."""

    kind: str
    rows_read: int
    inserted: int
    updated: int
    repaired: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


def table_kind(kind: str) -> str:
    """Table name of a kind given as on the CLI (``service-points``) or as a table name."""
    if kind in CLI_KINDS.values():
        return kind
    if kind in CLI_KINDS:
        return CLI_KINDS[kind]
    near = suggest(kind, CLI_KINDS)
    mean = f"did you mean {' or '.join(near)}? " if near else ""
    raise InvalidInputError(f"unknown kind {kind!r}", [Problem(
        f"unknown kind {kind!r}; {mean}allowed: {', '.join(CLI_KINDS)}", field="kind")],
        code="unknown-kind", suggestions=tuple(near))


def lookup_codes(conn: Connection) -> dict[str, dict[str, tuple[str, str]]]:
    """Allowed codes with (zh, en) names: ``{"service_type": {…}, "case_category": {…}}``."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for table in ("service_type", "case_category"):
        rows = conn.execute(text(f"SELECT code, name_zh, name_en FROM {table} ORDER BY code"))
        out[table] = {r.code: (r.name_zh, r.name_en) for r in rows}
    return out


def add_service_type(conn: Connection, code: str, *, name_zh: str, name_en: str) -> None:
    """Add (or rename) a configured service type; built-in types cannot be changed."""
    problems = []
    if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
        problems.append(Problem("code must be lower-case letters, digits and '_' "
                                "(starting with a letter)", field="code"))
    if not name_zh.strip() or not name_en.strip():
        problems.append(Problem("both the Chinese and the English name are required",
                                field="name"))
    builtin = conn.execute(text("SELECT builtin FROM service_type WHERE code = :c"),
                           {"c": code}).scalar()
    if builtin:
        problems.append(Problem(f"{code!r} is a built-in service type", field="code"))
    if problems:
        raise InvalidInputError(f"cannot add service type {code!r}", problems)
    conn.execute(text("INSERT INTO service_type (code, name_zh, name_en, builtin) "
                      "VALUES (:c, :zh, :en, false) ON CONFLICT (code) DO UPDATE SET "
                      "name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en"),
                 {"c": code, "zh": name_zh.strip(), "en": name_en.strip()})


def list_service_types(conn: Connection) -> list[tuple[str, str, str, bool]]:
    """(code, zh, en, builtin) of every service type, ordered by code."""
    rows = conn.execute(text("SELECT code, name_zh, name_en, builtin FROM service_type "
                             "ORDER BY builtin DESC, code"))
    return [(r.code, r.name_zh, r.name_en, bool(r.builtin)) for r in rows]


def _parents(conn: Connection, kind: str, city_id: int) -> set[str] | None:
    table = _PARENT_TABLE.get(kind)
    if table is None:
        return None
    rows = conn.execute(text(f"SELECT external_id FROM {table} WHERE city_id = :c"),
                        {"c": city_id})
    return {r[0] for r in rows}


def _sample_points(gdf: gpd.GeoDataFrame, near: BaseGeometry
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (points; polygon boundaries) near the city, with the row each belongs to.

    Coordinates that are not finite or lie far from the city (reported by validation) are
    left out; at most :data:`_OFFSET_SAMPLE` are drawn at random (seeded).
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rows = np.flatnonzero(keep)
    geoms = geoms[keep]
    if len(geoms) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)
    points = shapely.get_type_id(geoms) == 0
    parts = np.where(points, geoms, shapely.boundary(np.where(points, None, geoms)))
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    x0, y0, x1, y1 = near.bounds
    ok = (np.isfinite(coords).all(axis=1) & (coords[:, 0] >= x0) & (coords[:, 0] <= x1)
          & (coords[:, 1] >= y0) & (coords[:, 1] <= y1))
    coords, idx = coords[ok], rows[idx[ok]]
    if len(coords) > _OFFSET_SAMPLE:
        pick = np.random.default_rng(0).choice(len(coords), _OFFSET_SAMPLE, replace=False)
        coords, idx = coords[pick], idx[pick]
    return coords[:, 0], coords[:, 1], idx


def offset_problem(conn: Connection, city: City, gdf: gpd.GeoDataFrame) -> Problem | None:
    """A problem if WGS-84 features fit the city's streets clearly better as GCJ-02/BD-09.

    The test needs enough features to be meaningful (see
    :func:`geo.crs.chinese.detect_offset`): a few features are never reported.
    """
    if len(gdf) == 0:
        return None
    pad = 0.01  # degrees ≈ 1 km: more than any GCJ-02/BD-09 offset
    x, y, rows = _sample_points(gdf, city.bounds.buffer(pad, join_style="mitre"))
    if len(np.unique(rows)) < _OFFSET_MIN_FEATURES:
        return None
    rows_db = conn.execute(text(
        "SELECT ST_AsBinary(geom) FROM street_edge WHERE city_id = :c AND geom && "
        "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"),
        {"c": city.id, "x0": float(np.min(x)) - pad, "y0": float(np.min(y)) - pad,
         "x1": float(np.max(x)) + pad, "y1": float(np.max(y)) + pad}).scalars().all()
    if not rows_db:
        return None
    streets = gpd.GeoSeries(shapely.from_wkb([bytes(r) for r in rows_db]), crs=4326)
    check = detect_offset(x, y, streets, metric_epsg=city.metric_epsg, groups=rows,
                          min_features=_OFFSET_MIN_FEATURES)
    if check.suspected is None:
        return None
    shifted = check.median_gcj02_m if check.suspected == "gcj02" else check.median_bd09_m
    return Problem(
        f"the coordinates look {check.suspected.upper()}-shifted, not WGS-84: the median "
        f"distance of the {check.features} features to the nearest street is "
        f"{check.median_m:.0f} m as given but {shifted:.0f} m when read as "
        f"{check.suspected.upper()}; if they come from a Chinese web map, import again "
        f"declaring that CRS", field="crs", hint=Hint(option="crs", value=check.suspected))


def _size_guard(path: Path, settings: Settings | None) -> None:
    limit = (settings or Settings()).max_upload_bytes
    if path.exists() and path.stat().st_size > limit:
        raise InvalidInputError(f"{path.name} is too large", [Problem(
            f"{path.stat().st_size / 1e6:.1f} MB exceeds the limit of {limit / 1e6:.1f} MB "
            "(SERVICECIRCLE_MAX_UPLOAD_BYTES); split the file", field="file")])


def unpack_limit(settings: Settings | None) -> int:
    """Most bytes an uploaded container (zip, .xlsx, GeoParquet) may unpack to."""
    return UNPACK_FACTOR * (settings or Settings()).max_upload_bytes


def _write_candidates(conn: Connection, city_id: int, gdf: gpd.GeoDataFrame) -> WriteCounts:
    """Upsert candidate sites by external id, counting new and replaced ones."""
    rows = conn.execute(text("SELECT external_id FROM siting_candidate WHERE city_id = :c"),
                        {"c": city_id})
    known = {r[0] for r in rows}
    updated = int(gdf["external_id"].isin(known).sum())
    written = write_candidates(conn, city_id, gdf)
    return WriteCounts(written - updated, updated)


def _transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock or serialization failure (SQLSTATE class 40)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return str(getattr(orig, "sqlstate", "") or "").startswith("40")


def write_retrying(conn: Connection, write: Callable[[], WriteCounts], *,
                   what: str) -> WriteCounts:
    """``write()`` inside a savepoint, run again after a deadlock or serialization failure.

    Rolling back to the savepoint releases the locks ``write`` took, so the other side
    can go on; at most :data:`WRITE_ATTEMPTS` runs, then :class:`ConflictError`. Anything
    that happened in the transaction before stays.
    """
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        savepoint = conn.begin_nested()
        try:
            counts = write()
        except (psycopg.Error, DBAPIError) as exc:
            savepoint.rollback()
            if not _transient(exc):
                raise
            if attempt == WRITE_ATTEMPTS:
                log.warning("%s: gave up after %d deadlocks/serialization failures",
                            what, attempt)
                raise ConflictError(
                    f"{what} collided with other writes {attempt} times and was not "
                    "written; try again") from None
            pause = _RETRY_PAUSE_S * 2.0 ** (attempt - WRITE_ATTEMPTS) * random.uniform(0.5, 1)
            log.warning("%s: %s; retrying in %.2f s (attempt %d of %d)", what,
                        type(getattr(exc, "orig", exc)).__name__, pause, attempt + 1,
                        WRITE_ATTEMPTS)
            time.sleep(pause)
            continue
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        savepoint.commit()
        return counts
    raise AssertionError("unreachable")  # pragma: no cover


def import_file(conn: Connection, city_code: str, kind: str, path: str | Path, *,
                crs: str | None = None, repair: bool = False,
                field_map: Mapping[str, str] | None = None, encoding: str | None = None,
                check_offset: bool = True, settings: Settings | None = None,
                layer: str | None = None) -> ImportReport:
    """Import a feature file into city ``city_code``: all rows or none (never commits).

    Parameters
    ----------
    kind
        ``streets, communities, grids, compounds, service-points, cases`` (or table names),
        or ``candidates``: siting candidate sites (points; ``external_id``, optional
        ``name, kind, cost, capacity``), written with :func:`geo.store.siting.write_candidates`.
    path
        GeoJSON, GeoPackage, Shapefile (.shp or zipped), CSV, GeoParquet or Excel (.xlsx).
    crs
        ``wgs84``, ``gcj02``, ``bd09`` or ``EPSG:n``; required for a file without a CRS.
        CSV/Excel default to WGS-84. GCJ-02/BD-09 are converted to WGS-84 first.
    repair
        Repair invalid polygons with ``make_valid`` (listed in the report) instead of
        rejecting them.
    field_map
        Column renames ``{source: target}``.
    encoding
        Text encoding when the file is not UTF-8 (e.g. ``gb18030``).
    check_offset
        Reject WGS-84 data that fits the city's streets clearly better as GCJ-02/BD-09
        (only tested from :data:`_OFFSET_MIN_FEATURES` features on).
    settings
        For ``max_upload_bytes`` (a zipped Shapefile, .xlsx or GeoParquet may unpack to
        4 × that).
    layer
        GeoPackage layer; required when the file holds several feature layers.
    """
    table = table_kind(kind)
    path = Path(path)
    _size_guard(path, settings)
    city = get_city(conn, city_code)
    read = read_file(path, encoding=encoding, field_map=field_map, layer=layer,
                     max_unpacked_bytes=unpack_limit(settings))
    gdf = resolve_crs(read.frame, file_crs=read.crs, tabular=read.tabular, crs=crs,
                      unknown_crs=read.unknown_crs)
    problems: list[Problem] = []
    try:
        valid = validate_features(gdf, table, codes=lookup_codes(conn), bounds=city.bounds,
                                  parents=_parents(conn, table, city.id), repair=repair)
    except InvalidInputError as exc:
        problems = list(exc.errors)
        valid = None
    declared_wgs84 = (crs or "wgs84").strip().lower() not in ("gcj02", "gcj-02", "bd09",
                                                              "bd-09")
    if check_offset and declared_wgs84:
        p = offset_problem(conn, city, gdf)
        if p is not None:
            problems.insert(0, p)
    if problems or valid is None:
        raise InvalidInputError(f"{len(problems)} problem(s) in {path.name} ({kind})", problems)

    def write() -> WriteCounts:
        if table == "siting_candidate":
            counts = _write_candidates(conn, city.id, valid.frame)
        else:
            counts = upsert_counts(conn, table, city.id, valid.frame)
        if table in ("grid", "compound"):
            refresh_grid_compound(conn, city.id)
        if table == "compound":  # gates from OSM where the file gives none
            refresh_inferred_gates(conn, city.id)
        return counts

    counts = write_retrying(conn, write, what=f"importing {path.name} ({kind})")
    warnings = valid.warnings
    if not declared_wgs84:
        warnings += (f"coordinates converted from {crs} to WGS-84",)
    return ImportReport(kind=table, rows_read=len(read.frame), inserted=counts.inserted,
                        updated=counts.updated, repaired=valid.repaired, warnings=warnings)
