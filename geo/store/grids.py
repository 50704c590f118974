"""Reads for grid workload and re-gridding: grids with community/street, the grid–compound
overlay, compounds, a community's compounds and polygon; a saved re-gridding proposal.
Never commits; EPSG:4326."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.errors import NotFoundError
from geo.store.cities import data_version

#: ``analysis_run.kind`` of a saved re-gridding proposal.
REGRID_KIND = "regrid"
#: Tables a proposal is computed from (their ``layer_version`` figures are recorded).
REGRID_INPUTS = ("community", "compound", "grid", "grid_compound")


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
        SELECT grid_id, compound_id, resident_share FROM grid_compound
        WHERE city_id = :city"""), {"city": city_id}).all(),
        columns=["grid_id", "compound_id", "resident_share"])
    comp = pd.DataFrame(conn.execute(text("""
        SELECT id, households, residents FROM compound WHERE city_id = :city"""),
        {"city": city_id}).all(), columns=["compound_id", "households", "residents"])
    return ov, comp


def read_community(conn: Connection, city_id: int, community: str
                   ) -> tuple[int, str, shapely.Geometry, gpd.GeoDataFrame]:
    """``(id, name, polygon, compounds)`` of the community named ``community`` (name or
    external id); compounds have ``compound_id``, ``name``, ``households``, ``residents``
    and polygon."""
    row = conn.execute(text("""
        SELECT id, name, ST_AsBinary(geom) FROM community
        WHERE city_id = :city AND (name = :c OR external_id = :c) ORDER BY id LIMIT 1"""),
        {"city": city_id, "c": community}).first()
    if row is None:
        raise NotFoundError(f"no community {community!r} in this city")
    rows = conn.execute(text("""
        SELECT id, name, households, residents, ST_AsBinary(geom) FROM compound
        WHERE city_id = :city AND community_id = :cm ORDER BY id"""),
        {"city": city_id, "cm": row[0]}).all()
    comp = gpd.GeoDataFrame(
        {"compound_id": [int(r[0]) for r in rows], "name": [r[1] for r in rows],
         "households": [float(r[2]) for r in rows], "residents": [float(r[3]) for r in rows]},
        geometry=[shapely.from_wkb(bytes(r[4])) for r in rows], crs=4326)
    return int(row[0]), str(row[1]), shapely.from_wkb(bytes(row[2])), comp


def save_regrid(conn: Connection, city_id: int, *, community: str, grids: gpd.GeoDataFrame,
                lower: float, upper: float, params: Mapping[str, Any],
                summary: Mapping[str, Any]) -> int:
    """Record a re-gridding proposal: an ``analysis_run`` (kind ``regrid``) and one
    ``regrid_grid`` row per proposed grid (``proposal``, ``households``, ``residents``,
    ``compounds``, ``in_range``, polygon → MultiPolygon, EPSG:4326). Returns the run id;
    the view ``regrid_grid_latest`` then shows it for the city."""
    run_id = int(conn.execute(text("""
        INSERT INTO analysis_run (city_id, kind, params, data_version, summary)
        VALUES (:city, :kind, CAST(:params AS json), CAST(:dv AS json),
                CAST(:summary AS json)) RETURNING id"""), {
        "city": city_id, "kind": REGRID_KIND, "params": json.dumps(dict(params), default=str),
        "dv": json.dumps(data_version(conn, REGRID_INPUTS)),
        "summary": json.dumps(dict(summary), default=str)}).scalar_one())
    g = grids.to_crs(4326)
    rows = [{"run": run_id, "city": city_id, "community": community,
             "proposal": int(r["proposal"]), "households": float(r["households"]),
             "residents": float(r["residents"]), "compounds": int(r["compounds"]),
             "in_range": bool(r["in_range"]), "lower": float(lower), "upper": float(upper),
             "wkb": shapely.to_wkb(geom)}
            for (_, r), geom in zip(g.iterrows(), g.geometry.values, strict=True)]
    conn.execute(text("""
        INSERT INTO regrid_grid (run_id, city_id, community, proposal, households, residents,
            compounds, in_range, lower, upper, geom)
        VALUES (:run, :city, :community, :proposal, :households, :residents, :compounds,
                :in_range, :lower, :upper, ST_Multi(ST_GeomFromWKB(:wkb, 4326)))"""), rows)
    return run_id
