"""Grid cases: filtering by category set and time window, H3 hexagon counts.

A *cases* GeoDataFrame (EPSG:4326, one Point per case) has the columns

``case_id`` (str), ``category`` (a :class:`geo.domain.CaseCategory` code), ``reported_at``
and ``closed_at`` (timezone-aware timestamps; ``closed_at`` NaT while open), ``status``
(a :class:`geo.domain.CaseStatus` code) and ``satisfaction`` (1–5 or NaN).

Time windows are half-open, ``[start, end)``, on ``reported_at``; bounds must be
timezone-aware. Hexagons are H3 cells (resolution 8 ≈ 0.74 km², grid scale; 9 ≈ 0.11 km²,
compound scale), identified by their hexadecimal string. Suppression of small counts
for the public lives in :mod:`geo.cases.privacy` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import h3
import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.cases.privacy import Suppressed, suppress_counts, suppression_mask
from geo.crs.utm import require_wgs84
from geo.domain import CaseCategory
from geo.errors import InvalidInputError, Problem
from geo.vocab import resolve_categories

__all__ = ["CASE_COLUMNS", "DEFAULT_RESOLUTION", "KNOWN_CATEGORIES", "CaseIndex", "Suppressed",
           "area_cells", "cell_ids", "cell_polygons", "check_categories", "check_window",
           "counts_frame", "filter_cases", "hex_counts", "point_cells", "suppress_counts",
           "suppression_mask", "validate_cases"]

CASE_COLUMNS = ("case_id", "category", "reported_at", "closed_at", "status", "satisfaction")
#: Default H3 resolution: 8 ≈ 0.74 km² per cell, about one grid (网格).
DEFAULT_RESOLUTION = 8
KNOWN_CATEGORIES = tuple(c.value for c in CaseCategory)


def validate_cases(cases: gpd.GeoDataFrame) -> None:
    """Raise :class:`InvalidInputError` unless ``cases`` follows the cases contract above."""
    require_wgs84(cases, "cases")
    problems = [Problem(f"missing column {c!r}", field=c) for c in CASE_COLUMNS
                if c not in cases.columns]
    for col in ("reported_at", "closed_at"):
        if col in cases.columns and not isinstance(cases[col].dtype, pd.DatetimeTZDtype):
            problems.append(Problem("must be timezone-aware timestamps", field=col))
    if problems:
        raise InvalidInputError("cases do not have the expected columns", problems)


def check_categories(categories: Iterable[str] | None) -> tuple[str, ...] | None:
    """Normalise a category set (``None`` = all) to sorted codes; codes, Chinese and English
    labels are accepted (:func:`geo.vocab.resolve_categories`), anything else raises
    :class:`InvalidInputError` (``unknown-category``, with "did you mean")."""
    if categories is None:
        return None
    cats = resolve_categories(list(categories))
    return tuple(sorted(set(cats or ())))


def check_window(start: datetime | None, end: datetime | None) -> None:
    """Raise :class:`InvalidInputError` unless both bounds are tz-aware and start < end."""
    problems = []
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            problems.append(Problem("must carry a time zone", field=name))
    if not problems and start is not None and end is not None and not start < end:
        problems.append(Problem("start must be before end (window is [start, end))", field="end"))
    if problems:
        raise InvalidInputError("invalid time window", problems)


def filter_cases(cases: gpd.GeoDataFrame, *, categories: Iterable[str] | None = None,
                 start: datetime | None = None, end: datetime | None = None) -> gpd.GeoDataFrame:
    """Cases of the given categories reported in ``[start, end)`` (``None`` = unbounded)."""
    validate_cases(cases)
    cats = check_categories(categories)
    check_window(start, end)
    mask = np.ones(len(cases), dtype=bool)
    if cats is not None:
        mask &= cases["category"].isin(cats).to_numpy()
    rep = cases["reported_at"]
    if start is not None:
        mask &= (rep >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        mask &= (rep < pd.Timestamp(end)).to_numpy()
    return cases.loc[mask]


def point_cells(cases: gpd.GeoDataFrame, resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
    """H3 cell (as int64) of every case point (EPSG:4326)."""
    _check_resolution(resolution)
    xs = cases.geometry.x.to_numpy().tolist()
    ys = cases.geometry.y.to_numpy().tolist()
    return np.fromiter((h3i.latlng_to_cell(y, x, resolution) for x, y in zip(xs, ys)),
                       dtype=np.int64, count=len(xs))


def area_cells(area: BaseGeometry, resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
    """Sorted H3 cells (int64) whose centres lie in ``area`` (Polygon/MultiPolygon, EPSG:4326)."""
    _check_resolution(resolution)
    if not isinstance(area, Polygon | MultiPolygon) or area.is_empty:
        raise InvalidInputError("area must be a non-empty Polygon or MultiPolygon in EPSG:4326")
    cells = h3.geo_to_cells(area.__geo_interface__, resolution)
    return np.sort(np.array([h3.str_to_int(c) for c in cells], dtype=np.int64))


def cell_polygons(cells: Iterable[int]) -> list[Polygon]:
    """Hexagon polygons (lon/lat, EPSG:4326) of H3 cells given as int64."""
    return [Polygon([(lng, lat) for lat, lng in h3i.cell_to_boundary(int(c))]) for c in cells]


def cell_ids(cells: Iterable[int]) -> list[str]:
    """Hexadecimal H3 strings of int64 cells."""
    return [h3.int_to_str(int(c)) for c in cells]


def _check_resolution(resolution: int) -> None:
    if not (0 <= int(resolution) <= 15):
        raise InvalidInputError("H3 resolution must be 0–15",
                                [Problem(f"got {resolution}", field="resolution")])


@dataclass(frozen=True)
class CaseIndex:
    """Cases pre-indexed for repeated hexagon counts (any category set, any window).

    Build once with :meth:`from_cases`; :meth:`counts` then takes milliseconds for
    millions of cases. ``cells`` are the distinct H3 cells (int64, sorted) holding cases.
    """

    resolution: int
    cells: np.ndarray
    cell_pos: np.ndarray
    category: np.ndarray
    reported_ns: np.ndarray

    @classmethod
    def from_cases(cls, cases: gpd.GeoDataFrame, *,
                   resolution: int = DEFAULT_RESOLUTION) -> CaseIndex:
        """Index ``cases`` (the cases contract) at H3 ``resolution``."""
        validate_cases(cases)
        check_categories(cases["category"].unique())
        reported = cases["reported_at"].dt.tz_convert("UTC").dt.tz_localize(None)
        ns = reported.to_numpy().astype("datetime64[ns]").astype(np.int64)
        order = np.argsort(ns, kind="stable")
        codes = pd.Categorical(cases["category"], categories=KNOWN_CATEGORIES).codes
        raw = point_cells(cases, resolution)
        cells, pos = np.unique(raw, return_inverse=True)
        return cls(resolution=resolution, cells=cells, cell_pos=pos[order].astype(np.int32),
                   category=np.asarray(codes, dtype=np.int8)[order], reported_ns=ns[order])

    def counts(self, *, categories: Iterable[str] | None = None, start: datetime | None = None,
               end: datetime | None = None) -> pd.Series:
        """Cases per H3 cell (index: int64 cells holding ≥ 1 selected case) in ``[start, end)``."""
        cats = check_categories(categories)
        check_window(start, end)
        lo = 0 if start is None else int(np.searchsorted(self.reported_ns, _ns(start), "left"))
        hi = (len(self.reported_ns) if end is None
              else int(np.searchsorted(self.reported_ns, _ns(end), "left")))
        pos = self.cell_pos[lo:hi]
        if cats is not None:
            wanted = np.zeros(len(KNOWN_CATEGORIES), dtype=bool)
            wanted[[KNOWN_CATEGORIES.index(c) for c in cats]] = True
            pos = pos[wanted[self.category[lo:hi]]]
        n = np.bincount(pos, minlength=len(self.cells))
        keep = n > 0
        return pd.Series(n[keep], index=pd.Index(self.cells[keep], name="cell"), name="n_cases")


def _ns(t: datetime) -> int:
    return int(pd.Timestamp(t).tz_convert("UTC").value)


def hex_counts(cases: gpd.GeoDataFrame, *, resolution: int = DEFAULT_RESOLUTION,
               categories: Iterable[str] | None = None, start: datetime | None = None,
               end: datetime | None = None, area: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """Selected cases per H3 hexagon.

    Returns a GeoDataFrame (EPSG:4326) with ``h3`` (hex string), ``n_cases`` and the hexagon
    polygon, one row per cell holding a selected case; with ``area`` also every cell of
    ``area`` (zero counts included), which is what Gi* needs.
    """
    counts = CaseIndex.from_cases(cases, resolution=resolution).counts(
        categories=categories, start=start, end=end)
    return counts_frame(counts, area_cells(area, resolution) if area is not None else None)


def counts_frame(counts: pd.Series, extra_cells: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """GeoDataFrame of ``counts`` (int64 cell → n) plus zero rows for ``extra_cells``."""
    cells = counts.index.to_numpy(dtype=np.int64)
    if extra_cells is not None:
        cells = np.union1d(cells, extra_cells)
    n = counts.reindex(cells, fill_value=0).to_numpy(dtype=np.int64)
    return gpd.GeoDataFrame({"h3": cell_ids(cells), "n_cases": n},
                            geometry=cell_polygons(cells), crs=4326)
