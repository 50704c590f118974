"""Per-grid case statistics (closure rate 办结率, closure times, overdue cases) and trends.

Inputs follow the cases contract of :mod:`geo.cases`; *grids* is a GeoDataFrame (EPSG:4326)
with ``grid_id``, ``name``, ``residents`` and the grid polygon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.cases.counts import validate_cases
from geo.cases.privacy import public_closure_figures
from geo.crs.utm import require_wgs84
from geo.errors import InvalidInputError, Problem

#: Default limit after which an open case counts as overdue (hours).
DEFAULT_OVERDUE_HOURS = 72.0
#: Months are calendar months of China Standard Time unless told otherwise.
DEFAULT_TZ = "Asia/Shanghai"
GRID_COLUMNS = ("grid_id", "name", "residents")
CLOSURE_COLUMNS = ["grid_id", "name", "residents", "n_cases", "per_1000_residents", "n_closed",
                   "closure_rate", "median_closure_h", "p90_closure_h", "n_open", "n_overdue",
                   "mean_satisfaction", "n_rated"]


def _validate_grids(grids: gpd.GeoDataFrame) -> None:
    require_wgs84(grids, "grids")
    missing = [Problem(f"missing column {c!r}", field=c) for c in GRID_COLUMNS
               if c not in grids.columns]
    if missing:
        raise InvalidInputError("grids do not have the expected columns", missing)


def assign_grids(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """``grid_id`` of the grid containing each case (NA outside every grid).

    A point on a shared boundary goes to the grid with the smallest ``grid_id``.
    """
    _validate_grids(grids)
    require_wgs84(cases, "cases")
    pts = gpd.GeoDataFrame(geometry=cases.geometry.reset_index(drop=True), crs=4326)
    joined = gpd.sjoin(pts, grids[["grid_id", "geometry"]], how="left", predicate="intersects")
    joined = joined.sort_values("grid_id").groupby(level=0)["grid_id"].first()
    out = joined.reindex(range(len(cases)))
    out.index = cases.index
    return out.astype("Int64")


@dataclass(frozen=True)
class GridCaseStats:
    """Per-grid closure statistics and the cases that lie in no grid.

    ``table`` has one row per grid (all grids, also those without cases) with the columns
    of ``CLOSURE_COLUMNS``: closure times in hours, rates per 1,000 residents,
    ``closure_rate`` in [0, 1], ``mean_satisfaction`` on the 1–5 scale over the
    ``n_rated`` cases with a score.
    """

    table: pd.DataFrame
    unassigned_case_ids: tuple[str, ...]
    as_of: datetime
    overdue_hours: float


def grid_closure_table(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, as_of: datetime,
                       overdue_hours: float = DEFAULT_OVERDUE_HOURS) -> GridCaseStats:
    """Closure rate, median/90th-percentile closure time and overdue open cases per grid.

    Parameters
    ----------
    as_of
        Time (tz-aware) at which open cases are judged; cases still open and reported more
        than ``overdue_hours`` before it are overdue.
    overdue_hours
        Limit for open cases, in hours.
    """
    validate_cases(cases)
    if as_of.tzinfo is None:
        raise InvalidInputError("as_of must carry a time zone", [Problem("naive", field="as_of")])
    if not overdue_hours > 0:
        raise InvalidInputError("overdue_hours must be positive",
                                [Problem(f"got {overdue_hours}", field="overdue_hours")])
    grid_of = assign_grids(cases, grids)
    unassigned = tuple(str(x) for x in cases.loc[grid_of.isna().to_numpy(), "case_id"])
    df = pd.DataFrame({
        "grid_id": grid_of.to_numpy(),
        "closed": (cases["status"] == "closed").to_numpy(),
        "hours": ((cases["closed_at"] - cases["reported_at"]).dt.total_seconds() / 3600).to_numpy(),
        "age_h": ((pd.Timestamp(as_of) - cases["reported_at"]).dt.total_seconds() / 3600)
        .to_numpy(),
        "satisfaction": pd.to_numeric(cases["satisfaction"], errors="coerce").to_numpy(),
    }).dropna(subset=["grid_id"])
    df["overdue"] = ~df["closed"] & (df["age_h"] > overdue_hours)
    g = df.groupby("grid_id")
    closed_h = df.loc[df["closed"]].groupby("grid_id")["hours"]
    stats = pd.DataFrame({
        "n_cases": g.size(),
        "n_closed": g["closed"].sum(),
        "n_overdue": g["overdue"].sum(),
        "mean_satisfaction": g["satisfaction"].mean(),
        "n_rated": g["satisfaction"].count(),
    }).join(pd.DataFrame({"median_closure_h": closed_h.median(),
                          "p90_closure_h": closed_h.quantile(0.9)}))
    table = pd.DataFrame(grids[list(GRID_COLUMNS)]).set_index("grid_id").join(stats)
    for c in ("n_cases", "n_closed", "n_overdue", "n_rated"):
        table[c] = table[c].fillna(0).astype(np.int64)
    table["n_open"] = table["n_cases"] - table["n_closed"]
    with np.errstate(divide="ignore", invalid="ignore"):
        res = table["residents"].astype(float)
        table["per_1000_residents"] = np.where(res > 0, table["n_cases"] * 1000.0 / res, np.nan)
        table["closure_rate"] = np.where(table["n_cases"] > 0,
                                         table["n_closed"] / table["n_cases"], np.nan)
    table = table.reset_index()[CLOSURE_COLUMNS].sort_values("grid_id", ignore_index=True)
    return GridCaseStats(table=table, unassigned_case_ids=unassigned, as_of=as_of,
                         overdue_hours=float(overdue_hours))


def public_closure_table(table: pd.DataFrame, *, min_count: int) -> pd.DataFrame:
    """The closure table with the figures of small grids and small parts removed.

    Grids with 1 … ``min_count``-1 cases, and secondary grids so that the hidden grids hold
    at least ``min_count`` cases together, keep their row (name, residents) but all case
    figures become None and ``suppressed`` is True; zero-case grids show zeros. In shown
    grids, closed/open, overdue and rated cases below the minimum are withheld with
    their complement (:func:`geo.cases.privacy.public_closure_figures`).
    """
    return public_closure_figures(table, min_count=min_count)


def monthly_trend(cases: gpd.GeoDataFrame, *, by: Literal["category", "grid"] = "category",
                  grids: gpd.GeoDataFrame | None = None, tz: str = DEFAULT_TZ,
                  start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """Cases per calendar month (in ``tz``) and category or grid, zeros included.

    Returns a long table ``month`` ('YYYY-MM'), ``key`` (category code or grid_id),
    ``n_cases``. Months run from ``start`` (or the first case) to the month before ``end``
    (or the last case's month). ``by="grid"`` needs ``grids``; cases in no grid are left out
    of the grid trend (see :func:`grid_closure_table` for them).
    """
    validate_cases(cases)
    if by not in ("category", "grid"):
        raise InvalidInputError("by must be 'category' or 'grid'", [Problem(by, field="by")])
    months = cases["reported_at"].dt.tz_convert(tz).dt.strftime("%Y-%m")
    if by == "category":
        keys = pd.Series(cases["category"].to_numpy(), index=cases.index)
        all_keys = sorted(keys.unique())
    else:
        if grids is None:
            raise InvalidInputError("a grid trend needs grids", [Problem("missing", field="grids")])
        keys = assign_grids(cases, grids)
        all_keys = sorted(int(x) for x in grids["grid_id"])
    df = pd.DataFrame({"month": months.to_numpy(), "key": keys.to_numpy()}).dropna()
    lo = _month(start, tz) if start is not None else (df["month"].min() if len(df) else None)
    if end is not None:
        hi = (pd.Timestamp(end).tz_convert(tz) - pd.Timedelta(microseconds=1)).strftime("%Y-%m")
    else:
        hi = df["month"].max() if len(df) else None
    if lo is None or hi is None:
        return pd.DataFrame({"month": [], "key": [], "n_cases": []})
    span = pd.period_range(lo, hi, freq="M").strftime("%Y-%m")
    counts = df.groupby(["month", "key"]).size()
    full = pd.MultiIndex.from_product([list(span), all_keys], names=["month", "key"])
    out = counts.reindex(full, fill_value=0).rename("n_cases").reset_index()
    out["n_cases"] = out["n_cases"].astype(np.int64)
    return out


def _month(t: datetime, tz: str) -> str:
    return str(pd.Timestamp(t).tz_convert(tz).strftime("%Y-%m"))
