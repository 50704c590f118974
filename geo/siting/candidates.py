"""Candidate sites: generated street points in gap areas, compound gates, imported sites.

Generated candidates are points along the walking streets every ``spacing_m`` metres
(network metric CRS), kept only where they can help — within ``near_m`` straight-line
metres of demand not yet covered — plus the gates of uncovered compounds. Candidates
inside an exclusion zone (polygons, e.g. water, military land, sites already refused) are
removed. Output frames are EPSG:4326 with ``id`` (``"s<n>"`` street, ``"g<n>"`` gate, or
the import's own id), ``kind`` and ``name``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork

KINDS = ("street", "gate", "imported")


def street_points(net: StreetNetwork, *, spacing_m: float = 100.0) -> gpd.GeoDataFrame:
    """Points along every street edge, ``spacing_m`` apart (at least one per edge, mid-edge
    for short ones); points closer than ``spacing_m / 4`` to an earlier one are dropped."""
    if not spacing_m > 0:
        raise InvalidInputError("invalid spacing", [Problem("must be > 0", field="spacing_m")])
    geoms = net.edge_geoms
    length = shapely.length(geoms)
    count = np.maximum(np.floor(length / spacing_m + 1e-3).astype(np.int64), 1)
    edge = np.repeat(np.arange(len(geoms)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    along = (k + 0.5) * (length[edge] / count[edge])
    pts = shapely.line_interpolate_point(geoms[edge], along)
    xy = shapely.get_coordinates(pts)
    cell = np.floor(xy / (spacing_m / 4.0)).astype(np.int64)
    _, first = np.unique(cell, axis=0, return_index=True)
    first.sort()
    return gpd.GeoDataFrame({"kind": "street"}, index=np.arange(first.size),
                            geometry=pts[first], crs=net.metric_epsg)


def generate_candidates(net: StreetNetwork, uncovered: gpd.GeoDataFrame, *,
                        spacing_m: float = 100.0, near_m: float = 1000.0,
                        gates: gpd.GeoDataFrame | None = None,
                        exclude: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Street points near uncovered demand, plus ``gates`` (Point/MultiPoint of uncovered
    compounds), minus ``exclude`` zones (polygons). All inputs in a declared CRS."""
    for name, frame in (("uncovered", uncovered), ("gates", gates), ("exclude", exclude)):
        if frame is not None and frame.crs is None:
            raise InvalidInputError(f"{name} has no CRS", [Problem("missing CRS", field=name)])
    street = street_points(net, spacing_m=spacing_m)
    if len(uncovered):
        demand = np.asarray(uncovered.to_crs(net.metric_epsg).geometry.values)
        tree = shapely.STRtree(demand)
        hit = np.unique(tree.query(street.geometry.values, predicate="dwithin",
                                   distance=near_m)[0])
        street = street.iloc[hit]
    else:
        street = street.iloc[:0]
    street = street.assign(id=[f"s{i}" for i in range(len(street))], name="")
    frames = [street.to_crs(4326)]
    if gates is not None and len(gates):
        g = gates.to_crs(4326).explode(index_parts=False).reset_index(drop=True)
        g = g[~g.geometry.is_empty & g.geometry.notna()]
        frames.append(gpd.GeoDataFrame({"id": [f"g{i}" for i in range(len(g))],
                                        "kind": "gate", "name": ""},
                                       geometry=g.geometry.values, crs=4326))
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    return drop_excluded(out, exclude)


def drop_excluded(candidates: gpd.GeoDataFrame,
                  exclude: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Candidates outside every exclusion polygon (boundaries count as inside)."""
    if exclude is None or not len(exclude):
        return candidates.reset_index(drop=True)
    zones = np.asarray(exclude.to_crs(candidates.crs).geometry.values)
    inside = shapely.STRtree(zones).query(candidates.geometry.values, predicate="intersects")[0]
    keep = np.ones(len(candidates), bool)
    keep[inside] = False
    return candidates[keep].reset_index(drop=True)
