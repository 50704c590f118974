"""The nearest-station finder: from a point, the nearest stations of a type along the
walking or riding network, with minutes, metres, the route along the streets and what
each station offers.

:mod:`~geo.finder.stations` places a type's stations on a network once
(:class:`StationSet`); :mod:`~geo.finder.nearest` answers one point
(:func:`nearest_stations`); :mod:`~geo.finder.paths` turns Dijkstra predecessors into
street lines; :mod:`~geo.finder.address` reads a typed address into the names to look
for. A city's stations and names stored in PostGIS are read by :mod:`geo.store.finder`.
"""

from geo.finder.address import address_names
from geo.finder.nearest import MAX_K, NearestStations, StationRoute, nearest_stations
from geo.finder.paths import EdgeLookup, node_chain, path_line
from geo.finder.stations import StationSet

__all__ = ["MAX_K", "EdgeLookup", "NearestStations", "StationRoute", "StationSet",
           "address_names", "nearest_stations", "node_chain", "path_line"]
