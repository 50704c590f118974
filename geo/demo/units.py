"""Generated governance units: communities (社区) and grids (网格), in a metric CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.demo.geometry import voronoi_partition, weighted_kmeans

_NUMERALS = "一二三四五六七八九十"


def grid_number(i: int) -> str:
    """Chinese ordinal for grid names: 1 → 一, 12 → 十二, 20 → 二十."""
    if i <= 10:
        return _NUMERALS[i - 1]
    if i < 20:
        return "十" + _NUMERALS[i - 11]
    tens, ones = divmod(i, 10)
    return _NUMERALS[tens - 1] + "十" + (_NUMERALS[ones - 1] if ones else "")


def locate(points: np.ndarray, polys: list[BaseGeometry]) -> np.ndarray:
    """Index of the polygon containing each point (n×2), else of the nearest; -1 never."""
    tree = shapely.STRtree(polys)
    pts = shapely.points(points)
    hit_pt, hit_poly = tree.query(pts, predicate="within")
    out = np.full(len(points), -1, dtype=int)
    out[hit_pt[::-1]] = hit_poly[::-1]  # first hit wins
    missing = np.flatnonzero(out < 0)
    if len(missing):
        out[missing] = tree.nearest(pts[missing])
    return out


def partition_grids(communities: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, *,
                    residents_per_grid: float, equal_grids: int, rng: np.random.Generator,
                    id_prefix: str) -> gpd.GeoDataFrame:
    """Split each community into grids of about ``residents_per_grid`` residents.

    Compounds are clustered by residents-weighted k-means; a grid is the union of the
    Voronoi cells ("territories") of its compounds' centroids, clipped to the community.
    Territories of unequal neighbours cut into each other, so some compounds straddle a
    grid boundary (grid smaller than the compound). In ``equal_grids`` communities the
    largest compound lying wholly inside becomes a grid of its own (grid equal to the
    compound); the community's other grids are cut around it. Columns: external_id, name,
    community (external id), geometry; CRS of the inputs (metric).
    """
    comp_xy = np.column_stack([compounds.geometry.centroid.x, compounds.geometry.centroid.y])
    comp_comm = locate(comp_xy, list(communities.geometry))
    residents = compounds["residents"].to_numpy(dtype=float)
    by_size = np.argsort(-residents, kind="stable")
    equal: dict[int, int] = {}
    for i in by_size:
        c = int(comp_comm[i])
        if len(equal) >= equal_grids:
            break
        if c not in equal and communities.geometry.iloc[c].contains(compounds.geometry.iloc[i]):
            equal[c] = int(i)
    rows = []
    for c, comm in enumerate(communities.itertuples()):
        members = np.flatnonzero(comp_comm == c)
        region = comm.geometry
        pieces: list[BaseGeometry] = []
        if c in equal:
            own = compounds.geometry.iloc[equal[c]]
            pieces.append(own)
            region = region.difference(own)
            members = members[members != equal[c]]
        if len(members):
            k = max(1, round(residents[members].sum() / residents_per_grid))
            centres = weighted_kmeans(comp_xy[members], residents[members], k, rng=rng)
            label = ((comp_xy[members, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
            territory = voronoi_partition(comp_xy[members], region)
            for j in range(len(centres)):
                parts = [t for t, lab in zip(territory, label, strict=True) if lab == j]
                if parts:
                    pieces.append(shapely.union_all(parts))
        else:
            pieces.append(region)
        for j, geom in enumerate(pieces, start=1):
            rows.append({"external_id": f"{id_prefix}{c + 1:02d}{j:02d}",
                         "name": f"{comm.name}第{grid_number(j)}网格",
                         "community": comm.external_id, "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=communities.crs)
