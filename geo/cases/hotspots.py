"""Case hot spots: Getis-Ord Gi* on H3 cells, confidence bins, period comparison, KDE.

Gi* is computed by ``esda.G_Local(star=True)`` on binary H3 contiguity (the ``k``-ring
around each cell, the cell itself weighted 1) over *every* cell of the study area,
zero-count cells included. p-values are two-sided pseudo p-values from esda's conditional
permutation (2 × its folded one-sided ``p_sim``, at most 1), optionally adjusted for the
false discovery rate (Benjamini–Hochberg). Bins follow the usual hot-spot convention:
+3/+2/+1 = hot at 99/95/90 % confidence, −1/−2/−3 = cold, 0 = not significant.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.cases.counts import CaseIndex, area_cells, cell_ids, cell_polygons, counts_frame
from geo.errors import InvalidInputError, Problem

if TYPE_CHECKING:  # esda and libpysal take a second to import: loaded where used
    from libpysal.graph import Graph

#: (cell, case) pairs a kernel density evaluates at once (about 24 bytes each).
MAX_PAIRS = 2_000_000
#: (confidence, two-sided p threshold, bin magnitude), strictest first.
CONFIDENCE_LEVELS = ((0.99, 0.01, 3), (0.95, 0.05, 2), (0.90, 0.10, 1))
CHANGE_CLASSES = ("new", "intensifying", "persistent", "diminishing", "none")


def hex_graph(cells: np.ndarray, *, k: int = 1) -> Graph:
    """Binary contiguity of H3 cells (int64): neighbours are the cells within ``k`` rings."""
    if k < 1:
        raise InvalidInputError("k must be at least 1", [Problem(f"got {k}", field="k")])
    where = {int(c): i for i, c in enumerate(cells)}
    rows: list[int] = []
    cols: list[int] = []
    for i, c in enumerate(cells):
        for nb in h3i.grid_disk(int(c), k):
            j = where.get(nb)
            if j is not None and j != i:
                rows.append(i)
                cols.append(j)
    n = len(cells)
    adj = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    from libpysal.graph import Graph

    return Graph.from_sparse(adj, ids=np.arange(n))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    q[ok] = out
    return q


def confidence_bins(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Hot/cold bins −3…+3 from z-scores (sign) and two-sided p-values (NaN → 0)."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    bins = np.zeros(len(z), dtype=np.int8)
    for _, alpha, mag in reversed(CONFIDENCE_LEVELS):
        sig = ~np.isnan(p) & (p <= alpha) & ~np.isnan(z)
        bins[sig] = np.where(z[sig] > 0, mag, -mag)
    return bins


@dataclass(frozen=True)
class HotSpotResult:
    """Gi* per H3 cell.

    ``cells`` (EPSG:4326): ``h3``, ``n_cases``, ``gi_z`` (esda's analytic z of Gi*), ``p``
    (two-sided permutation p), ``q`` (BH-adjusted p, NaN unless ``fdr``), ``bin`` (−3…+3)
    and the hexagon polygon.
    """

    cells: gpd.GeoDataFrame
    resolution: int | None
    k: int
    permutations: int
    seed: int
    fdr: bool


#: Largest permutation seed (seeds are 32-bit unsigned integers).
MAX_SEED = 2**32 - 1


def check_seed(seed: int) -> None:
    """:class:`InvalidInputError` unless ``seed`` is a whole number in 0…2³²−1."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed <= MAX_SEED:
        raise InvalidInputError("invalid seed", [Problem(
            f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}", field="seed")])


def gi_star(counts: gpd.GeoDataFrame, *, k: int = 1, permutations: int = 999, seed: int = 0,
            fdr: bool = False) -> HotSpotResult:
    """Getis-Ord Gi* of ``counts`` (``h3``, ``n_cases``; zero-count cells included).

    Parameters
    ----------
    counts
        One row per H3 cell of the study area (e.g. from :func:`geo.cases.hex_counts` with
        ``area``); cells without cases must be present with 0.
    k
        Neighbourhood: cells within ``k`` rings (k=1: the 6 adjacent hexagons).
    permutations, seed
        Conditional permutations for the pseudo p-values, seeded for reproducibility.
    fdr
        Bin on Benjamini–Hochberg adjusted p-values instead of raw p-values.
    """
    if permutations < 99:
        raise InvalidInputError("at least 99 permutations are needed",
                                [Problem(f"got {permutations}", field="permutations")])
    check_seed(seed)
    if len(counts) < 3:
        raise InvalidInputError("Gi* needs at least 3 cells", [Problem(f"got {len(counts)}")])
    cells = np.array([h3i.str_to_int(h) for h in counts["h3"]], dtype=np.int64)
    y = counts["n_cases"].to_numpy(dtype=float)
    n = len(y)
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    if y.sum() > 0 and y.var() > 0:
        graph = hex_graph(cells, k=k)
        from esda import G_Local

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # esda: alternative= notice
            g = G_Local(y, graph, transform="B", permutations=permutations, star=True,
                        seed=seed, n_jobs=1, keep_simulations=False)
        z = np.asarray(g.Zs, dtype=float)
        p = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=float))
    q = benjamini_hochberg(p) if fdr else np.full(n, np.nan)
    bins = confidence_bins(z, q if fdr else p)
    frame = gpd.GeoDataFrame({"h3": list(counts["h3"]), "n_cases": y.astype(np.int64),
                              "gi_z": z, "p": p, "q": q, "bin": bins},
                             geometry=cell_polygons(cells), crs=4326)
    res = int(h3i.get_resolution(int(cells[0])))
    return HotSpotResult(cells=frame, resolution=res, k=k, permutations=permutations, seed=seed,
                         fdr=fdr)


def compare_periods(before: HotSpotResult, after: HotSpotResult) -> gpd.GeoDataFrame:
    """Classify cells by how their hot-spot bin changed from ``before`` to ``after``.

    ``change``: *new* (not hot → hot), *intensifying* (hot → hotter bin), *persistent*
    (same hot bin), *diminishing* (hot → lower bin or not hot), *none* (never hot).
    Cells missing from one period count as bin 0 there.
    """
    a = before.cells.set_index("h3")
    b = after.cells.set_index("h3")
    ids = sorted(set(a.index) | set(b.index))
    bin_a = a["bin"].reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    bin_b = b["bin"].reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    hot_a, hot_b = bin_a > 0, bin_b > 0
    change = np.full(len(ids), "none", dtype=object)
    change[~hot_a & hot_b] = "new"
    change[hot_a & hot_b & (bin_b > bin_a)] = "intensifying"
    change[hot_a & hot_b & (bin_b == bin_a)] = "persistent"
    change[hot_a & (~hot_b | (bin_b < bin_a))] = "diminishing"
    cells = np.array([h3i.str_to_int(h) for h in ids], dtype=np.int64)
    return gpd.GeoDataFrame({
        "h3": ids,
        "n_before": a["n_cases"].reindex(ids, fill_value=0).to_numpy(dtype=np.int64),
        "n_after": b["n_cases"].reindex(ids, fill_value=0).to_numpy(dtype=np.int64),
        "bin_before": bin_a, "bin_after": bin_b, "change": change,
    }, geometry=cell_polygons(cells), crs=4326)


@dataclass(frozen=True)
class DensitySurface:
    """Kernel density of cases evaluated at H3 cell centres.

    ``cells`` (EPSG:4326): ``h3``, ``density_per_km2`` (cases per km²), ``n_near`` (cases
    within 2 bandwidths of the centre, for suppression) and the hexagon polygon. The
    kernel is Gaussian with standard deviation ``bandwidth_m`` metres, measured in
    ``epsg`` and cut at 4 bandwidths.
    """

    cells: gpd.GeoDataFrame
    bandwidth_m: float
    epsg: int
    n_cases: int


def kde_surface(cases: gpd.GeoDataFrame, cells: np.ndarray | list[str], *, epsg: int,
                bandwidth_m: float = 300.0) -> DensitySurface:
    """Gaussian kernel density of case points (EPSG:4326) at the centres of ``cells``.

    Distances are measured in the projected CRS ``epsg`` (metres, e.g. the city's UTM zone).
    Memory stays bounded (cases are processed in blocks of about :data:`MAX_PAIRS` pairs);
    time grows with cases × cells within 4 bandwidths.
    """
    if not bandwidth_m > 0:
        raise InvalidInputError("bandwidth must be positive",
                                [Problem(f"got {bandwidth_m}", field="bandwidth_m")])
    ints = np.array([h3i.str_to_int(c) if isinstance(c, str) else int(c) for c in cells],
                    dtype=np.int64)
    centres = gpd.GeoSeries.from_xy(*zip(*[h3i.cell_to_latlng(int(c))[::-1] for c in ints]),
                                    crs=4326) if len(ints) else gpd.GeoSeries([], crs=4326)
    density: np.ndarray = np.zeros(len(ints))
    near = np.zeros(len(ints), dtype=np.int64)
    if len(cases) and len(ints):
        pts = cases.geometry.to_crs(epsg)
        xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
        cxy = centres.to_crs(epsg)
        c_xy = np.column_stack([cxy.x.to_numpy(), cxy.y.to_numpy()])
        tree = cKDTree(c_xy)
        reach = 4 * bandwidth_m
        # Cases go in blocks so that one block's (cell, case) pairs stay near MAX_PAIRS.
        sample = xy[np.linspace(0, len(xy) - 1, min(len(xy), 64)).astype(int)]
        per_case = int(np.max(tree.query_ball_point(sample, reach, return_length=True))) + 1
        block = max(1, MAX_PAIRS // per_case)
        for lo in range(0, len(xy), block):
            dist = tree.sparse_distance_matrix(cKDTree(xy[lo:lo + block]), reach,
                                               output_type="ndarray")
            d, row = dist["v"], dist["i"]
            kernel = np.exp(-0.5 * (d / bandwidth_m) ** 2) / (2 * np.pi * bandwidth_m ** 2)
            density += np.bincount(row, weights=kernel, minlength=len(ints)) * 1e6
            near += np.bincount(row[d <= 2 * bandwidth_m], minlength=len(ints))
    frame = gpd.GeoDataFrame({"h3": cell_ids(ints), "density_per_km2": density, "n_near": near},
                             geometry=cell_polygons(ints), crs=4326)
    return DensitySurface(cells=frame, bandwidth_m=float(bandwidth_m), epsg=int(epsg),
                          n_cases=len(cases))


def hotspot_frame(result: HotSpotResult) -> pd.DataFrame:
    """Counts of cells per bin, −3…+3 (a summary for reports)."""
    counts = result.cells["bin"].value_counts().reindex(range(-3, 4), fill_value=0)
    return counts.rename_axis("bin").rename("cells").reset_index()


def hotspots_for_cases(cases: gpd.GeoDataFrame, *, area: BaseGeometry, resolution: int = 8,
                       k: int = 1, permutations: int = 999, seed: int = 0,
                       fdr: bool = False) -> HotSpotResult:
    """Gi* of the case counts on every H3 cell of ``area`` (EPSG:4326) at ``resolution``.

    Cells of ``area`` without cases take part with 0; cells outside ``area`` holding
    cases are added too, so no case is dropped.
    """
    check_seed(seed)
    counts = CaseIndex.from_cases(cases, resolution=resolution).counts()
    frame = counts_frame(counts, area_cells(area, resolution))
    return gi_star(frame, k=k, permutations=permutations, seed=seed, fdr=fdr)
