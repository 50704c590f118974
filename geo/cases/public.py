"""Public case figures: the rule of :mod:`geo.cases.privacy` applied to hexagons, grids, trends
and density. The API's public answers and the public columns of stored runs both come
from here, so the map layers and the endpoints agree.

Every function takes the cases of a public window (:func:`geo.cases.privacy.public_window`),
all categories, following the cases contract of :mod:`geo.cases`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.cases.counts import CASE_COLUMNS, cell_ids, cell_polygons, point_cells
from geo.cases.hotspots import kde_surface
from geo.cases.privacy import (
    month_keys,
    public_closure_figures,
    public_density,
    public_unit_counts,
    release_atoms,
    released_cases,
)
from geo.cases.stats import (
    CLOSURE_COLUMNS,
    DEFAULT_OVERDUE_HOURS,
    assign_grids,
    grid_closure_table,
    monthly_trend,
)


def no_cases() -> gpd.GeoDataFrame:
    """An empty cases frame (the answer to a window with nothing public yet)."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in CASE_COLUMNS})
    for c in ("reported_at", "closed_at"):
        df[c] = pd.Series(dtype="datetime64[ns, UTC]")
    df["satisfaction"] = pd.Series(dtype=float)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def public_hex_counts(cases: gpd.GeoDataFrame, *, resolution: int,
                      min_count: int) -> gpd.GeoDataFrame:
    """Released cases per H3 cell: ``h3``, ``n_cases`` (Int64, NA when withheld),
    ``suppressed``, ``partial`` and the hexagon (EPSG:4326); cells without cases left out."""
    cells = point_cells(cases, resolution)
    ok = released_cases(cells, month_keys(cases["reported_at"]), min_count=min_count)
    counts = public_unit_counts(pd.Series(cells, dtype="int64"),
                                pd.Series(cells[ok], dtype="int64"))
    ints = counts.index.to_numpy(dtype=np.int64)
    return gpd.GeoDataFrame({"h3": cell_ids(ints), "n_cases": counts["n_cases"].to_numpy(),
                             "suppressed": counts["suppressed"].to_numpy(),
                             "partial": counts["partial"].to_numpy()},
                            geometry=cell_polygons(ints), crs=4326)


def public_grid_table(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, as_of: datetime,
                      min_count: int,
                      overdue_hours: float = DEFAULT_OVERDUE_HOURS) -> pd.DataFrame:
    """Closure figures per grid from released cases (``CLOSURE_COLUMNS`` + ``suppressed``,
    ``partial``); withheld figures are None. Open cases are judged at ``as_of``."""
    grid_of = assign_grids(cases, grids)
    ok = released_cases(grid_of, month_keys(cases["reported_at"]), min_count=min_count)
    table = grid_closure_table(cases.loc[ok], grids, as_of=as_of,
                               overdue_hours=overdue_hours).table
    counts = public_unit_counts(grid_of, grid_of.loc[ok]).reindex(table["grid_id"])
    out = public_closure_figures(table, min_count=min_count)
    none = counts["suppressed"].fillna(False).to_numpy(dtype=bool)
    figures = [c for c in CLOSURE_COLUMNS if c not in ("grid_id", "name", "residents")]
    out.loc[none, figures] = None
    out["suppressed"] = out["suppressed"].to_numpy(dtype=bool) | none
    out["partial"] = counts["partial"].fillna(False).to_numpy(dtype=bool)
    return out


def public_trend(cases: gpd.GeoDataFrame, *, by: Literal["category", "grid"] = "category",
                 grids: gpd.GeoDataFrame | None = None, start: datetime | None = None,
                 end: datetime | None = None, min_count: int,
                 categories: Iterable[str] | None = None) -> pd.DataFrame:
    """Cases per calendar month and category or grid, released per month
    (:func:`geo.cases.privacy.release_atoms`): ``month``, ``key``, ``n_cases`` (None when
    withheld), ``suppressed``. ``categories`` only selects rows of the category trend."""
    out = monthly_trend(cases, by=by, grids=grids, start=start, end=end)
    months = out["month"].to_numpy(dtype=object)
    keys = out["key"].to_numpy(dtype=object)
    n = out["n_cases"].to_numpy(dtype=np.int64)
    withheld = np.zeros(len(out), dtype=bool)
    if by == "grid" and len(out):
        # cases in no grid: a unit of each month that is never shown
        all_months = month_keys(cases["reported_at"])
        per_month = pd.Series(all_months).value_counts()
        in_grids = out.groupby("month")["n_cases"].sum()
        outside = per_month.reindex(in_grids.index, fill_value=0) - in_grids
        months = np.concatenate([months, in_grids.index.to_numpy(dtype=object)])
        keys = np.concatenate([keys, np.full(len(in_grids), "\x00none", dtype=object)])
        n = np.concatenate([n, outside.to_numpy(dtype=np.int64)])
        withheld = np.concatenate([withheld, np.ones(len(in_grids), dtype=bool)])
    ok = release_atoms(months, keys, n, min_count=min_count, withheld=withheld)[:len(out)]
    small = (out["n_cases"].to_numpy() > 0) & ~ok
    out = out.assign(n_cases=out["n_cases"].astype(object).where(~small, None),
                     suppressed=small)
    if by == "category" and categories is not None:
        out = out.loc[out["key"].isin(list(categories))].reset_index(drop=True)
    return out


def public_density_cells(cases: gpd.GeoDataFrame, cells: np.ndarray | list[str], *,
                         resolution: int, epsg: int, bandwidth_m: float,
                         min_count: int) -> gpd.GeoDataFrame:
    """Kernel density (cases per km²) of released cases (cell-months at ``resolution``) at
    the centres of ``cells``: ``h3``, ``density_per_km2`` (NaN where fewer than
    ``min_count`` released cases lie within two bandwidths), hexagon."""
    own = point_cells(cases, resolution)
    ok = released_cases(own, month_keys(cases["reported_at"]), min_count=min_count)
    surface = kde_surface(cases.loc[ok], cells, epsg=epsg, bandwidth_m=bandwidth_m).cells
    return surface.assign(density_per_km2=public_density(
        surface["density_per_km2"].to_numpy(), surface["n_near"].to_numpy(),
        min_count=min_count))[["h3", "density_per_km2", "geometry"]]



def public_month_totals(counts: pd.Series, *, min_count: int | None) -> pd.DataFrame:
    """Cases per calendar month over all categories, every month from the first to the last
    month of ``counts`` (index 'YYYY-MM', months without cases may be absent; zeros are
    filled in): ``month``, ``n_cases`` (None when withheld), ``suppressed``.

    ``min_count=None`` gives exact counts (analysts); otherwise the city-month is the unit
    of release of :func:`geo.cases.privacy.release_atoms` (a month of 1 … ``min_count``-1
    cases shows no figure, as in the public trend). Zero months are never withheld.
    """
    counts = counts[counts > 0]
    if counts.empty:
        return pd.DataFrame({"month": pd.Series(dtype=object), "n_cases": pd.Series(dtype=object),
                             "suppressed": pd.Series(dtype=bool)})
    span = pd.period_range(min(counts.index), max(counts.index), freq="M").strftime("%Y-%m")
    n = counts.reindex(list(span), fill_value=0).to_numpy(dtype=np.int64)
    months = np.asarray(list(span), dtype=object)
    if min_count is None:
        shown = np.ones(len(n), dtype=bool)
    else:
        shown = release_atoms(months, np.full(len(n), "city", dtype=object), n,
                              min_count=min_count)
    small = (n > 0) & ~shown
    shown_n = pd.Series([None if s else int(v) for v, s in zip(n, small, strict=True)],
                        dtype=object)
    return pd.DataFrame({"month": months, "n_cases": shown_n, "suppressed": small})
