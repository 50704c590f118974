"""Honest network figures: only nodes with edges of the mode count; parts named."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from geo.network.figures import network_figures
from geo.network.graph import StreetNetwork
from geo.network.osm import read_osm
from geo.settings import PROJECT_ROOT
from tests.geo.network.test_walkable import osm_file

OSM = PROJECT_ROOT / "data" / "osm"


@pytest.mark.parametrize("name", ["guixi_2024", "wudaokou_2017"])
def test_figures_agree_with_the_network_object(name: str) -> None:
    x = read_osm(OSM / f"{name}.osm")
    fig = network_figures(x.edges, mode="walk")
    net = StreetNetwork.from_edges(x.nodes, x.edges, mode="walk")
    walk = x.edges[x.edges["walk"]]
    assert fig.n_nodes == net.n_nodes == len(set(walk["u"]) | set(walk["v"]))
    assert fig.n_components == net.n_components
    assert fig.n_edges == net.n_edges == len(walk)
    assert fig.length_m == pytest.approx(walk["length_m"].sum())
    assert fig.largest_share == pytest.approx(net.largest_component_share)
    # every node of the object carries a walking edge
    touched = np.zeros(net.n_nodes, dtype=bool)
    touched[net.edge_u] = touched[net.edge_v] = True
    assert touched.all()


def test_wudaokou_no_longer_counts_ride_only_nodes() -> None:
    x = read_osm(OSM / "wudaokou_2017.osm")
    fig = network_figures(x.edges, mode="walk")
    # the old count: every stored node, components of the graph over all of them
    walk = x.edges[x.edges["walk"]]
    idx = {n: i for i, n in enumerate(x.nodes["node_id"])}
    from scipy.sparse import coo_matrix

    n = len(idx)
    adj = coo_matrix((np.ones(len(walk)), ([idx[u] for u in walk["u"]],
                                           [idx[v] for v in walk["v"]])), shape=(n, n))
    old_parts = connected_components(adj, directed=False)[0]
    assert fig.n_nodes < len(x.nodes) and fig.n_components < old_parts
    assert fig.largest_share > 0.9


def test_disconnected_pieces_are_named_longest_first(tmp_path) -> None:
    nodes = {1: (0.0, 0.0), 2: (3.0, 0.0), 3: (0.0, 5.0), 4: (2.0, 5.0), 5: (0.0, 8.0),
             6: (1.0, 8.0)}
    ways = [(1, [1, 2], {"highway": "residential", "name": "长街"}),
            (2, [3, 4], {"highway": "footway", "name": "北小路"}),
            (3, [5, 6], {"highway": "service"})]
    x = read_osm(osm_file(tmp_path, nodes, ways))
    fig = network_figures(x.edges, mode="walk")
    assert fig.n_components == 3 and fig.n_nodes == 6
    assert [p.names for p in fig.pieces] == [("北小路",), ()]
    assert [p.way_ids for p in fig.pieces] == [(2,), (3,)]
    assert fig.largest_share == pytest.approx(3 / 6, rel=0.01)  # 3 of 6 grid steps east
    d = fig.as_dict()
    assert d["largest_share"] == pytest.approx(fig.largest_share)
    assert d["pieces"][0]["names"] == ["北小路"]


def test_empty_network_has_no_share() -> None:
    import geopandas as gpd

    empty = gpd.GeoDataFrame({"u": [], "v": [], "length_m": [], "walk": []}, geometry=[],
                             crs=4326)
    fig = network_figures(empty)
    assert (fig.n_nodes, fig.n_components) == (0, 0)
    assert fig.as_dict()["largest_share"] is None
