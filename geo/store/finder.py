"""What the nearest-station finder reads: a type's stations with what they offer, and the
city's own names (compounds, stations, streets) for typed addresses.

Every function takes a connection and never commits; geometries are EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely
from sqlalchemy import Connection, text

from geo.crs.utm import WGS84
from geo.errors import InvalidInputError, Problem

#: The kinds of place a search finds, in the order they are listed for equal matches.
PLACE_KINDS = ("compound", "station", "street")


def read_stations(conn: Connection, city_id: int, service_type: str) -> gpd.GeoDataFrame:
    """Service points of ``service_type`` in ``city_id`` ordered by id: ``id, external_id,
    type, name, address, opening_hours`` (OSM syntax, as stored), ``services`` (list of
    text) and the point."""
    rows = conn.execute(text("""
        SELECT id, external_id, type, name, address, opening_hours, services,
               ST_AsBinary(geom) AS wkb
        FROM service_point WHERE city_id = :city AND type = :type ORDER BY id"""),
        {"city": city_id, "type": service_type}).all()
    return gpd.GeoDataFrame(
        {"id": [int(r.id) for r in rows], "external_id": [r.external_id for r in rows],
         "type": [r.type for r in rows], "name": [r.name for r in rows],
         "address": [r.address or None for r in rows],
         "opening_hours": [r.opening_hours or None for r in rows],
         "services": [list(r.services or []) for r in rows]},
        geometry=[shapely.from_wkb(bytes(r.wkb)) for r in rows], crs=WGS84)


@dataclass(frozen=True)
class Place:
    """A named place of the city: ``kind`` (compound, station or street), its id (None for
    a street, named by its edges), name, the station's type, and the point a route starts
    from (lon/lat, EPSG:4326: a compound's first gate or a point inside it, the station,
    the point of the street nearest its middle); ``matched`` the text that found it."""

    kind: str
    id: int | None
    name: str
    service_type: str | None
    lon: float
    lat: float
    matched: str


_SEARCH = """
    SELECT * FROM (
      SELECT 'compound' AS kind, c.id, c.name, NULL AS type,
             ST_X(p) AS lon, ST_Y(p) AS lat
      FROM compound c,
           LATERAL (SELECT COALESCE(ST_GeometryN(COALESCE(c.gates, c.inferred_gates), 1),
                                    ST_PointOnSurface(c.geom)) AS p) g
      WHERE c.city_id = :city AND c.name ILIKE :pattern
      UNION ALL
      SELECT 'station', s.id, s.name, s.type, ST_X(s.geom), ST_Y(s.geom)
      FROM service_point s WHERE s.city_id = :city AND s.name ILIKE :pattern
      UNION ALL
      SELECT 'street', NULL, e.name, NULL, ST_X(e.p), ST_Y(e.p)
      FROM (SELECT name, ST_ClosestPoint(ST_Collect(geom), ST_Centroid(ST_Collect(geom))) AS p
            FROM street_edge WHERE city_id = :city AND name ILIKE :pattern
            GROUP BY name) e
    ) t
    ORDER BY (name = :q) DESC, (name ILIKE :prefix) DESC, length(name),
             array_position(CAST(:kinds AS text[]), kind), id NULLS LAST
    LIMIT :limit"""


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_places(conn: Connection, city_id: int, names: tuple[str, ...], *,
                  limit: int = 10) -> list[Place]:
    """Places of ``city_id`` whose name contains one of ``names`` (case-insensitive),
    tried in order (a more specific name's places first): exact names, then names that
    start with it, then shorter names first."""
    if not 1 <= limit <= 50:
        raise InvalidInputError("invalid search", [Problem("limit must be 1-50", field="limit")])
    out: list[Place] = []
    seen: set[tuple[str, int | None, str]] = set()
    for name in names:
        rows = conn.execute(text(_SEARCH), {
            "city": city_id, "pattern": f"%{_like(name)}%", "prefix": f"{_like(name)}%",
            "q": name, "kinds": list(PLACE_KINDS), "limit": limit}).all()
        for r in rows:
            key = (r.kind, r.id, r.name)
            if key in seen:
                continue
            seen.add(key)
            out.append(Place(kind=r.kind, id=None if r.id is None else int(r.id), name=r.name,
                             service_type=r.type, lon=float(r.lon), lat=float(r.lat),
                             matched=name))
        if len(out) >= limit:
            break
    return out[:limit]
