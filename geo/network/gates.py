"""Gates of residential compounds (小区出入口) inferred from OpenStreetMap.

Gated compounds (封闭小区) are entered through gates. Where the user gives none, a
compound's gates are inferred from two kinds of OSM evidence, in its outline's
neighbourhood:

1. **tagged** — gate and entrance nodes (``barrier=gate|lift_gate|entrance|…``,
   ``entrance=*``; locked, ``access=no`` and emergency-only ones left out, see
   :func:`geo.network.osm.read_osm`) within :data:`GATE_NEAR_M` of the compound's outer
   outline;
2. **crossing** — points where a walkable minor way (:data:`CROSSING_HIGHWAYS`: service
   roads, footways, paths, residential streets …) crosses the outer outline; a crossing
   within :data:`MERGE_M` of a tagged gate or of an earlier crossing is the same gate.
   Major roads crossing an outline say the polygon was drawn loosely, not that there is a
   gate, and are ignored.

Coverage then uses, per compound, the user's gates, else these inferred gates, else an
interior point (:func:`geo.coverage.analysis.compound_origins`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.crs.utm import WGS84

#: A tagged gate node this close (metres) to a compound's outer outline is one of its gates.
GATE_NEAR_M = 15.0
#: Gate points closer than this (metres) are one gate.
MERGE_M = 10.0
#: Walkable ways whose crossing of a compound outline is taken for a gate.
CROSSING_HIGHWAYS = frozenset({"service", "footway", "path", "pedestrian", "living_street",
                               "residential", "steps", "unclassified", "track", "corridor"})


def _outer(geom: shapely.Geometry) -> shapely.Geometry:
    polys = shapely.get_parts(geom)
    return shapely.multilinestrings([shapely.get_exterior_ring(p) for p in polys
                                     if shapely.get_type_id(p) == 3])


def infer_gates(compounds: gpd.GeoDataFrame, gate_points: gpd.GeoDataFrame,
                edges: gpd.GeoDataFrame, *, metric_epsg: int, near_m: float = GATE_NEAR_M,
                merge_m: float = MERGE_M) -> gpd.GeoDataFrame:
    """Gates of each compound from OSM gate nodes and walkable ways crossing its outline.

    Parameters
    ----------
    compounds
        (Multi)Polygons, any declared CRS.
    gate_points
        :attr:`geo.network.osm.OsmExtract.gate_points` (Points).
    edges
        Street edges with ``highway`` and ``walk`` (as :func:`geo.network.osm.read_osm`).
    metric_epsg
        Projected CRS for distances (metres).

    Returns
    -------
    GeoDataFrame (EPSG:4326), aligned with ``compounds``
        ``gates`` as geometry (MultiPoint, or None where OSM shows none), ``n_tagged`` and
        ``n_crossing`` (gates from each kind of evidence).
    """
    comp = compounds.to_crs(metric_epsg)
    outlines = [_outer(g) for g in comp.geometry.values]
    gp = gate_points.to_crs(metric_epsg)
    gpts = np.asarray(gp.geometry.values, dtype=object)
    walk = edges[edges["walk"].astype(bool).to_numpy()
                 & edges["highway"].isin(CROSSING_HIGHWAYS).to_numpy()].to_crs(metric_epsg)
    lines = np.asarray(walk.geometry.values, dtype=object)
    gtree, ltree = shapely.STRtree(gpts), shapely.STRtree(lines)
    out: list[shapely.Geometry | None] = []
    n_tagged, n_cross = [], []
    for ring in outlines:
        tagged = [gpts[i] for i in sorted(gtree.query(ring, predicate="dwithin",
                                                       distance=near_m))]
        kept: list[shapely.Geometry] = []
        for p in tagged:  # two nodes of one gate (e.g. gate and entrance) count once
            if all(shapely.distance(p, q) > merge_m for q in kept):
                kept.append(p)
        n_t = len(kept)
        for i in sorted(ltree.query(ring, predicate="crosses")):
            for p in shapely.get_parts(shapely.intersection(lines[i], ring)):
                if shapely.get_type_id(p) == 0 and all(shapely.distance(p, q) > merge_m
                                                       for q in kept):
                    kept.append(p)
        n_tagged.append(n_t)
        n_cross.append(len(kept) - n_t)
        out.append(shapely.multipoints(kept) if kept else None)
    res = gpd.GeoDataFrame({"n_tagged": np.array(n_tagged, dtype=int),
                            "n_crossing": np.array(n_cross, dtype=int)},
                           geometry=gpd.GeoSeries(out, crs=metric_epsg).to_crs(WGS84).values,
                           crs=WGS84, index=compounds.index)
    return res.rename_geometry("gates")
