"""The street network: OpenStreetMap loading, the graph, snapping, reach and nearest service.

Dependencies run one way: :mod:`~geo.network.osm` reads extracts, :mod:`~geo.network.graph`
holds the immutable :class:`StreetNetwork`, :mod:`~geo.network.snapping` puts points on
its edges, :mod:`~geo.network.reach` gives cutoff costs from many sources and the travel
matrix, :mod:`~geo.network.nearest` the nearest and second-nearest service of each type.
A city's network stored in PostGIS is loaded by :func:`geo.store.network.read_network`.
"""

from geo.domain import COURIER_CIRCLE_M, GB50180_METRES
from geo.network.graph import Mode, StreetNetwork, default_speed
from geo.network.nearest import NearestResult, nearest_service
from geo.network.osm import OsmExtract, read_osm
from geo.network.reach import TravelMatrix, travel_matrix
from geo.network.snapping import snap_points

__all__ = ["COURIER_CIRCLE_M", "GB50180_METRES", "Mode", "NearestResult", "OsmExtract",
           "StreetNetwork", "TravelMatrix", "default_speed", "nearest_service", "read_osm",
           "snap_points", "travel_matrix"]
