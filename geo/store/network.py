"""The street network of a city: nodes and undirected edges flagged walk / ride.

Edges are undirected street segments between intersections (and way ends) with their
real geometry, as built by :func:`geo.network.osm.read_osm`, each with the walkability rule
that decided it (``walk_rule``, optional). :func:`write_network_figures` keeps the
city's honest walking-network figures and the kilometres per walkability rule. All geometries EPSG:4326;
``length_m`` is the geodesic length in metres. :func:`read_network` is the loader of the
analysis object, :class:`~geo.network.graph.StreetNetwork` (pandana's pattern: the core
never reads the database; the loader builds the core object).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.crs.utm import WGS84
from geo.errors import CRSError, InvalidInputError, Problem
from geo.network.graph import Mode, StreetNetwork

NODE_COLUMNS = ["node_id", "osm_id", "geometry"]
EDGE_COLUMNS = ["edge_id", "u", "v", "osm_way_id", "length_m", "highway", "name", "walk", "ride",
                "geometry"]


def _check(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> None:
    problems: list[Problem] = []
    for what, gdf, cols in (("nodes", nodes, NODE_COLUMNS), ("edges", edges, EDGE_COLUMNS)):
        if gdf.crs is None or gdf.crs.to_epsg() != WGS84:
            raise CRSError(f"street {what} must be in EPSG:4326, got {gdf.crs}")
        for c in cols:
            if c not in gdf.columns:
                problems.append(Problem(f"missing column in {what}", field=c))
    if problems:
        raise InvalidInputError("street network is incomplete", problems)
    if nodes["node_id"].duplicated().any():
        problems.append(Problem("duplicate node ids", field="node_id"))
    if edges["edge_id"].duplicated().any():
        problems.append(Problem("duplicate edge ids", field="edge_id"))
    known = set(nodes["node_id"].to_numpy().tolist())
    for col in ("u", "v"):
        bad = ~edges[col].isin(known)
        for row in np.flatnonzero(bad.to_numpy())[:20]:
            problems.append(Problem("edge end is not a known node", row=int(row), field=col))
    for row in np.flatnonzero(~(edges["length_m"].to_numpy() > 0))[:20]:
        problems.append(Problem("length_m must be > 0", row=int(row), field="length_m"))
    neither = ~(edges["walk"].astype(bool) | edges["ride"].astype(bool)).to_numpy()
    for row in np.flatnonzero(neither)[:20]:
        problems.append(Problem("edge is neither walkable nor rideable", row=int(row), field="walk"))
    if problems:
        raise InvalidInputError("invalid street network", problems)


def _ewkb(geoms: gpd.GeoSeries) -> list[str]:
    arr = shapely.set_srid(np.asarray(geoms.values, dtype=object), WGS84)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


def _opt_int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _opt_str(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def write_network(conn: Connection, city_id: int, nodes: gpd.GeoDataFrame,
                  edges: gpd.GeoDataFrame) -> None:
    """Replace the street network of city ``city_id`` (bulk COPY; the caller commits).

    Parameters
    ----------
    nodes
        Columns ``node_id, osm_id, geometry`` (Point), EPSG:4326.
    edges
        Columns ``edge_id, u, v, osm_way_id, length_m`` (metres), ``highway, name, walk,
        ride, geometry`` (LineString), EPSG:4326; optional ``walk_rule``.
    """
    _check(nodes, edges)
    rules = (edges["walk_rule"].tolist() if "walk_rule" in edges.columns
             else [None] * len(edges))
    conn.execute(text("DELETE FROM street_edge WHERE city_id = :c"), {"c": city_id})
    conn.execute(text("DELETE FROM street_node WHERE city_id = :c"), {"c": city_id})
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        with cur.copy("COPY street_node (city_id, node_id, osm_id, geom) FROM STDIN") as cp:
            for nid, osm, g in zip(nodes["node_id"], nodes["osm_id"], _ewkb(nodes.geometry),
                                   strict=True):
                cp.write_row((city_id, int(nid), _opt_int(osm), g))
        with cur.copy("COPY street_edge (city_id, edge_id, u, v, osm_way_id, length_m, highway, "
                      "name, walk, ride, walk_rule, geom) FROM STDIN") as cp:
            cols = [edges[c].tolist() for c in EDGE_COLUMNS[:-1]]
            for row in zip(*cols, rules, _ewkb(edges.geometry), strict=True):
                eid, u, v, way, length, hw, name, walk, ride, rule, g = row
                cp.write_row((city_id, int(eid), int(u), int(v), _opt_int(way), float(length),
                              _opt_str(hw), _opt_str(name), bool(walk), bool(ride),
                              _opt_str(rule), g))


def read_network_frames(conn: Connection, city_id: int, *,
                        mode: Literal["walk", "ride"] | None = None
                        ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The street network of ``city_id`` as (nodes, edges) GeoDataFrames in EPSG:4326.

    With ``mode`` only the edges usable on foot (``"walk"``) or by e-bike (``"ride"``) and
    the nodes they touch are returned. Rows are ordered by id.
    """
    if mode not in (None, "walk", "ride"):
        raise InvalidInputError(f"unknown mode {mode!r}; allowed: walk, ride",
                                [Problem("unknown mode", field="mode")])
    mode_sql = {None: "", "walk": " AND walk", "ride": " AND ride"}[mode]
    erows = conn.execute(text(
        "SELECT edge_id, u, v, osm_way_id, length_m, highway, name, walk, ride, walk_rule, "
        f"ST_AsBinary(geom) AS g FROM street_edge WHERE city_id = :c{mode_sql} ORDER BY edge_id"),
        {"c": city_id}).all()
    node_sql = "SELECT node_id, osm_id, ST_AsBinary(geom) AS g FROM street_node n WHERE city_id = :c"
    if mode:
        node_sql += (" AND EXISTS (SELECT 1 FROM street_edge e WHERE e.city_id = n.city_id"
                     f"{mode_sql} AND (e.u = n.node_id OR e.v = n.node_id))")
    nrows = conn.execute(text(node_sql + " ORDER BY node_id"), {"c": city_id}).all()
    nodes = gpd.GeoDataFrame(
        {"node_id": pd.array([r.node_id for r in nrows], dtype="int64"),
         "osm_id": pd.array([r.osm_id for r in nrows], dtype="Int64")},
        geometry=shapely.from_wkb([bytes(r.g) for r in nrows]), crs=WGS84)
    edges = gpd.GeoDataFrame(
        {"edge_id": pd.array([r.edge_id for r in erows], dtype="int64"),
         "u": pd.array([r.u for r in erows], dtype="int64"),
         "v": pd.array([r.v for r in erows], dtype="int64"),
         "osm_way_id": pd.array([r.osm_way_id for r in erows], dtype="Int64"),
         "length_m": np.array([r.length_m for r in erows], dtype=float),
         "highway": pd.Series([r.highway for r in erows], dtype=object),
         "name": pd.Series([r.name for r in erows], dtype=object),
         "walk": np.array([r.walk for r in erows], dtype=bool),
         "ride": np.array([r.ride for r in erows], dtype=bool),
         "walk_rule": pd.Series([r.walk_rule for r in erows], dtype=object)},
        geometry=shapely.from_wkb([bytes(r.g) for r in erows]), crs=WGS84)
    return nodes, edges


def write_network_figures(conn: Connection, city_id: int, figures: dict[str, Any]) -> None:
    """Keep the figures of a city's network (JSON: :meth:`NetworkFigures.as_dict` of the
    walking network and the km per walkability rule); the caller commits."""
    conn.execute(text("UPDATE city SET network_figures = CAST(:f AS json) WHERE id = :c"),
                 {"f": json.dumps(figures, allow_nan=False), "c": city_id})


def network_figures_by_city(conn: Connection) -> dict[str, dict[str, Any] | None]:
    """The stored network figures of every city by code (None where not computed yet)."""
    rows = conn.execute(text("SELECT code, network_figures FROM city ORDER BY code")).all()
    return {r.code: r.network_figures for r in rows}


def read_network(conn: Connection, city_id: int, *, mode: Mode = "walk",
                 speed_m_per_min: float | None = None,
                 metric_epsg: int | None = None) -> StreetNetwork:
    """The :class:`~geo.network.graph.StreetNetwork` of ``city_id`` for ``mode``.

    Parameters
    ----------
    mode
        ``"walk"`` or ``"ride"`` (e-bike); only the edges usable that way are read.
    speed_m_per_min
        Travel speed; default the mode's (:func:`geo.network.graph.default_speed`).
    metric_epsg
        Projected CRS of the analysis (the city's ``metric_epsg``); default the UTM zone
        of the nodes.

    Raises
    ------
    InvalidInputError
        The city has no street network for ``mode``.
    """
    nodes, edges = read_network_frames(conn, city_id, mode=mode)
    if len(edges) == 0:
        raise InvalidInputError(f"city {city_id} has no {mode} street network",
                                [Problem("no edges", field="street_edge")])
    return StreetNetwork.from_edges(nodes, edges, mode=mode, speed_m_per_min=speed_m_per_min,
                                    metric_epsg=metric_epsg)
