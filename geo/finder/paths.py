"""Shortest paths as street geometry: node chains from Dijkstra predecessors, and lines.

:class:`EdgeLookup` finds the street edge a path takes between two adjacent nodes (the
shortest of parallel edges, which is the one the network's graph keeps);
:func:`node_chain` follows ``scipy.sparse.csgraph`` predecessors back to the source;
:func:`path_line` joins the pieces — part of the start edge, whole edges (reversed where
walked against their direction), part of the end edge — into one LineString in the
network's metric CRS. Offsets along edges are network metres (scaled to ``length_m``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString

from geo.errors import GeoError
from geo.network.graph import StreetNetwork

#: ``scipy.sparse.csgraph``'s predecessor of a source or an unreached node.
NO_PREDECESSOR = -9999


@dataclass(frozen=True, eq=False)
class EdgeLookup:
    """The edge between two adjacent nodes of a :class:`StreetNetwork` (internal indices).

    Built once per network: node pairs as sorted keys, each with the position of its
    shortest edge (the one the network's graph weighs the pair with).
    """

    n_nodes: int
    keys: np.ndarray = field(repr=False)
    edges: np.ndarray = field(repr=False)

    @classmethod
    def from_network(cls, net: StreetNetwork) -> EdgeLookup:
        """Index every non-loop edge of ``net`` under both directions."""
        keep = np.flatnonzero(net.edge_u != net.edge_v)
        a = np.concatenate([net.edge_u[keep], net.edge_v[keep]]).astype(np.int64)
        b = np.concatenate([net.edge_v[keep], net.edge_u[keep]]).astype(np.int64)
        e = np.concatenate([keep, keep])
        key = a * net.n_nodes + b
        order = np.lexsort((e, net.edge_length_m[e], key))  # per pair: shortest, then lowest
        key, e = key[order], e[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        return cls(n_nodes=net.n_nodes, keys=key[first], edges=e[first])

    def edge(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Edge positions joining nodes ``a[i]`` and ``b[i]``; :class:`GeoError` if a pair
        is not adjacent (a path must only step along edges)."""
        key = np.asarray(a, dtype=np.int64) * self.n_nodes + np.asarray(b, dtype=np.int64)
        pos = np.searchsorted(self.keys, key)
        pos = np.minimum(pos, max(len(self.keys) - 1, 0))
        if len(key) and (len(self.keys) == 0 or np.any(self.keys[pos] != key)):
            raise GeoError("path steps between nodes that share no edge")
        return self.edges[pos]


def node_chain(predecessors: np.ndarray, source: int, target: int) -> np.ndarray:
    """Internal node indices from ``source`` to ``target`` along the predecessors of a
    single-source Dijkstra (``target`` must be reached)."""
    chain = [target]
    node = target
    while node != source:
        node = int(predecessors[node])
        if node == NO_PREDECESSOR:
            raise GeoError("target not reached from the source")
        chain.append(node)
    return np.array(chain[::-1], dtype=np.int64)


def _part(net: StreetNetwork, edge: int, from_m: float, to_m: float) -> np.ndarray:
    """Coordinates of edge ``edge`` from ``from_m`` to ``to_m`` network metres along it
    (reversed when ``to_m < from_m``); network metres are scaled to the geometry's length."""
    xy = shapely.get_coordinates(net.edge_geoms[edge])
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    scale = cum[-1] / float(net.edge_length_m[edge])
    a = min(max(from_m * scale, 0.0), cum[-1])
    b = min(max(to_m * scale, 0.0), cum[-1])
    lo, hi = min(a, b), max(a, b)
    ends = [[np.interp(v, cum, xy[:, 0]), np.interp(v, cum, xy[:, 1])] for v in (lo, hi)]
    out = np.vstack([ends[0], xy[(cum > lo) & (cum < hi)], ends[1]])
    return out[::-1] if a > b else out


def path_line(net: StreetNetwork, lookup: EdgeLookup, *, start_edge: int, start_m: float,
              chain: np.ndarray | None, end_edge: int, end_m: float) -> LineString:
    """The street line of one path, in ``net``'s metric CRS.

    Parameters
    ----------
    start_edge, start_m
        The edge the path starts on and the offset along it (network metres from its
        ``u`` node).
    chain
        Internal nodes the path passes, in order (``None``: start and end lie on the same
        edge and the path runs directly along it).
    end_edge, end_m
        The edge the path ends on and the offset along it.
    """
    if chain is None or len(chain) == 0:
        coords = _part(net, start_edge, start_m, end_m)
    else:
        first, last = int(chain[0]), int(chain[-1])
        to_first = 0.0 if first == net.edge_u[start_edge] else float(net.edge_length_m[start_edge])
        pieces = [_part(net, start_edge, start_m, to_first)]
        if len(chain) > 1:
            edges = lookup.edge(chain[:-1], chain[1:])
            for a, e in zip(chain[:-1], edges, strict=True):
                xy = shapely.get_coordinates(net.edge_geoms[e])
                pieces.append(xy if a == net.edge_u[e] else xy[::-1])
        from_last = 0.0 if last == net.edge_u[end_edge] else float(net.edge_length_m[end_edge])
        pieces.append(_part(net, end_edge, from_last, end_m))
        coords = np.concatenate(pieces)
    return LineString(_dedupe(coords))


def _dedupe(xy: np.ndarray) -> np.ndarray:
    """``xy`` without consecutive repeated vertices (at least two vertices kept)."""
    if len(xy) < 2:
        return np.vstack([xy, xy]) if len(xy) else np.zeros((2, 2))
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(xy, axis=0)) > 1e-9, axis=1)
    out = xy[keep]
    return out if len(out) >= 2 else np.vstack([out, out])
