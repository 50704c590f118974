"""Snap points onto the nearest street edge, at the projected point on the edge.

The nearest edge is found with an STRtree in the network's metric CRS; the point is
projected onto it (not moved to the nearest node) and the snap distance is reported.
Points farther than ``max_snap_m`` from every street are flagged ``snapped=False`` and kept
— never silently dropped; analyses give them NaN travel times.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.crs.utm import WGS84
from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork


@dataclass(frozen=True)
class Snap:
    """Snapping of ``n`` points (arrays aligned with the input rows).

    ``edge`` is the network's internal edge position (-1 when the point has no geometry or
    the network no edges); ``offset_m`` the distance along the edge from its start node in
    network metres (scaled to the edge's ``length_m``); ``snap_m`` the straight distance from
    the point to the edge in metres; ``snapped`` is False beyond ``max_snap_m``.
    """

    edge: np.ndarray
    offset_m: np.ndarray
    snap_m: np.ndarray
    snapped: np.ndarray
    xy: np.ndarray  # (n, 2) snapped location, metric CRS of the network
    max_snap_m: float


def snap_xy(net: StreetNetwork, points: np.ndarray, *, max_snap_m: float = 250.0) -> Snap:
    """Snap an array of shapely Points (network metric CRS) onto ``net``'s edges."""
    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    snap_m = np.full(n, np.inf)
    valid = ~(shapely.is_missing(points) | shapely.is_empty(points))
    if net.n_edges and valid.any():
        idx = np.flatnonzero(valid)
        # a bounded search first (fast), then an unbounded one for the far points only
        (src, hit), dist = net.tree.query_nearest(points[idx], max_distance=max_snap_m,
                                                  return_distance=True, all_matches=False)
        edge[idx[src]] = hit
        snap_m[idx[src]] = dist
        far = idx[edge[idx] < 0]
        if len(far):
            (src, hit), dist = net.tree.query_nearest(points[far], return_distance=True,
                                                      all_matches=False)
            edge[far[src]] = hit
            snap_m[far[src]] = dist
    offset = np.full(n, np.nan)
    xy = np.full((n, 2), np.nan)
    has = edge >= 0
    if has.any():
        geoms = net.edge_geoms[edge[has]]
        along = shapely.line_locate_point(geoms, points[has])
        glen = shapely.length(geoms)
        frac = np.divide(along, glen, out=np.zeros_like(along), where=glen > 0)
        offset[has] = np.clip(frac, 0.0, 1.0) * net.edge_length_m[edge[has]]
        xy[has] = shapely.get_coordinates(shapely.line_interpolate_point(geoms, along))
    return Snap(edge=edge, offset_m=offset, snap_m=snap_m, snapped=has & (snap_m <= max_snap_m),
                xy=xy, max_snap_m=float(max_snap_m))


def point_array(net: StreetNetwork, gdf: gpd.GeoDataFrame, what: str = "points"
                ) -> tuple[np.ndarray, np.ndarray]:
    """Points of ``gdf`` in ``net``'s metric CRS, MultiPoints exploded.

    Returns ``(points, row)``: the Point array and, for each point, the input row position.
    Missing or empty geometries give one missing point (so that the row is reported).
    """
    geoms = np.asarray(net.to_metric(gdf, what).geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(types, [-1, 0, 4]))  # missing, Point, MultiPoint
    if len(bad):
        raise InvalidInputError(f"{what} must be Points or MultiPoints", [
            Problem("not a Point/MultiPoint", row=int(r), field="geometry") for r in bad[:20]])
    parts, row = shapely.get_parts(geoms, return_index=True)
    missing = np.setdiff1d(np.arange(len(geoms)), row)
    if len(missing):
        parts = np.concatenate([parts, np.full(len(missing), None, dtype=object)])
        row = np.concatenate([row, missing])
        order = np.argsort(row, kind="stable")
        parts, row = parts[order], row[order]
    return parts, row


def snap_single_points(net: StreetNetwork, gdf: gpd.GeoDataFrame, what: str = "points", *,
                       max_snap_m: float = 250.0) -> Snap:
    """Snap the Points of ``gdf`` (any declared CRS, one per row) onto ``net``'s edges.

    MultiPoints are an :class:`InvalidInputError` naming ``what``; see :func:`snap_xy`.
    """
    pts, _row = point_array(net, gdf, what)
    if len(pts) != len(gdf):
        raise InvalidInputError(f"{what} must be single Points; explode MultiPoints first",
                                [Problem("MultiPoint", field="geometry")])
    return snap_xy(net, pts, max_snap_m=max_snap_m)


def snap_points(net: StreetNetwork, points: gpd.GeoDataFrame, *, max_snap_m: float = 250.0,
                crs: int = WGS84) -> gpd.GeoDataFrame:
    """Snap Points onto the nearest street edge of ``net``.

    Parameters
    ----------
    points
        Point geometries in any declared CRS (usually EPSG:4326); other columns are kept.
    max_snap_m
        Points farther from every street than this (metres) are flagged, not dropped.
    crs
        CRS of the returned snapped geometries (EPSG code; default 4326).

    Returns
    -------
    GeoDataFrame
        The input columns plus ``edge_id``, ``offset_m`` (metres along the edge from its
        start), ``snap_m`` (metres to the street), ``snapped`` (bool), ``component`` (the
        network part reached, -1 if none); geometry = the point on the street.
    """
    s = snap_single_points(net, points, max_snap_m=max_snap_m)
    out = points.drop(columns=points.geometry.name).copy()
    has = s.edge >= 0
    out["edge_id"] = np.where(has, net.edge_ids[np.maximum(s.edge, 0)], None)
    out["offset_m"] = s.offset_m
    out["snap_m"] = np.where(has, s.snap_m, np.nan)
    out["snapped"] = s.snapped
    out["component"] = np.where(has, net.component[net.edge_u[np.maximum(s.edge, 0)]], -1)
    geom = np.array([None] * len(points), dtype=object)
    geom[has] = shapely.points(s.xy[has])
    return gpd.GeoDataFrame(out, geometry=geom, crs=net.metric_epsg).to_crs(crs)
