"""Reads for grid workload and re-gridding: grids with community/street, the grid–compound
overlay, compounds, a community's compounds and polygon. Never commits; EPSG:4326."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.errors import NotFoundError


def read_grid_units(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """Grids of the city: ``grid_id``, ``name``, ``community``, ``street`` and polygon."""
    rows = conn.execute(text("""
        SELECT g.id, g.name, cm.name AS community, st.name AS street, ST_AsBinary(g.geom)
        FROM grid g LEFT JOIN community cm ON cm.id = g.community_id
        LEFT JOIN street st ON st.id = cm.street_id
        WHERE g.city_id = :city ORDER BY g.id"""), {"city": city_id}).all()
    return gpd.GeoDataFrame(
        {"grid_id": [int(r[0]) for r in rows], "name": [r[1] for r in rows],
         "community": [r[2] for r in rows], "street": [r[3] for r in rows]},
        geometry=[shapely.from_wkb(bytes(r[4])) for r in rows], crs=4326)


def read_overlay(conn: Connection, city_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(overlay, compounds)``: grid–compound resident shares and compounds' households
    and residents of the city."""
    ov = pd.DataFrame(conn.execute(text("""
        SELECT gc.grid_id, gc.compound_id, gc.resident_share FROM grid_compound gc
        JOIN grid g ON g.id = gc.grid_id WHERE g.city_id = :city"""), {"city": city_id}).all(),
        columns=["grid_id", "compound_id", "resident_share"])
    comp = pd.DataFrame(conn.execute(text("""
        SELECT id, households, residents FROM compound WHERE city_id = :city"""),
        {"city": city_id}).all(), columns=["compound_id", "households", "residents"])
    return ov, comp


def read_community(conn: Connection, city_id: int, community: str
                   ) -> tuple[int, str, shapely.Geometry, gpd.GeoDataFrame]:
    """``(id, name, polygon, compounds)`` of the community named ``community`` (name or
    external id); compounds have ``compound_id``, ``name``, ``households`` and polygon."""
    row = conn.execute(text("""
        SELECT id, name, ST_AsBinary(geom) FROM community
        WHERE city_id = :city AND (name = :c OR external_id = :c) ORDER BY id LIMIT 1"""),
        {"city": city_id, "c": community}).first()
    if row is None:
        raise NotFoundError(f"no community {community!r} in this city")
    rows = conn.execute(text("""
        SELECT id, name, households, ST_AsBinary(geom) FROM compound
        WHERE community_id = :cm ORDER BY id"""), {"cm": row[0]}).all()
    comp = gpd.GeoDataFrame(
        {"compound_id": [int(r[0]) for r in rows], "name": [r[1] for r in rows],
         "households": [float(r[2]) for r in rows]},
        geometry=[shapely.from_wkb(bytes(r[3])) for r in rows], crs=4326)
    return int(row[0]), str(row[1]), shapely.from_wkb(bytes(row[2])), comp
