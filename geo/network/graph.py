"""The street network engine: one immutable object hiding the node-id mapping.

A :class:`StreetNetwork` holds an undirected street graph for one travel mode (walking or
riding an e-bike) in a metric CRS (the UTM zone of the data unless stated). Edge costs
are lengths in metres; minutes are metres divided by ``speed_m_per_min`` (the default
walking speed, 75 m/min, is documented in :mod:`geo.settings`). Thresholds can be given
in minutes or in metres (the GB 50180-2018 distances of the life circles are
:data:`geo.domain.GB50180_METRES`).

Callers never see internal node indices: points are snapped onto edges
(:mod:`geo.network.snapping`) and results come back keyed by the callers' own ids. The graph
imports none of the modules that use it (snapping, reach, nearest); a city's stored
network is loaded by :func:`geo.store.network.read_network`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely import STRtree

from geo.crs.utm import WGS84, metric_epsg_for
from geo.errors import CRSError, InvalidInputError, Problem
from geo.network.osm import read_osm
from geo.settings import DEFAULT_RIDE_SPEED_M_PER_MIN, DEFAULT_WALK_SPEED_M_PER_MIN

Mode = Literal["walk", "ride"]


def default_speed(mode: Mode) -> float:
    """Default speed in m/min: walking 75 (4.5 km/h), riding an e-bike 250 (15 km/h)."""
    return DEFAULT_WALK_SPEED_M_PER_MIN if mode == "walk" else DEFAULT_RIDE_SPEED_M_PER_MIN


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """An undirected street graph for one mode, in a metric CRS (``metric_epsg``).

    Build it with :meth:`from_edges` or :meth:`from_osm`; a city's network stored in
    PostGIS comes from :func:`geo.store.network.read_network`.
    """

    mode: Mode
    speed_m_per_min: float
    metric_epsg: int
    node_ids: np.ndarray = field(repr=False)  # external node ids, position = internal index
    node_xy: np.ndarray = field(repr=False)  # (n, 2) metric coordinates
    edge_ids: np.ndarray = field(repr=False)
    edge_u: np.ndarray = field(repr=False)  # internal node index of the geometry's start
    edge_v: np.ndarray = field(repr=False)
    edge_length_m: np.ndarray = field(repr=False)
    edge_geoms: np.ndarray = field(repr=False)  # metric LineStrings running u -> v
    graph: csr_matrix = field(repr=False)  # symmetric, metres, parallel edges -> shortest
    component: np.ndarray = field(repr=False)  # component label per node
    tree: STRtree = field(repr=False)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_edges(cls, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *,
                   mode: Mode = "walk", speed_m_per_min: float | None = None,
                   metric_epsg: int | None = None) -> StreetNetwork:
        """Build from node and edge frames (EPSG:4326, columns as :func:`read_osm`).

        Parameters
        ----------
        nodes
            ``node_id`` and Point geometry.
        edges
            ``edge_id`` (optional), ``u``, ``v``, ``length_m`` (metres; optional, else the
            metric geometry length), optional ``walk``/``ride`` flags (edges not usable in
            ``mode`` are left out) and optional LineString geometry (else straight lines).
        mode
            ``"walk"`` or ``"ride"``.
        speed_m_per_min
            Travel speed; default :func:`default_speed` of the mode.
        metric_epsg
            Projected CRS for metric work; default the UTM zone of the nodes.
        """
        if mode not in ("walk", "ride"):
            raise InvalidInputError(f"unknown mode {mode!r}; allowed: walk, ride",
                                    [Problem("unknown mode", field="mode")])
        speed = default_speed(mode) if speed_m_per_min is None else float(speed_m_per_min)
        if not speed > 0:
            raise InvalidInputError("speed must be > 0 m/min",
                                    [Problem("speed must be > 0", field="speed_m_per_min")])
        for what, gdf in (("nodes", nodes), ("edges", edges)):
            if gdf.crs is None:
                raise CRSError(f"street {what} have no CRS; expected EPSG:4326")
        problems = [Problem("missing column in nodes", field=c)
                    for c in ("node_id",) if c not in nodes.columns]
        problems += [Problem("missing column in edges", field=c)
                     for c in ("u", "v") if c not in edges.columns]
        if problems:
            raise InvalidInputError("street network is incomplete", problems)
        if mode in edges.columns:
            edges = edges[edges[mode].astype(bool).to_numpy()]
        epsg = metric_epsg or metric_epsg_for(nodes.to_crs(WGS84))
        if pd.Index(nodes["node_id"]).has_duplicates:
            raise InvalidInputError("duplicate node ids", [Problem("duplicate", field="node_id")])
        # nodes without an edge of this mode are not part of its network
        used = nodes["node_id"].isin(pd.concat([edges["u"], edges["v"]])).to_numpy()
        nodes_m = nodes[used].to_crs(epsg)
        ids = nodes_m["node_id"].to_numpy()
        index = pd.Index(ids)
        u = index.get_indexer(edges["u"].to_numpy())
        v = index.get_indexer(edges["v"].to_numpy())
        bad = np.flatnonzero((u < 0) | (v < 0))
        if len(bad):
            raise InvalidInputError("edges refer to unknown nodes", [
                Problem("edge end is not a known node", row=int(r), field="u/v") for r in bad[:20]])
        xy = shapely.get_coordinates(nodes_m.geometry.values)
        if "geometry" in edges.columns and edges.geometry.notna().all() and len(edges):
            geoms = np.asarray(edges.to_crs(epsg).geometry.values, dtype=object)
        else:
            geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
        # make every geometry run from u to v
        start = shapely.get_coordinates(shapely.get_point(geoms, 0)) if len(geoms) else xy[:0]
        flip = (np.hypot(*(start - xy[v]).T) < np.hypot(*(start - xy[u]).T)) & (u != v)
        geoms = geoms.copy()
        geoms[flip] = shapely.reverse(geoms[flip])
        if "length_m" in edges.columns:
            length = edges["length_m"].to_numpy(dtype=float)
        else:
            length = shapely.length(geoms)
        bad = np.flatnonzero(~(length > 0))
        if len(bad):
            raise InvalidInputError("edge lengths must be > 0 m", [
                Problem("length_m must be > 0", row=int(r), field="length_m") for r in bad[:20]])
        eids = (edges["edge_id"].to_numpy() if "edge_id" in edges.columns
                else np.arange(len(edges)))
        graph = _graph(len(ids), u, v, length)
        _, comp = connected_components(graph, directed=False)
        return cls(mode=mode, speed_m_per_min=speed, metric_epsg=int(epsg), node_ids=ids,
                   node_xy=xy, edge_ids=eids, edge_u=u, edge_v=v, edge_length_m=length,
                   edge_geoms=geoms, graph=graph, component=comp, tree=STRtree(geoms))

    @classmethod
    def from_osm(cls, path: str | Path, *, mode: Mode = "walk",
                 speed_m_per_min: float | None = None,
                 bbox: tuple[float, float, float, float] | None = None,
                 walk_trunk_by_default: bool = False) -> StreetNetwork:
        """Build from an OSM extract (.osm / .osm.pbf) read by
        :func:`geo.network.osm.read_osm` (walkability: :mod:`geo.network.walkable`)."""
        ext = read_osm(path, bbox=bbox, walk_trunk_by_default=walk_trunk_by_default)
        return cls.from_edges(ext.nodes, ext.edges, mode=mode, speed_m_per_min=speed_m_per_min)

    # ------------------------------------------------------------------ properties
    @property
    def n_nodes(self) -> int:
        """Nodes of the network: those with at least one edge of its mode."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.edge_ids)

    @property
    def n_components(self) -> int:
        """Number of disconnected parts of the network (each has at least one edge)."""
        return int(self.component.max() + 1) if len(self.component) else 0

    @property
    def length_m(self) -> float:
        """Total street length in metres."""
        return float(self.edge_length_m.sum())

    @property
    def largest_component_share(self) -> float:
        """Share of the street length in the largest part (by length); NaN without edges."""
        if not self.n_edges:
            return float("nan")
        per = np.bincount(self.component[self.edge_u], weights=self.edge_length_m)
        return float(per.max() / per.sum())

    def minutes(self, metres: np.ndarray | float) -> np.ndarray:
        """Convert network metres to minutes at this network's speed (inf stays inf)."""
        return np.asarray(metres, dtype=float) / self.speed_m_per_min

    def budget_m(self, *, minutes: float | None = None, metres: float | None = None) -> float:
        """A travel budget in metres, from minutes (× speed) or given directly in metres."""
        if (minutes is None) == (metres is None):
            raise InvalidInputError("give exactly one of minutes or metres",
                                    [Problem("exactly one of minutes/metres", field="minutes")])
        if minutes is not None:
            value = float(minutes) * self.speed_m_per_min
        else:
            value = float(metres)  # type: ignore[arg-type]  # checked above: not None
        if not value > 0:
            raise InvalidInputError("thresholds must be > 0", [Problem("must be > 0")])
        return value

    def edges_frame(self, *, crs: int = WGS84) -> gpd.GeoDataFrame:
        """The network's edges: ``edge_id, u, v, length_m, component, geometry``."""
        return gpd.GeoDataFrame(
            {"edge_id": self.edge_ids, "u": self.node_ids[self.edge_u],
             "v": self.node_ids[self.edge_v], "length_m": self.edge_length_m,
             "component": self.component[self.edge_u]},
            geometry=self.edge_geoms, crs=self.metric_epsg).to_crs(crs)

    def to_metric(self, gdf: gpd.GeoDataFrame, what: str = "points") -> gpd.GeoDataFrame:
        """``gdf`` in this network's metric CRS; :class:`CRSError` if it has no CRS."""
        if gdf.crs is None:
            raise CRSError(f"{what} have no CRS; expected EPSG:4326")
        return gdf.to_crs(self.metric_epsg)


def _graph(n: int, u: np.ndarray, v: np.ndarray, length: np.ndarray) -> csr_matrix:
    """Symmetric CSR adjacency in metres; parallel edges keep the shortest, loops dropped."""
    keep = u != v
    a = np.concatenate([u[keep], v[keep]])
    b = np.concatenate([v[keep], u[keep]])
    w = np.concatenate([length[keep], length[keep]])
    return sparse_min(n, a, b, w)


def sparse_min(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> csr_matrix:
    """CSR matrix (n × n) of entries (a, b, w), duplicates reduced to their minimum.

    scipy would sum duplicates; a zero weight is kept as an explicit entry.
    """
    if len(a):
        key = a.astype(np.int64) * n + b
        order = np.argsort(key, kind="stable")
        key, w = key[order], w[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        starts = np.flatnonzero(first)
        w = np.minimum.reduceat(w, starts)
        a, b = key[starts] // n, key[starts] % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, a + 1, 1)
    indptr = np.cumsum(indptr)
    # built from its arrays so that explicit zeros stay edges of cost 0
    return csr_matrix((w.astype(float), b.astype(np.int32), indptr), shape=(n, n))
