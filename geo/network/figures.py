"""Honest figures of a street network for one mode: nodes, edges, parts, largest part.

Only the edges usable in the mode count, and only the nodes they touch: a node of a
ride-only way is not part of the walking network. Parts (connected components) are
ranked by street length; the largest part's share of the length says whether the network
holds together (``city add`` warns below
:attr:`geo.settings.Settings.largest_component_min_share`), and the other parts are
named by their streets so that a user can find them on the map.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Parts listed by name at most (the longest first).
MAX_PIECES = 10


@dataclass(frozen=True)
class NetworkPiece:
    """A part of the network apart from the largest: its size and what it is made of.

    ``names`` are its street names (longest first, at most 5), ``way_ids`` the OSM ways
    of its longest edges (at most 5).
    """

    n_edges: int
    length_m: float
    names: tuple[str, ...]
    way_ids: tuple[int, ...]


@dataclass(frozen=True)
class NetworkFigures:
    """The size of a network for ``mode``; lengths in metres.

    ``pieces`` lists the parts other than the largest, longest first (at most
    :data:`MAX_PIECES`; ``n_components`` counts them all).
    """

    mode: str
    n_nodes: int
    n_edges: int
    n_components: int
    length_m: float
    largest_length_m: float
    pieces: tuple[NetworkPiece, ...]

    @property
    def largest_share(self) -> float:
        """Share of the street length in the largest part (NaN without edges)."""
        return self.largest_length_m / self.length_m if self.length_m > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the fields plus ``largest_share``."""
        d = asdict(self)
        share = self.largest_share
        d["largest_share"] = None if np.isnan(share) else share
        d["pieces"] = [{**p, "names": list(p["names"]), "way_ids": list(p["way_ids"])}
                       for p in d["pieces"]]
        return d


def network_figures(edges: pd.DataFrame, *, mode: str = "walk") -> NetworkFigures:
    """Figures of the ``mode`` network of an edge frame (columns of
    :func:`geo.network.osm.read_osm`: ``u, v, length_m`` (metres), ``walk``/``ride``,
    optional ``name`` and ``osm_way_id``)."""
    e = edges[edges[mode].astype(bool).to_numpy()] if mode in edges.columns else edges
    if len(e) == 0:
        return NetworkFigures(mode, 0, 0, 0, 0.0, 0.0, ())
    ends = pd.Index(pd.unique(np.concatenate([e["u"].to_numpy(), e["v"].to_numpy()])))
    u, v = ends.get_indexer(e["u"].to_numpy()), ends.get_indexer(e["v"].to_numpy())
    n = len(ends)
    adj = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    n_comp, label = connected_components(adj, directed=False)
    comp = label[u]
    length = e["length_m"].to_numpy(dtype=float)
    per = np.bincount(comp, weights=length, minlength=n_comp)
    order = np.argsort(-per, kind="stable")
    names = (e["name"] if "name" in e.columns else pd.Series([None] * len(e))).to_numpy()
    ways = (e["osm_way_id"] if "osm_way_id" in e.columns else pd.Series([None] * len(e)))
    ways = ways.to_numpy()
    pieces = []
    for c in order[1:MAX_PIECES + 1]:
        idx = np.flatnonzero(comp == c)
        idx = idx[np.argsort(-length[idx], kind="stable")]
        named = list(dict.fromkeys(str(names[i]) for i in idx
                                   if names[i] is not None and not pd.isna(names[i])))
        wids = list(dict.fromkeys(int(ways[i]) for i in idx
                                  if ways[i] is not None and not pd.isna(ways[i])))
        pieces.append(NetworkPiece(len(idx), float(per[c]), tuple(named[:5]), tuple(wids[:5])))
    return NetworkFigures(mode=mode, n_nodes=n, n_edges=len(e), n_components=int(n_comp),
                          length_m=float(per.sum()), largest_length_m=float(per[order[0]]),
                          pieces=tuple(pieces))


def stored_figures(edges: pd.DataFrame, walk_rules: pd.DataFrame) -> dict[str, Any]:
    """What a city keeps about its network (JSON-ready): the walking network's figures
    (``walk``: :meth:`NetworkFigures.as_dict`) and ``walk_rules``, the kilometres each
    walkability rule added (``walkable``) or kept out
    (:attr:`geo.network.osm.OsmExtract.walk_rules`)."""
    rules = [{"rule": str(r.rule), "walkable": bool(r.walkable), "ways": int(r.ways),
              "km": round(float(r.km), 3)} for r in walk_rules.itertuples()]
    return {"walk": network_figures(edges, mode="walk").as_dict(), "walk_rules": rules}
