"""Workload of grids (网格) and the imbalance of a community's or street's grids.

Inputs (all EPSG:4326)
----------------------
* ``grids``: one row per grid — ``grid_id``, ``name``, ``community``, ``street`` and the
  grid polygon.
* ``overlay``: the grid–compound overlay — ``grid_id``, ``compound_id``, ``resident_share``
  (the share of the compound's residents living inside the grid, 0–1).
* ``compounds``: ``compound_id``, ``households``, ``residents``.
* ``cases``: grid cases — ``category``, ``reported_at``, ``closed_at`` (UTC) and the point.
* a window ``[start, end)`` of ``months = days / 30.4375`` (mean Gregorian month).

Per grid ``g``
--------------
* ``households_g = Σ_c households_c · share_{g,c}`` and ``residents_g`` likewise (the
  compound is apportioned by its resident share, as everywhere in this service);
* ``compounds_g`` = number of compounds with ``share_{g,c} > 0``;
* ``cases_g`` = cases whose point lies in the grid (a point in several grids counts once,
  for the lowest ``grid_id``); ``cases_per_month_g = cases_g / months``, also per category
  (column ``cases_per_month_<category>``);
* ``median_closure_h_g`` = median of ``closed_at − reported_at`` (hours) over the closed
  cases of the grid; ``NaN`` when none is closed.

Workload index
--------------
With ``H̄`` and ``C̄`` the mean households and mean cases per month over *all* grids given,
and ``α`` = ``household_weight`` (default 0.5)::

    W_g = α · households_g / H̄ + (1 − α) · cases_per_month_g / C̄

so ``W = 1`` is an average grid's load, ``W = 2`` twice it. A term whose mean is 0 is left
out and the other takes the full weight (no cases at all → ``W_g = households_g / H̄``).

Imbalance of a group of grids (a community or a street)
-------------------------------------------------------
``n`` grids, mean and coefficient of variation ``CV = σ / μ`` (population standard
deviation; 0 for one grid) of households and of ``W``, and ``share_outside`` = share of
grids with households outside the target range ``[lower, upper]`` (inclusive).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InvalidInputError, Problem

#: Days in a mean Gregorian month (the unit of "cases per month").
DAYS_PER_MONTH = 365.2425 / 12
DEFAULT_HOUSEHOLD_WEIGHT = 0.5


@dataclass(frozen=True)
class GridWorkload:
    """Per-grid figures (``table``, one row per grid, no geometry) and the window used.

    ``months`` is the window length in mean months; ``categories`` the case categories
    with a ``cases_per_month_<category>`` column.
    """

    table: pd.DataFrame
    start: datetime | None
    end: datetime | None
    months: float
    categories: tuple[str, ...]


def _window(cases: pd.DataFrame, start: datetime | None, end: datetime | None
            ) -> tuple[datetime | None, datetime | None, float]:
    s = pd.Timestamp(start) if start is not None else (
        cases["reported_at"].min() if len(cases) else None)
    e = pd.Timestamp(end) if end is not None else (
        cases["reported_at"].max() if len(cases) else None)
    if s is None or e is None or pd.isna(s) or pd.isna(e):
        return None, None, 0.0
    days = (e - s).total_seconds() / 86400.0
    if days < 0:
        raise InvalidInputError("window ends before it starts",
                                [Problem("end is before start", field="end")])
    return s.to_pydatetime(), e.to_pydatetime(), max(days, 1.0) / DAYS_PER_MONTH


def assign_cases(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """The ``grid_id`` of each case (index of ``cases``; ``NaN`` outside every grid): the
    lowest ``grid_id`` among the grids containing or touching its point."""
    if not len(cases) or not len(grids):
        return pd.Series(np.nan, index=cases.index, dtype=float)
    joined = gpd.sjoin(cases[["geometry"]], grids[["grid_id", "geometry"]],
                       predicate="intersects", how="left")
    return joined.groupby(level=0)["grid_id"].min().reindex(cases.index).astype(float)


def grid_workload(grids: gpd.GeoDataFrame, overlay: pd.DataFrame, compounds: pd.DataFrame,
                  cases: gpd.GeoDataFrame, *, start: datetime | None = None,
                  end: datetime | None = None,
                  household_weight: float = DEFAULT_HOUSEHOLD_WEIGHT) -> GridWorkload:
    """Households, residents, compounds, cases per month (by category), median closure
    time (hours) and the workload index of every grid (formulas in the module docstring).

    ``cases`` should already be the cases reported in ``[start, end)``; without a window it
    is the span of the cases' report times.
    """
    if not 0.0 <= household_weight <= 1.0:
        raise InvalidInputError("household weight must be within 0–1",
                                [Problem(f"got {household_weight}", field="household_weight")])
    ov = overlay.merge(compounds, on="compound_id", how="inner")
    ov = ov[ov["resident_share"] > 0]
    hh = (ov["households"] * ov["resident_share"]).groupby(ov["grid_id"]).sum()
    res = (ov["residents"] * ov["resident_share"]).groupby(ov["grid_id"]).sum()
    ncomp = ov.groupby("grid_id")["compound_id"].nunique()
    t = pd.DataFrame({"grid_id": grids["grid_id"].astype(int).to_numpy()})
    for col in ("name", "community", "street"):
        t[col] = grids[col].to_numpy() if col in grids else None
    t["households"] = t["grid_id"].map(hh).fillna(0.0).astype(float)
    t["residents"] = t["grid_id"].map(res).fillna(0.0).astype(float)
    t["compounds"] = t["grid_id"].map(ncomp).fillna(0).astype(int)
    s, e, months = _window(cases, start, end)
    gid = assign_cases(cases, grids)
    inside = cases.assign(grid_id=gid).dropna(subset=["grid_id"])
    counts = inside.groupby("grid_id").size()
    t["cases"] = t["grid_id"].map(counts).fillna(0).astype(int)
    t["cases_per_month"] = t["cases"] / months if months > 0 else 0.0
    cats = tuple(sorted(str(c) for c in cases["category"].unique())) if len(cases) else ()
    for cat in cats:
        n = inside[inside["category"] == cat].groupby("grid_id").size()
        t[f"cases_per_month_{cat}"] = t["grid_id"].map(n).fillna(0) / months
    closed = inside.dropna(subset=["closed_at"])
    hours = (closed["closed_at"] - closed["reported_at"]).dt.total_seconds() / 3600.0
    med = hours.groupby(closed["grid_id"]).median()
    t["median_closure_h"] = t["grid_id"].map(med).astype(float)
    t["workload_index"] = workload_index(t["households"].to_numpy(),
                                         t["cases_per_month"].to_numpy(dtype=float),
                                         household_weight=household_weight)
    return GridWorkload(t, s, e, months, cats)


def workload_index(households: np.ndarray, cases_per_month: np.ndarray, *,
                   household_weight: float = DEFAULT_HOUSEHOLD_WEIGHT) -> np.ndarray:
    """``W = α·H/H̄ + (1−α)·C/C̄`` per grid (a term with mean 0 is dropped)."""
    h_mean = float(np.mean(households)) if len(households) else 0.0
    c_mean = float(np.mean(cases_per_month)) if len(cases_per_month) else 0.0
    a = household_weight
    if h_mean <= 0 and c_mean <= 0:
        return np.zeros(len(households))
    if c_mean <= 0:
        return np.asarray(households, dtype=float) / h_mean
    if h_mean <= 0:
        return np.asarray(cases_per_month, dtype=float) / c_mean
    return a * np.asarray(households) / h_mean + (1 - a) * np.asarray(cases_per_month) / c_mean


def cv(values: np.ndarray) -> float:
    """Coefficient of variation ``σ/μ`` (population σ); 0 for fewer than two values or μ=0."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2 or float(v.mean()) == 0.0:
        return 0.0
    return float(v.std() / v.mean())


def imbalance(table: pd.DataFrame, *, by: str, lower: float, upper: float) -> pd.DataFrame:
    """Imbalance of the grids of each ``by`` group (``"community"`` or ``"street"``):
    ``grids``, ``mean_households``, ``cv_households``, ``cv_workload``, ``outside_range``
    (count) and ``share_outside`` (households outside ``[lower, upper]``)."""
    if lower > upper:
        raise InvalidInputError("the household range is empty",
                                [Problem(f"lower {lower} > upper {upper}", field="lower")])
    rows = []
    for key, g in table.groupby(by, dropna=False, sort=True):
        h = g["households"].to_numpy(dtype=float)
        out = int(((h < lower) | (h > upper)).sum())
        rows.append({by: key, "grids": len(g), "households": float(h.sum()),
                     "mean_households": float(h.mean()), "cv_households": cv(h),
                     "cv_workload": cv(g["workload_index"].to_numpy(dtype=float))
                     if "workload_index" in g else None,
                     "outside_range": out, "share_outside": out / len(g)})
    return pd.DataFrame(rows)
