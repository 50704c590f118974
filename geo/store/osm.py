"""Store what a city takes from its OpenStreetMap extract, in one call.

:func:`write_osm_network` is used alike by ``servicecircle city add`` and the demo loader:
the street network, its honest figures and the kilometres per walkability rule
(:func:`geo.network.figures.stored_figures`), the gate nodes, and the gates inferred from
them for the city's compounds. Nothing here commits.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection

from geo.network.figures import stored_figures
from geo.store.gates import refresh_inferred_gates, write_osm_gates
from geo.store.network import write_network, write_network_figures


def write_osm_network(conn: Connection, city_id: int, *, nodes: gpd.GeoDataFrame,
                      edges: gpd.GeoDataFrame, gate_points: gpd.GeoDataFrame,
                      walk_rules: pd.DataFrame) -> dict[str, Any]:
    """Replace the network, its figures and the OSM gates of ``city_id``; re-infer the
    gates of its compounds. Returns the stored figures (JSON-ready: ``walk``,
    ``walk_rules``, ``inferred_gate_compounds``)."""
    write_network(conn, city_id, nodes, edges)
    figures = stored_figures(edges, walk_rules)
    write_osm_gates(conn, city_id, gate_points)
    figures["inferred_gate_compounds"] = refresh_inferred_gates(conn, city_id)
    write_network_figures(conn, city_id, figures)
    return figures
