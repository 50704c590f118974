"""The stations of one type placed on a street network, ready for many nearest-station
requests: snapped once, with their opening hours and services, and the network's edge
lookup for drawing routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from geo.crs.utm import WGS84
from geo.errors import InvalidInputError, Problem
from geo.finder.paths import EdgeLookup
from geo.network.graph import StreetNetwork
from geo.network.snapping import Snap, snap_single_points

#: Columns a station frame needs besides its Point geometry.
STATION_COLUMNS = ("id", "name")
#: Optional columns carried into the answers (missing ones are empty).
DETAIL_COLUMNS = ("external_id", "type", "address", "opening_hours", "services")


@dataclass(frozen=True, eq=False)
class StationSet:
    """Stations snapped onto ``net`` (metric CRS ``net.metric_epsg``).

    Build with :meth:`from_frame`. ``details`` holds each station's columns and its Point
    (EPSG:4326), ``snap`` each station's edge, offset along it
    (network metres) and straight distance to it (metres); stations farther than
    ``max_snap_m`` from every street are kept but never reached.
    """

    net: StreetNetwork
    lookup: EdgeLookup = field(repr=False)
    details: tuple[dict[str, object], ...] = field(repr=False)  # per station: id, name, …
    ids: np.ndarray = field(repr=False)
    snap: Snap = field(repr=False)
    xy: np.ndarray = field(repr=False)  # station locations, metric CRS
    to_metric: Transformer = field(repr=False)
    to_wgs84: Transformer = field(repr=False)
    max_snap_m: float = 250.0

    @classmethod
    def from_frame(cls, net: StreetNetwork, stations: gpd.GeoDataFrame, *,
                   max_snap_m: float = 250.0) -> StationSet:
        """Snap ``stations`` (Points, any declared CRS; columns ``id``, ``name`` and
        optionally ``external_id, type, address, opening_hours, services``) onto ``net``."""
        missing = [c for c in STATION_COLUMNS if c not in stations.columns]
        if missing:
            raise InvalidInputError("stations are incomplete",
                                    [Problem("missing column", field=c) for c in missing])
        snap = snap_single_points(net, stations, "stations", max_snap_m=max_snap_m)
        wgs = stations.to_crs(WGS84).reset_index(drop=True)
        cols = {c: (wgs[c].tolist() if c in wgs.columns else [None] * len(wgs))
                for c in (*STATION_COLUMNS, *DETAIL_COLUMNS)}
        details = tuple({**{c: v[i] for c, v in cols.items()}, "geometry": wgs.geometry.iloc[i]}
                        for i in range(len(wgs)))
        xy = shapely.get_coordinates(net.to_metric(stations, "stations").geometry.values)
        return cls(net=net, lookup=EdgeLookup.from_network(net), details=details,
                   ids=stations["id"].to_numpy(), snap=snap, xy=xy,
                   to_metric=Transformer.from_crs(WGS84, net.metric_epsg, always_xy=True),
                   to_wgs84=Transformer.from_crs(net.metric_epsg, WGS84, always_xy=True),
                   max_snap_m=float(max_snap_m))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def unsnapped_ids(self) -> tuple[object, ...]:
        """Ids of the stations farther than ``max_snap_m`` from every street."""
        return tuple(self.ids[~self.snap.snapped].tolist())

    @property
    def nbytes(self) -> int:
        """Approximate memory (bytes) of the network's arrays and the stations, for caches."""
        net = self.net
        arrays = (net.node_ids, net.node_xy, net.edge_ids, net.edge_u, net.edge_v,
                  net.edge_length_m, net.component, self.lookup.keys, self.lookup.edges,
                  self.xy)
        graph = net.graph.data.nbytes + net.graph.indices.nbytes + net.graph.indptr.nbytes
        geoms = int(net.n_edges) * 400  # shapely LineStrings, STRtree
        return int(sum(a.nbytes for a in arrays) + graph + geoms + len(self) * 1000)
