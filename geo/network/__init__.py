"""The street network: OpenStreetMap loading, the graph, snapping, reach and nearest service.

Dependencies run one way: :mod:`~geo.network.walkable` holds the walkability rule table,
:mod:`~geo.network.osm` reads extracts, :mod:`~geo.network.figures` sizes a network and
:mod:`~geo.network.gates` infers compound gates from OSM, :mod:`~geo.network.graph`
holds the immutable :class:`StreetNetwork`, :mod:`~geo.network.snapping` puts points on
its edges, :mod:`~geo.network.reach` gives cutoff costs from many sources and the travel
matrix, :mod:`~geo.network.nearest` the nearest and second-nearest service of each type.
A city's network stored in PostGIS is loaded by :func:`geo.store.network.read_network`.
"""

from geo.domain import COURIER_CIRCLE_M, GB50180_METRES
from geo.network.figures import NetworkFigures, network_figures
from geo.network.gates import infer_gates
from geo.network.graph import Mode, StreetNetwork, default_speed
from geo.network.nearest import NearestResult, nearest_service
from geo.network.osm import OsmExtract, read_osm
from geo.network.reach import TravelMatrix, travel_matrix
from geo.network.snapping import snap_points
from geo.network.walkable import WALK_RULES, WalkRule, is_walkable, walk_rule

__all__ = ["COURIER_CIRCLE_M", "GB50180_METRES", "WALK_RULES", "Mode", "NearestResult",
           "NetworkFigures", "OsmExtract", "StreetNetwork", "TravelMatrix", "WalkRule",
           "default_speed", "infer_gates", "is_walkable", "nearest_service", "network_figures",
           "read_osm", "snap_points", "travel_matrix", "walk_rule"]
