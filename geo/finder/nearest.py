"""The k nearest stations of a type from one point, by network distance, with their routes.

Method: the point is snapped onto its nearest street edge (at the projected point, as
everywhere in :mod:`geo.network`) and enters the graph as one virtual node with
out-edges to both ends of that edge; one single-source Dijkstra
(``scipy.sparse.csgraph.dijkstra`` with predecessors) gives every node its distance. A
station costs the best of its edge's two ends plus the way along its edge, or — when it
lies on the start edge — the way directly along it. As in coverage and courier reach
(:func:`geo.network.nearest_service`), ``metres`` includes the straight distances from the
point to its street and from the street to the station; minutes are metres over the
network's speed. Ties go to the station listed first.

The route runs from the snapped start point along the streets to the station's access
point on its street, then straight to the station (EPSG:4326 LineString).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point

from geo.errors import InvalidInputError, Problem
from geo.finder.paths import node_chain, path_line
from geo.finder.stations import StationSet
from geo.network.reach import append_rows
from geo.network.snapping import snap_xy

#: Most stations one request may ask for.
MAX_K = 10


@dataclass(frozen=True)
class StationRoute:
    """One station reached: ``metres`` and ``minutes`` along the network (snap distances
    included), ``route`` the street line (EPSG:4326, from the snapped start point to the
    station) and ``route_m`` its length in the metric CRS (metres)."""

    rank: int
    station_id: object
    external_id: str | None
    name: str
    service_type: str | None
    address: str | None
    opening_hours: str | None
    services: tuple[str, ...]
    metres: float
    minutes: float
    location: Point
    route: LineString
    route_m: float


@dataclass(frozen=True)
class NearestStations:
    """The answer for one point: the stations by rising network distance.

    ``origin`` is the point as given and ``start`` where it meets the street network
    (both EPSG:4326), ``snap_m`` the straight metres between them. ``n_stations`` counts
    the stations of the type, ``n_reachable`` those the network connects to the start;
    ``unsnapped_station_ids`` those farther than the snap distance from every street.
    """

    origin: Point
    start: Point
    snap_m: float
    mode: str
    speed_m_per_min: float
    metric_epsg: int
    k: int
    stations: tuple[StationRoute, ...]
    n_stations: int
    n_reachable: int
    unsnapped_station_ids: tuple[object, ...]


def _services(value: object) -> tuple[str, ...]:
    if value is None or isinstance(value, float):
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value)  # type: ignore[attr-defined]


def _plain(value: object) -> object:
    """A numpy scalar as the Python value (ids come back as the caller gave them)."""
    return value.item() if isinstance(value, np.generic) else value


def _text(value: object) -> str | None:
    return None if value is None or isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Start:
    """Where a request meets the network: the edge, the offset along it (network metres),
    the straight ``snap_m`` to it, the snapped point (metric CRS) and the search tree of
    the Dijkstra from it (virtual node ``source``, ``predecessors``)."""

    edge: int
    offset_m: float
    snap_m: float
    xy: tuple[float, float]
    source: int
    predecessors: np.ndarray


def station_metres(stations: StationSet, lon: float, lat: float
                   ) -> tuple[np.ndarray, np.ndarray, Start]:
    """Network metres from (``lon``, ``lat``) (EPSG:4326) to every station (``inf`` when
    not reachable), which way each is reached (0: its edge's ``u`` end, 1: ``v`` end,
    2: directly along the start edge) and the start's snapping and Dijkstra figures.

    Raises :class:`InvalidInputError` (code ``off-network``) when the point is farther
    than the snap distance from every street of the network.
    """
    net = stations.net
    x, y = stations.to_metric.transform(lon, lat)
    o = snap_xy(net, np.array([Point(x, y)], dtype=object), max_snap_m=stations.max_snap_m)
    if not o.snapped[0]:
        far = "" if not np.isfinite(o.snap_m[0]) else f" (nearest {o.snap_m[0]:,.0f} m)"
        raise InvalidInputError(
            f"the point is more than {stations.max_snap_m:g} m from every street of the "
            f"{net.mode} network{far}",
            [Problem("not near a street", field=f) for f in ("lon", "lat")], code="off-network")
    e, off, osnap = int(o.edge[0]), float(o.offset_m[0]), float(o.snap_m[0])
    n = net.n_nodes
    length = float(net.edge_length_m[e])
    g = append_rows(net.graph, n + 1, np.array([n, n]),
                    np.array([net.edge_u[e], net.edge_v[e]]), np.array([off, length - off]))
    d, pred = dijkstra(g, directed=True, indices=n, return_predecessors=True)
    s = stations.snap
    se = np.maximum(s.edge, 0)
    ways = np.column_stack([
        d[net.edge_u[se]] + s.offset_m,
        d[net.edge_v[se]] + (net.edge_length_m[se] - s.offset_m),
        np.where(s.edge == e, np.abs(s.offset_m - off), np.inf)])
    ways[~s.snapped] = np.inf
    way = np.argmin(ways, axis=1)
    metres = ways[np.arange(len(ways)), way] + osnap + np.where(s.snapped, s.snap_m, 0.0)
    return metres, way, Start(edge=e, offset_m=off, snap_m=osnap,
                              xy=(float(o.xy[0, 0]), float(o.xy[0, 1])), source=n,
                              predecessors=pred)


def nearest_stations(stations: StationSet, lon: float, lat: float, *, k: int = 3
                     ) -> NearestStations:
    """The ``k`` stations nearest to (``lon``, ``lat``) (EPSG:4326) along the network.

    Parameters
    ----------
    stations
        The stations of one type on one network (walking or riding), :class:`StationSet`.
    k
        How many (1 to :data:`MAX_K`); fewer come back when fewer are reachable.
    """
    if not (isinstance(k, int) and 1 <= k <= MAX_K):
        raise InvalidInputError(f"k must be a whole number from 1 to {MAX_K}",
                                [Problem(f"1 ≤ k ≤ {MAX_K}", field="k")])
    net = stations.net
    metres, way, start = station_metres(stations, lon, lat)
    order = np.lexsort((np.arange(len(metres)), metres))
    picked = [int(i) for i in order[:k] if np.isfinite(metres[i])]
    e, off, pred, source = start.edge, start.offset_m, start.predecessors, start.source
    s = stations.snap
    rows = []
    for rank, i in enumerate(picked, start=1):
        se = int(s.edge[i])
        if way[i] == 2:
            chain = None
        else:
            end = int(net.edge_u[se] if way[i] == 0 else net.edge_v[se])
            chain = node_chain(pred, source, end)[1:]  # without the virtual start node
        line = path_line(net, stations.lookup, start_edge=e, start_m=off, chain=chain,
                         end_edge=se, end_m=float(s.offset_m[i]))
        xy = np.vstack([shapely.get_coordinates(line), stations.xy[i]])
        if np.hypot(*(xy[-1] - xy[-2])) < 1e-6:
            xy = xy[:-1]
        metric = LineString(xy)
        lon_, lat_ = stations.to_wgs84.transform(xy[:, 0], xy[:, 1])
        row = stations.details[i]
        rows.append(StationRoute(
            rank=rank, station_id=_plain(stations.ids[i]),
            external_id=_text(row["external_id"]), name=str(row["name"]),
            service_type=_text(row["type"]), address=_text(row["address"]),
            opening_hours=_text(row["opening_hours"]), services=_services(row["services"]),
            metres=float(metres[i]), minutes=float(net.minutes(metres[i])),
            location=cast(Point, row["geometry"]), route=LineString(np.column_stack([lon_, lat_])),
            route_m=float(metric.length)))
    sx, sy = stations.to_wgs84.transform(*start.xy)
    return NearestStations(
        origin=Point(lon, lat), start=Point(sx, sy), snap_m=start.snap_m,
        mode=net.mode, speed_m_per_min=net.speed_m_per_min, metric_epsg=net.metric_epsg, k=k,
        stations=tuple(rows), n_stations=len(stations),
        n_reachable=int(np.isfinite(metres).sum()),
        unsnapped_station_ids=stations.unsnapped_ids)
