"""Disclosure control of public case figures: one threshold, one rule, one place.

Callers below the analyst role (anonymous, viewer keys) and the public columns of stored
case layers get *public* figures. With ``k = Settings.min_public_case_count`` (default 5):

1. **Whole calendar months.** A public window is widened to whole calendar months of
   China Standard Time (start rounded down, end rounded up to the 1st of a month, 00:00)
   and ends at the latest on the 1st of the current month: only complete months are
   public (:func:`public_window`). Windows that differ by a second, or by anything inside
   a month, give identical answers; report times are never resolved below a month, and
   polling the service shows new cases only once a month.
2. **Released unit-months.** The unit of release is a *spatial unit × calendar month*
   (hexagon, grid, or the whole city for the per-category trend). Within each month the
   units with 1 … k−1 cases are withheld, plus further units, smallest first, until the
   withheld ones hold at least k cases together (:func:`suppression_mask`), so the month's
   total minus the shown units never reveals fewer than k cases. A unit's public count
   over a window is the sum of its *released* months (:func:`released_cases`).

   Why months alone do not suffice: two month-aligned windows that differ by one month
   difference out that month's count of a hexagon, which may be one case (windows that
   differ by a day would pin it to the day). Because every public count is a sum of
   released unit-months of at least k cases each, two public counts of a unit from nested
   windows differ by 0 or by at least k cases; a unit whose months are all withheld shows
   no figure (``suppressed``), one with some withheld months is flagged ``partial``.
3. **Counts cover all categories.** Category sets S and S ∪ {c} would difference out
   category c in a cell, so public counts (hexagons, grids, per-grid trend, density) are
   over all categories; filtering them by category needs the analyst role. Per-category
   figures are public only as city-wide monthly trend rows, released per month across
   all categories (a category filter just selects rows). Hot-spot bins, which are classes
   and not counts, may be filtered by category.
4. **Parts of a grid's cases.** Closed/open, overdue/recent-open and rated/unrated split a
   grid's released cases (:data:`CLOSURE_SPLITS`); both parts of a split are shown only if
   each is 0 or at least k, otherwise both are withheld, and every figure computed from a
   part (closure rate and times from the closed cases, satisfaction from the rated ones) is
   shown only with that part (:data:`CLOSURE_FIGURES`). Open cases are judged at the window
   end with the standard overdue limit.
5. **Density** is computed from released cases only and shown at a cell only when at least
   k released cases lie within two bandwidths of it.

Residual risks, accepted: spatial units of different kinds (hexagons of two resolutions,
hexagons and grids) do not nest, so comparing them can narrow a withheld count down; a
changed sub-count between two windows says something about one of at least k released
cases of a unit-month, not which; Gi* bins are computed from every selected case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InvalidInputError, Problem

#: Months are calendar months of China Standard Time.
PUBLIC_TZ = "Asia/Shanghai"

#: Count → its two parts (``n_open_recent`` = open, not yet overdue; ``n_unrated`` =
#: without a satisfaction score). Parents come before their children.
CLOSURE_SPLITS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("n_cases", ("n_closed", "n_open")),
    ("n_cases", ("n_rated", "n_unrated")),
    ("n_open", ("n_overdue", "n_open_recent")),
)
#: Figure of a grid closure table → the count of cases it is computed from.
CLOSURE_FIGURES: dict[str, str] = {
    "n_cases": "n_cases", "per_1000_residents": "n_cases",
    "n_closed": "n_closed", "closure_rate": "n_closed", "median_closure_h": "n_closed",
    "p90_closure_h": "n_closed",
    "n_open": "n_open", "n_overdue": "n_overdue",
    "n_rated": "n_rated", "mean_satisfaction": "n_rated",
}


def _check_min_count(min_count: int) -> None:
    if min_count < 1:
        raise InvalidInputError("min_count must be at least 1",
                                [Problem(f"got {min_count}", field="min_count")])


def suppression_mask(counts: np.ndarray, *, min_count: int,
                     withheld: np.ndarray | None = None) -> np.ndarray:
    """Units of one partition to withhold: 1 … ``min_count``-1 cases, plus secondary ones.

    When any unit is withheld, further units (smallest first, ties in the given order) are
    withheld until the withheld units hold at least ``min_count`` cases together, so
    subtracting the shown units from a known total never reveals fewer than ``min_count``
    cases or a single unit's count. Zero-count units are never withheld (they reveal no
    case). ``withheld`` marks units that are never shown anyway (e.g. cases outside every
    grid); they count towards the withheld total.
    """
    _check_min_count(min_count)
    n = np.asarray(counts, dtype=np.int64)
    forced = (np.zeros(len(n), dtype=bool) if withheld is None
              else np.asarray(withheld, dtype=bool) & (n > 0))
    mask = ((n > 0) & (n < min_count)) | forced
    if mask.any():
        order = [i for i in np.argsort(n, kind="stable") if n[i] > 0 and not mask[i]]
        total = int(n[mask].sum())
        for i in order:
            if total >= min_count:
                break
            mask[i] = True
            total += int(n[i])
    return mask


@dataclass(frozen=True)
class Suppressed:
    """Public view of counts: units below ``min_count`` shown without their count.

    ``frame`` has ``n_cases`` as nullable Int64 (NA when suppressed) and ``suppressed``;
    ``shown_total`` sums only the shown units, so suppressed counts cannot be derived
    from a total.
    """

    frame: pd.DataFrame
    min_count: int
    shown_total: int
    suppressed_cells: int


def suppress_counts(frame: pd.DataFrame, *, min_count: int,
                    columns: Iterable[str] = ("n_cases",)) -> Suppressed:
    """Suppress spatial units with fewer than ``min_count`` cases (first of ``columns``).

    One partition, no time dimension (see :func:`released_cases` for windows). Units with
    zero cases are dropped; suppressed units (:func:`suppression_mask`) keep their row but
    all count ``columns`` become NA and ``suppressed`` is True.
    """
    cols = list(columns)
    out = frame.loc[frame[cols[0]] > 0].copy()
    small = suppression_mask(out[cols[0]].to_numpy(), min_count=min_count)
    for c in cols:
        out[c] = out[c].astype("Int64")
        out.loc[small, c] = pd.NA
    out["suppressed"] = small
    shown = int(out.loc[~small, cols[0]].sum())
    return Suppressed(frame=out, min_count=min_count, shown_total=shown,
                      suppressed_cells=int(small.sum()))


# --- time: whole calendar months -------------------------------------------------------

def month_floor(t: datetime, tz: str = PUBLIC_TZ) -> datetime:
    """The 1st of ``t``'s calendar month in ``tz``, 00:00 (tz-aware)."""
    ts = pd.Timestamp(t).tz_convert(tz)
    out: datetime = ts.normalize().replace(day=1).to_pydatetime()
    return out


def month_ceil(t: datetime, tz: str = PUBLIC_TZ) -> datetime:
    """``t`` if it is the start of a month in ``tz``, else the start of the next month."""
    lo = month_floor(t, tz)
    if pd.Timestamp(lo) == pd.Timestamp(t):
        return lo
    out: datetime = (pd.Timestamp(lo) + pd.DateOffset(months=1)).to_pydatetime()
    return out


@dataclass(frozen=True)
class PublicWindow:
    """A window widened to whole calendar months (China Standard Time), ``[start, end)``.

    ``start`` None = from the first case; ``end`` is never after the 1st of the current
    month. ``empty`` when nothing of the requested window is public yet.
    """

    start: datetime | None
    end: datetime
    requested_start: datetime | None
    requested_end: datetime | None

    @property
    def empty(self) -> bool:
        return self.start is not None and not self.start < self.end

    def meta(self) -> dict[str, Any]:
        """Effective and requested bounds (ISO 8601) for response metadata."""
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()
        return {"start": iso(self.start), "end": iso(self.end),
                "requested_start": iso(self.requested_start),
                "requested_end": iso(self.requested_end),
                "time_granularity": "calendar month (China Standard Time), complete months "
                                    "only"}


def public_window(start: datetime | None, end: datetime | None, *,
                  now: datetime) -> PublicWindow:
    """Widen ``[start, end)`` to whole months, ending at the latest at ``now``'s month start.

    Bounds must be tz-aware (see :func:`geo.cases.check_window`).
    """
    cap = month_floor(now)
    s = month_floor(start) if start is not None else None
    e = cap if end is None else min(month_ceil(end), cap)
    return PublicWindow(start=s, end=e, requested_start=start, requested_end=end)


def month_keys(times: pd.Series, tz: str = PUBLIC_TZ) -> np.ndarray:
    """Calendar month ('YYYY-MM' in ``tz``) of tz-aware timestamps."""
    return np.asarray(times.dt.tz_convert(tz).dt.strftime("%Y-%m").to_numpy(), dtype=object)


# --- space × time: released unit-months ------------------------------------------------

def release_atoms(months: np.ndarray, units: np.ndarray, counts: np.ndarray, *,
                  min_count: int, withheld: np.ndarray | None = None) -> np.ndarray:
    """Which unit-months (one row each) are released: per month, :func:`suppression_mask`.

    Rows are ranked in a canonical order (month, then unit) first, so the decision depends
    only on the data, never on how the caller ordered it. ``withheld`` marks rows that are
    never shown (e.g. cases outside every grid).
    """
    n = len(counts)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    frame = pd.DataFrame({"m": np.asarray(months, dtype=object),
                          "u": pd.Series(np.asarray(units, dtype=object)).astype(str).to_numpy(),
                          "n": np.asarray(counts, dtype=np.int64),
                          "w": (np.zeros(n, dtype=bool) if withheld is None
                                else np.asarray(withheld, dtype=bool))})
    frame = frame.sort_values(["m", "u"], kind="stable")
    for _, part in frame.groupby("m", sort=False):
        hidden = suppression_mask(part["n"].to_numpy(), min_count=min_count,
                                  withheld=part["w"].to_numpy())
        out[part.index.to_numpy()] = ~hidden & (part["n"].to_numpy() > 0)
    return out


def released_cases(units: pd.Series | np.ndarray, months: np.ndarray, *,
                   min_count: int) -> np.ndarray:
    """Per case: whether its unit-month is released (:func:`release_atoms`).

    ``units`` holds each case's spatial unit (NA = in no unit: counted towards the month's
    withheld cases, never released); ``months`` its calendar month (:func:`month_keys`).
    """
    u = pd.Series(np.asarray(units, dtype=object))
    missing = u.isna().to_numpy()
    key = u.astype(str).where(~missing, "\x00none").to_numpy()
    df = pd.DataFrame({"m": np.asarray(months, dtype=object), "u": key})
    atoms = df.groupby(["m", "u"], sort=True).size().rename("n").reset_index()
    ok = release_atoms(atoms["m"].to_numpy(), atoms["u"].to_numpy(), atoms["n"].to_numpy(),
                       min_count=min_count,
                       withheld=(atoms["u"] == "\x00none").to_numpy())
    atoms["ok"] = ok
    merged = df.merge(atoms[["m", "u", "ok"]], on=["m", "u"], how="left", sort=False)
    return merged["ok"].to_numpy(dtype=bool)


def public_unit_counts(all_units: pd.Series, released_units: pd.Series) -> pd.DataFrame:
    """Public counts per unit from each case's unit (all cases, released cases).

    Returns index = unit, ``n_cases`` (nullable Int64: released cases, NA when every case
    of the unit is withheld), ``suppressed`` (no figure shown) and ``partial`` (some
    months withheld). Units without cases are left out.
    """
    total = all_units.dropna().value_counts()
    shown = released_units.dropna().value_counts().reindex(total.index, fill_value=0)
    out = pd.DataFrame({"n_cases": shown.astype("Int64")}, index=total.index)
    out["suppressed"] = (shown == 0).to_numpy()
    out["partial"] = ((shown > 0) & (shown < total)).to_numpy()
    out.loc[out["suppressed"], "n_cases"] = pd.NA
    return out.sort_index()


# --- parts of a grid's cases -----------------------------------------------------------

def public_closure_figures(table: pd.DataFrame, *, min_count: int) -> pd.DataFrame:
    """A closure table with the figures of withheld units and withheld parts removed.

    Units (rows) with 1 … ``min_count``-1 cases, plus secondary ones (one partition over
    the rows), lose every figure (``suppressed``). In the other rows each split of
    :data:`CLOSURE_SPLITS` is shown only if both parts are 0 or ≥ ``min_count``; figures
    (:data:`CLOSURE_FIGURES`) of a withheld count become None. Other columns are kept.
    """
    out = table.copy()
    counts = {"n_cases": out["n_cases"].to_numpy(dtype=np.int64),
              "n_closed": out["n_closed"].to_numpy(dtype=np.int64),
              "n_open": out["n_open"].to_numpy(dtype=np.int64),
              "n_overdue": out["n_overdue"].to_numpy(dtype=np.int64),
              "n_rated": out["n_rated"].to_numpy(dtype=np.int64)}
    counts["n_open_recent"] = counts["n_open"] - counts["n_overdue"]
    counts["n_unrated"] = counts["n_cases"] - counts["n_rated"]
    hidden = {"n_cases": suppression_mask(counts["n_cases"], min_count=min_count)}
    for parent, (a, b) in CLOSURE_SPLITS:
        ha = hidden[parent].copy()
        hb = hidden[parent].copy()
        for i in np.flatnonzero(~hidden[parent]):
            pair = suppression_mask(np.array([counts[a][i], counts[b][i]]), min_count=min_count)
            ha[i], hb[i] = bool(pair[0]), bool(pair[1])
        hidden[a], hidden[b] = ha, hb
    figures = [f for f in CLOSURE_FIGURES if f in out.columns]
    out[figures] = out[figures].astype(object)
    for f in figures:
        out.loc[hidden[CLOSURE_FIGURES[f]], f] = None
    out["suppressed"] = hidden["n_cases"]
    return out


# --- density ---------------------------------------------------------------------------

def public_density(density: np.ndarray, n_near: np.ndarray, *, min_count: int) -> np.ndarray:
    """Density values (float) with NaN where fewer than ``min_count`` cases lie near."""
    _check_min_count(min_count)
    d = np.asarray(density, dtype=float).copy()
    d[np.asarray(n_near) < min_count] = np.nan
    return d
