"""Cities: one deployment holds several, each with its bounds and metric CRS."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from shapely.geometry import Polygon
from sqlalchemy import Connection, bindparam, text

from geo.crs.utm import utm_epsg
from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.vocab import suggest

_COLUMNS = "id, code, name_zh, name_en, metric_epsg, ST_AsBinary(bounds) AS bounds"


@dataclass(frozen=True)
class City:
    """A city: ``bounds`` is a Polygon in EPSG:4326; metric work uses ``metric_epsg``."""

    id: int
    code: str
    name_zh: str
    name_en: str
    metric_epsg: int
    bounds: Polygon


def _city(row: object) -> City:
    m = row._mapping  # type: ignore[attr-defined]
    return City(id=int(m["id"]), code=m["code"], name_zh=m["name_zh"], name_en=m["name_en"],
                metric_epsg=int(m["metric_epsg"]), bounds=shapely.from_wkb(bytes(m["bounds"])))


def code_problems(code: str) -> list[Problem]:
    """Problems with a city code (lower-case letters, digits, '_' or '-'); empty if fine."""
    if re.fullmatch(CODE_PATTERN, code or ""):
        return []
    return [Problem(f"city code {code!r} must be lower-case letters, digits, '_' or '-'",
                    field="code")]


def create_city(conn: Connection, code: str, *, name_zh: str, name_en: str, bounds: Polygon,
                metric_epsg: int | None = None) -> City:
    """Create the city ``code`` or update its names, bounds and CRS (upsert by code).

    Parameters
    ----------
    bounds
        Polygon in EPSG:4326 (lon/lat degrees).
    metric_epsg
        Projected CRS for metric analysis; default: the UTM zone of the bounds' centroid.
    """
    problems = []
    if not isinstance(bounds, Polygon) or bounds.is_empty or not bounds.is_valid:
        problems.append(Problem("bounds must be a valid, non-empty Polygon", field="bounds"))
    else:
        minx, miny, maxx, maxy = bounds.bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            problems.append(Problem("bounds are not lon/lat degrees (EPSG:4326)", field="bounds"))
    problems += code_problems(code)
    if problems:
        raise InvalidInputError("invalid city", problems)
    if metric_epsg is None:
        c = bounds.centroid
        metric_epsg = utm_epsg(c.x, c.y)
    row = conn.execute(
        text(f"""
            INSERT INTO city (code, name_zh, name_en, metric_epsg, bounds)
            VALUES (:code, :name_zh, :name_en, :epsg, ST_GeomFromWKB(:wkb, 4326))
            ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh,
                name_en = EXCLUDED.name_en, metric_epsg = EXCLUDED.metric_epsg,
                bounds = EXCLUDED.bounds
            RETURNING {_COLUMNS}"""),
        {"code": code, "name_zh": name_zh, "name_en": name_en, "epsg": int(metric_epsg),
         "wkb": shapely.to_wkb(bounds)},
    ).one()
    return _city(row)


def list_cities(conn: Connection) -> list[City]:
    """All cities, ordered by code."""
    rows = conn.execute(text(f"SELECT {_COLUMNS} FROM city ORDER BY code"))
    return [_city(r) for r in rows]


#: The pattern of a city code (checked before any SQL by the API's ``CityDep``).
CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


def get_city(conn: Connection, code: str) -> City:
    """The city ``code``; :class:`NotFoundError` (close names suggested, the known codes
    listed) if there is none."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM city WHERE code = :code"),
                       {"code": code}).one_or_none()
    if row is None:
        raise unknown_city(code, [c.code for c in list_cities(conn)])
    return _city(row)


def unknown_city(code: str, known: Iterable[str]) -> NotFoundError:
    """The error for a city ``code`` that is not among ``known`` (``unknown-city``): close
    codes suggested ("did you mean …"), the known ones listed."""
    known = list(known)
    close = tuple(suggest(code, known))
    mean = f"did you mean {' or '.join(close)}? " if close else ""
    return NotFoundError(f"no city {code!r}; {mean}known cities: {', '.join(known) or '(none)'}",
                         code="unknown-city", suggestions=close)


def get_city_by_id(conn: Connection, city_id: int) -> City:
    """The city with id ``city_id``; :class:`NotFoundError` if there is none."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM city WHERE id = :id"),
                       {"id": int(city_id)}).one_or_none()
    if row is None:
        raise NotFoundError(f"no city with id {city_id}", code="unknown-city")
    return _city(row)


def city_extents(conn: Connection) -> list[tuple[str, str, str, tuple[float, float, float,
                                                                        float]]]:
    """``(code, name_zh, name_en, (minx, miny, maxx, maxy))`` of every city by code
    (EPSG:4326)."""
    rows = conn.execute(text(
        "SELECT code, name_zh, name_en, ST_XMin(bounds) AS x0, ST_YMin(bounds) AS y0, "
        "ST_XMax(bounds) AS x1, ST_YMax(bounds) AS y1 FROM city ORDER BY code")).all()
    return [(r.code, r.name_zh, r.name_en, (float(r.x0), float(r.y0), float(r.x1),
                                            float(r.y1))) for r in rows]


def city_ids(conn: Connection) -> dict[str, int]:
    """City id by code."""
    return {r.code: int(r.id) for r in conn.execute(text("SELECT id, code FROM city"))}


def city_compounds(conn: Connection) -> dict[str, int]:
    """Compounds of every city by code (0 for a city without any): the size of its analyses'
    work, which grows about linearly with its compounds."""
    return {r.code: int(r.n) for r in conn.execute(text(
        "SELECT c.code, count(p.id) AS n FROM city c LEFT JOIN compound p ON p.city_id = c.id "
        "GROUP BY c.code"))}


def all_versions(conn: Connection) -> dict[str, int]:
    """The change counter of every table that has one (``layer_version``)."""
    return {r.table_name: int(r.version) for r in conn.execute(
        text("SELECT table_name, version FROM layer_version"))}


def postgis_version(conn: Connection) -> str:
    """The PostGIS library version of the server."""
    return str(conn.execute(text("SELECT postgis_lib_version()")).scalar_one())


def data_version(conn: Connection, tables: Iterable[str]) -> dict[str, int]:
    """Current change counter of each table (from ``layer_version``), e.g. for cache keys.

    A table that exists but has no counter yet (never changed) has version 0; a table
    that does not exist raises :class:`NotFoundError`.
    """
    names = sorted(set(tables))
    if not names:
        return {}
    rows = conn.execute(
        text("SELECT table_name, version FROM layer_version WHERE table_name IN :names")
        .bindparams(bindparam("names", expanding=True)),
        {"names": names},
    )
    found = {r.table_name: int(r.version) for r in rows}
    for n in names:  # a table that exists but never changed has version 0
        if n not in found and conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"),
                                           {"n": n}).scalar_one():
            found[n] = 0
    missing = [n for n in names if n not in found]
    if missing:
        raise NotFoundError(f"tables without a version counter: {', '.join(missing)}")
    return {n: found[n] for n in names}
