"""OSM gate nodes of a city and the gates inferred from them for its compounds.

``city add`` keeps the gate and entrance nodes of the extract (:func:`write_osm_gates`);
:func:`refresh_inferred_gates` infers every compound's gates from them and from the
walkable ways crossing its outline (:func:`geo.network.gates.infer_gates`) after compounds
or the network change. Inferred gates never replace the user's ``gates``: coverage uses
the user's first (:func:`geo.coverage.analysis.compound_origins`). Nothing here commits.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.crs.utm import WGS84
from geo.network.gates import infer_gates
from geo.store.cities import get_city_by_id
from geo.store.network import read_network_frames


def write_osm_gates(conn: Connection, city_id: int, gate_points: gpd.GeoDataFrame) -> int:
    """Replace the OSM gate nodes of ``city_id`` (``osm_id, kind``, Points in EPSG:4326,
    as :attr:`geo.network.osm.OsmExtract.gate_points`); returns how many."""
    conn.execute(text("DELETE FROM osm_gate WHERE city_id = :c"), {"c": city_id})
    if len(gate_points) == 0:
        return 0
    g = gate_points.to_crs(WGS84)
    wkb = shapely.to_wkb(shapely.set_srid(np.asarray(g.geometry.values, dtype=object), WGS84),
                         hex=True, include_srid=True)
    conn.execute(text("INSERT INTO osm_gate (city_id, osm_id, kind, geom) "
                      "VALUES (:c, :o, :k, ST_GeomFromEWKB(decode(:g, 'hex')))"),
                 [{"c": city_id, "o": int(o), "k": str(k), "g": w}
                  for o, k, w in zip(g["osm_id"], g["kind"], wkb, strict=True)])
    return len(g)


def read_osm_gates(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """The OSM gate nodes of ``city_id``: ``osm_id, kind`` and the Point (EPSG:4326)."""
    rows = conn.execute(text("SELECT osm_id, kind, ST_AsBinary(geom) AS g FROM osm_gate "
                             "WHERE city_id = :c ORDER BY osm_id"), {"c": city_id}).all()
    return gpd.GeoDataFrame({"osm_id": pd.array([r.osm_id for r in rows], dtype="Int64"),
                             "kind": [r.kind for r in rows]},
                            geometry=[shapely.from_wkb(bytes(r.g)) for r in rows], crs=WGS84)


def refresh_inferred_gates(conn: Connection, city_id: int) -> int:
    """Infer the gates of every compound of ``city_id`` from its stored OSM gate nodes and
    walking network; returns the number of compounds with inferred gates."""
    rows = conn.execute(text("SELECT id, ST_AsBinary(geom) AS g FROM compound "
                             "WHERE city_id = :c ORDER BY id"), {"c": city_id}).all()
    if not rows:
        return 0
    compounds = gpd.GeoDataFrame({"id": [int(r.id) for r in rows]},
                                 geometry=[shapely.from_wkb(bytes(r.g)) for r in rows],
                                 crs=WGS84)
    _, edges = read_network_frames(conn, city_id, mode="walk")
    city = get_city_by_id(conn, city_id)
    inferred = infer_gates(compounds, read_osm_gates(conn, city_id), edges,
                           metric_epsg=city.metric_epsg)
    geoms = np.asarray(inferred.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    wkb: list[str | None] = [None] * len(geoms)
    if present.any():
        for i, h in zip(np.flatnonzero(present), shapely.to_wkb(
                shapely.set_srid(geoms[present], WGS84), hex=True, include_srid=True),
                strict=True):
            wkb[i] = h
    conn.execute(text("UPDATE compound SET inferred_gates = "
                      "CASE WHEN CAST(:g AS text) IS NULL THEN NULL "
                      "ELSE ST_GeomFromEWKB(decode(:g, 'hex')) END "
                      "WHERE city_id = :c AND id = :i"),
                 [{"c": city_id, "i": i, "g": w}
                  for i, w in zip(compounds["id"], wkb, strict=True)])
    return int(present.sum())
