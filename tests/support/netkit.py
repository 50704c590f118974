"""Hand-made street networks and a NetworkX oracle for the network-engine tests.

Coordinates are metres in UTM 50N (EPSG:32650) relative to (X0, Y0)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geo.network.graph import StreetNetwork
from geo.network.snapping import snap_points

UTM = 32650  # Guixi, Jiangxi lies in UTM zone 50N
X0, Y0 = 600_000.0, 3_130_000.0


def points(xy: Iterable[tuple[float, float]], **cols: object) -> gpd.GeoDataFrame:
    """Points given in metres relative to (X0, Y0), returned in EPSG:4326."""
    pts = [shapely.Point(X0 + x, Y0 + y) for x, y in xy]
    return gpd.GeoDataFrame(dict(cols), geometry=pts, crs=UTM).to_crs(4326)


def network(coords: dict[int, tuple[float, float]], pairs: Iterable[tuple[int, int]], *,
            speed: float = 75.0) -> StreetNetwork:
    """Straight-edge network from node coordinates (metres) and node pairs."""
    pairs = list(pairs)
    ids = list(coords)
    nodes = gpd.GeoDataFrame({"node_id": ids},
                             geometry=[shapely.Point(X0 + coords[i][0], Y0 + coords[i][1])
                                       for i in ids], crs=UTM)
    lines = [shapely.LineString([(X0 + coords[u][0], Y0 + coords[u][1]),
                                 (X0 + coords[v][0], Y0 + coords[v][1])]) for u, v in pairs]
    edges = gpd.GeoDataFrame({"edge_id": np.arange(1, len(pairs) + 1),
                              "u": [p[0] for p in pairs], "v": [p[1] for p in pairs],
                              "length_m": shapely.length(lines)}, geometry=lines, crs=UTM)
    return StreetNetwork.from_edges(nodes.to_crs(4326), edges.to_crs(4326), mode="walk",
                                    speed_m_per_min=speed, metric_epsg=UTM)


def grid_network(n: int = 12, spacing: float = 100.0, seed: int = 3,
                 drop: float = 0.15) -> StreetNetwork:
    """An n × n grid with a seeded share of edges removed and a detached 2-node part."""
    rng = np.random.default_rng(seed)
    coords = {i * n + j: (j * spacing, i * spacing) for i in range(n) for j in range(n)}
    pairs = [(i * n + j, i * n + j + 1) for i in range(n) for j in range(n - 1)]
    pairs += [(i * n + j, (i + 1) * n + j) for i in range(n - 1) for j in range(n)]
    pairs = [p for p in pairs if rng.random() > drop]
    coords[10_000] = (n * spacing + 400, 0.0)
    coords[10_001] = (n * spacing + 400, 150.0)
    pairs.append((10_000, 10_001))
    return network(coords, pairs)


def oracle(net: StreetNetwork, origins: gpd.GeoDataFrame, services: gpd.GeoDataFrame, *,
           max_snap_m: float = 250.0) -> pd.DataFrame:
    """Independent nearest/second-nearest by plain NetworkX Dijkstra on a split graph.

    Every edge carrying snapped points is cut at them; each point is its own node linked
    to the street by its snap distance. Returns origin, nearest_id, nearest_m, second_id,
    second_m per origin (single Points, one type).
    """
    edges = net.edges_frame()
    so = snap_points(net, origins, max_snap_m=max_snap_m)
    ss = snap_points(net, services, max_snap_m=max_snap_m)
    g = nx.Graph()
    on_edge: dict[int, list[tuple[float, str]]] = {}
    for kind, s in (("o", so), ("s", ss)):
        for i, r in enumerate(s.itertuples()):
            if not r.snapped:
                continue
            name = f"{kind}{i}"
            street = f"{name}@"
            on_edge.setdefault(r.edge_id, []).append((r.offset_m, street))
            g.add_edge(name, street, weight=r.snap_m)
    for e in edges.itertuples():
        chain = [(0.0, ("n", e.u))] + sorted(on_edge.get(e.edge_id, [])) + \
            [(e.length_m, ("n", e.v))]
        for (oa, a), (ob, b) in itertools.pairwise(chain):
            w = ob - oa
            if g.has_edge(a, b):
                w = min(w, g[a][b]["weight"])
            g.add_edge(a, b, weight=w)
    dist = {}
    for j in range(len(services)):
        if f"s{j}" in g:
            dist[j] = nx.single_source_dijkstra_path_length(g, f"s{j}", weight="weight")
    rows = []
    for i in range(len(origins)):
        cands = sorted((d[f"o{i}"], j) for j, d in dist.items() if f"o{i}" in d)
        best = cands[0] if cands else (np.inf, None)
        second = cands[1] if len(cands) > 1 else (np.inf, None)
        if not so["snapped"].iloc[i]:
            best, second = (np.nan, None), (np.nan, None)
        rows.append({"origin": i, "nearest_m": best[0], "nearest_j": best[1],
                     "second_m": second[0], "second_j": second[1]})
    return pd.DataFrame(rows)
