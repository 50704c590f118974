"""Re-gridding one community: a proposal of grids holding households within a range.

Units
-----
The community is cut into one *cell* per compound (小区): the compound itself plus the
part of the community's residual area (streets, open land, un-gated blocks) nearer to it
than to any other compound — a Voronoi diagram of points every ``spacing_m`` metres along
the compound boundaries, dissolved per compound, clipped to the community and with every
compound kept whole. A proposed grid is a union of cells, so grid boundaries follow compound
boundaries and never cut a compound. Two cells are neighbours when they share an edge
(rook contiguity, :class:`libpysal.weights.Rook`) after snapping to a 1 cm grid in the
community's metric CRS.

Problem
-------
Given households ``h_c`` per compound and the range ``[lower, upper]``, find a partition of
the cells into contiguous grids ``G`` with ``lower ≤ Σ_{c∈G} h_c ≤ upper`` for every ``G``.

Method
------
1. A compound with ``h_c > upper`` alone exceeds the range: it becomes a grid of its own
   (never split) and is reported; the other cells are regionalised without it.
2. Each connected component of the remaining cells with ``Σ h < lower`` cannot form a grid
   in range: its compounds are reported as what prevents it (and it is proposed as one grid).
3. Every other component is regionalised with max-p (:class:`spopt.region.MaxPHeuristic`,
   the lower bound as threshold, the cells' centroid coordinates as the attributes, so grids
   are compact); max-p maximises the number of grids each reaching ``lower``. Max-p has no
   upper bound, so it is run ``attempts`` times (seeds ``seed, seed+1, …``) and the
   partition with the fewest grids above ``upper`` (then the lowest CV of households) kept.
   A grid still above ``upper`` is reported with its largest compound.

``feasible`` is true when every proposed grid is within the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from libpysal.weights import Rook
from shapely.geometry.base import BaseGeometry

from geo.domain import REGRID_REASONS, RegridReason
from geo.errors import InvalidInputError, Problem
from geo.grids.workload import cv

SNAP_M = 0.01


@dataclass(frozen=True)
class RegridProblem:
    """Why a proposed grid is outside the range: the compound preventing it, the reason
    code (:class:`geo.domain.RegridReason`, labels in :data:`geo.domain.REGRID_REASONS`)
    and the households of the compound and of its proposed grid. Reasons:
    ``compound_exceeds_range`` (the compound alone holds more than ``upper``),
    ``component_below_range`` (its part of the community touches no other and holds fewer
    than ``lower`` in all, e.g. a detached piece of a multi-part community),
    ``grid_above_range`` / ``grid_below_range`` (max-p found no better partition; the
    grid's largest compound is named)."""

    compound_id: int
    compound: str
    reason: str
    compound_households: float
    grid_households: float
    proposal: int

    def label(self, lang: str) -> str:
        """The reason in words, ``lang`` ``"en"`` or Chinese."""
        return REGRID_REASONS[self.reason].label(lang)


@dataclass(frozen=True)
class RegridResult:
    """The proposal: ``grids`` (``proposal``, ``households``, ``residents`` when the
    compounds have them, ``compounds``, ``in_range``, polygon, EPSG:4326), ``assignment``
    (``compound_id`` → ``proposal``), the range, and ``problems`` (empty when
    ``feasible``). ``epsg`` is the metric CRS used."""

    grids: gpd.GeoDataFrame
    assignment: pd.DataFrame
    lower: float
    upper: float
    epsg: int
    problems: tuple[RegridProblem, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        """Every proposed grid holds households within ``[lower, upper]``."""
        return not self.problems


def compound_cells(compounds: gpd.GeoDataFrame, community: BaseGeometry, *, epsg: int,
                   spacing_m: float = 10.0) -> gpd.GeoDataFrame:
    """One cell per compound covering the community (see the module docstring), in EPSG
    ``epsg`` (metres), same index and columns as ``compounds``."""
    comp = compounds.to_crs(epsg)
    area = gpd.GeoSeries([community], crs=4326).to_crs(epsg).iloc[0]
    geoms = shapely.set_precision(shapely.make_valid(np.asarray(comp.geometry.values)), SNAP_M)
    area = shapely.union(shapely.set_precision(shapely.make_valid(area), SNAP_M),
                         shapely.union_all(geoms))
    if len(comp) == 1:
        return comp.set_geometry([area], crs=epsg)
    pts, owner = [], []
    for i, g in enumerate(geoms):
        b = shapely.segmentize(g.boundary, spacing_m)
        xy = np.unique(shapely.get_coordinates(b), axis=0)
        pts.append(xy)
        owner += [i] * len(xy)
    allpts = np.vstack(pts)
    own = np.asarray(owner)
    vor = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(allpts), extend_to=area.buffer(10 * spacing_m)))
    tree = shapely.STRtree(shapely.points(allpts))
    # each Voronoi polygon holds exactly one generator point
    vi, pi = tree.query(vor, predicate="intersects")
    first = pd.Series(pi, index=vi).groupby(level=0).first()
    cells = []
    others_all = shapely.union_all(geoms)
    for i, g in enumerate(geoms):
        mine = vor[first.index[own[first.to_numpy()] == i]]
        cell = shapely.union_all(np.append(mine, g))
        others = shapely.difference(others_all, g)
        cell = shapely.intersection(shapely.difference(cell, others), area)
        cell = shapely.union(cell, g)
        cells.append(shapely.set_precision(cell, SNAP_M))
    return comp.set_geometry(cells, crs=epsg)


def _components(cells: gpd.GeoDataFrame) -> list[list[int]]:
    w = Rook.from_dataframe(cells, use_index=False, silence_warnings=True)
    g = nx.Graph()
    g.add_nodes_from(range(len(cells)))
    g.add_edges_from((i, j) for i, ns in w.neighbors.items() for j in ns)
    return [sorted(c) for c in nx.connected_components(g)]


def _maxp(cells: gpd.GeoDataFrame, lower: float, upper: float, *, seed: int,
          attempts: int) -> np.ndarray:
    from spopt.region import MaxPHeuristic

    if len(cells) == 1 or cells["households"].sum() < 2 * lower:
        return np.zeros(len(cells), dtype=int)
    frame = cells.reset_index(drop=True).copy()
    c = frame.geometry.centroid
    frame["x"], frame["y"] = c.x.to_numpy(), c.y.to_numpy()
    w = Rook.from_dataframe(frame, use_index=False, silence_warnings=True)
    best: tuple[tuple[int, float], np.ndarray] | None = None
    state = np.random.get_state()
    try:
        for k in range(attempts):
            np.random.seed(seed + k)  # spopt's max-p draws from numpy's global generator
            model = MaxPHeuristic(frame, w, ["x", "y"], "households", lower, top_n=2,
                                  policy="keep")
            model.solve()
            labels = np.asarray(model.labels_, dtype=int)
            sums = frame.groupby(labels)["households"].sum().to_numpy()
            key = (int((sums > upper).sum() + (sums < lower).sum()), cv(sums))
            if best is None or key < best[0]:
                best = (key, labels)
            if key[0] == 0:
                break
    finally:
        np.random.set_state(state)
    assert best is not None
    return best[1]


def regrid_community(compounds: gpd.GeoDataFrame, community: BaseGeometry, *, epsg: int,
                     lower: float = 120, upper: float = 300, seed: int = 0,
                     attempts: int = 5, spacing_m: float = 10.0) -> RegridResult:
    """Propose grids for one community (method in the module docstring).

    ``compounds``: ``compound_id``, ``name``, ``households`` (optionally ``residents``,
    summed per grid) and the compound polygon (EPSG:4326); ``community``: its polygon
    (EPSG:4326); ``epsg``: a metric CRS.
    """
    problems = []
    if not 0 < lower <= upper:
        problems.append(Problem(f"need 0 < lower ≤ upper, got {lower}–{upper}", field="lower"))
    if not len(compounds):
        problems.append(Problem("the community has no compounds", field="community"))
    if problems:
        raise InvalidInputError("cannot re-grid", problems)
    comp = compounds.reset_index(drop=True)
    cells = compound_cells(comp, community, epsg=epsg, spacing_m=spacing_m)
    labels = np.full(len(cells), -1, dtype=int)
    found: list[RegridProblem] = []
    hh = cells["households"].to_numpy(dtype=float)
    nxt = 0
    for i in np.flatnonzero(hh > upper):
        labels[i] = nxt
        found.append(RegridProblem(int(cells["compound_id"].iloc[i]), str(cells["name"].iloc[i]),
                                   str(RegridReason.COMPOUND_EXCEEDS_RANGE), float(hh[i]),
                                   float(hh[i]), nxt))
        nxt += 1
    rest = np.flatnonzero(labels < 0)
    for comp_idx in _components(cells.iloc[rest]) if len(rest) else []:
        idx = rest[comp_idx]
        sub = cells.iloc[idx]
        total = float(sub["households"].sum())
        if total < lower:
            labels[idx] = nxt
            for j in idx:
                found.append(RegridProblem(int(cells["compound_id"].iloc[j]),
                                           str(cells["name"].iloc[j]),
                                           str(RegridReason.COMPONENT_BELOW_RANGE),
                                           float(hh[j]), total, nxt))
            nxt += 1
            continue
        part = _maxp(sub, lower, upper, seed=seed, attempts=attempts)
        labels[idx] = part + nxt
        nxt += int(part.max()) + 1
    order = pd.Series(labels).drop_duplicates().sort_values()
    labels = pd.Series(labels).map(pd.Series(np.arange(1, len(order) + 1), index=order)
                                   ).to_numpy(dtype=int)
    found = [RegridProblem(p.compound_id, p.compound, p.reason, p.compound_households,
                           p.grid_households, int(labels[int(np.flatnonzero(
                               cells["compound_id"].to_numpy() == p.compound_id)[0])]))
             for p in found]
    cells = cells.assign(proposal=labels)
    agg = {"households": "sum", "compound_id": "count"}
    if "residents" in cells.columns:
        agg["residents"] = "sum"
    grids = cells.dissolve(by="proposal", aggfunc=agg)
    grids = grids.rename(columns={"compound_id": "compounds"}).reset_index()
    grids["in_range"] = grids["households"].between(lower, upper)
    reported = {p.proposal for p in found}
    for _, g in grids[~grids["in_range"]].iterrows():
        if int(g["proposal"]) in reported:
            continue
        mine = cells[cells["proposal"] == g["proposal"]]
        big = mine.loc[mine["households"].idxmax()]
        reason = str(RegridReason.GRID_ABOVE_RANGE if g["households"] > upper
                     else RegridReason.GRID_BELOW_RANGE)
        found.append(RegridProblem(int(big["compound_id"]), str(big["name"]), reason,
                                   float(big["households"]), float(g["households"]),
                                   int(g["proposal"])))
    grids = grids.to_crs(4326)
    assignment = pd.DataFrame({"compound_id": cells["compound_id"].astype(int).to_numpy(),
                               "proposal": labels})
    return RegridResult(grids, assignment, float(lower), float(upper), epsg, tuple(found))
