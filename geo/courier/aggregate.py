"""Aggregates of station–compound pairs: overlapping station pairs and grid reach.

Helpers of :func:`geo.courier.station_reach` (positions are the callers' row positions).
Overlap of two stations is the weight of the items (compounds or demand points) both
reach, from one sparse product ``Aᵀ·diag(w)·A``; grids take compounds by their resident
share (``grid_compound.resident_share``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix, triu

from geo.coverage.analysis import apportion
from geo.errors import InvalidInputError, Problem


def check_columns(gdf: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    """:class:`InvalidInputError` naming every column of ``cols`` missing from ``gdf``."""
    problems = [Problem(f"missing column in {what}", field=c) for c in cols
                if c not in gdf.columns]
    if problems:
        raise InvalidInputError(f"{what} are incomplete", problems)


def overlap_pairs(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n_items: int,
                  n_stations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Station pairs (a < b) sharing items: (a, b, shared weight, per-station total)."""
    a = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_items, n_stations))
    aw = csr_matrix((w[rows], (rows, cols)), shape=(n_items, n_stations))
    o = triu((a.T @ aw).tocsr(), k=1).tocoo()
    total = np.asarray(aw.sum(axis=0)).ravel()
    return o.row, o.col, o.data, total


def overlap_table(sid: np.ndarray, comp: tuple[np.ndarray, ...], dem: tuple[np.ndarray, ...],
                  threshold: float) -> pd.DataFrame:
    """One row per station pair sharing residents or demand (from :func:`overlap_pairs` of
    compounds by residents, ``comp``, and of the demand items by weight, ``dem``); shares
    are of each station's demand total; ``beyond`` = share ≥ ``threshold``."""
    ca, cb, cres, _ = comp
    keys = pd.MultiIndex.from_arrays([ca, cb])
    df = pd.DataFrame({"residents": cres}, index=keys)
    da, db, dval, dem_total = dem
    df = df.join(pd.Series(dval, index=pd.MultiIndex.from_arrays([da, db]), name="demand"),
                 how="outer").fillna(0.0)
    a = df.index.get_level_values(0).to_numpy()
    b = df.index.get_level_values(1).to_numpy()
    shared = df["demand"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share_a = np.where(dem_total[a] > 0, shared / dem_total[a], np.nan)
        share_b = np.where(dem_total[b] > 0, shared / dem_total[b], np.nan)
        union = dem_total[a] + dem_total[b] - shared
        jac = np.where(union > 0, shared / union, np.nan)
    share = np.fmax(share_a, share_b)  # = overlap / the smaller catchment
    out = pd.DataFrame({"station_a": sid[a], "station_b": sid[b], "a": a, "b": b,
                        "residents": df["residents"].to_numpy(), "demand": shared,
                        "share_a": share_a, "share_b": share_b, "share": share,
                        "jaccard": jac, "beyond": np.nan_to_num(share) >= threshold})
    out = out[(out["residents"] > 0) | (out["demand"] > 0)]
    return out.sort_values(["share", "demand"], ascending=False, kind="stable") \
        .reset_index(drop=True)


def grid_reach(links: pd.DataFrame | None, pairs: pd.DataFrame, comp: pd.DataFrame,
           sid: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Grid reach from compound reach and the grid-compound resident shares (whole
    people: :func:`geo.coverage.analysis.apportion`)."""
    gcols = ["grid_id", "residents", "residents_reached", "residents_unknown", "share_reached",
             "compounds",
             "compounds_reached", "n_stations", "reached"]
    if links is None or len(links) == 0:
        return (pd.DataFrame(columns=gcols), pd.DataFrame(columns=["station_id", "grid_id",
                                                                    "residents"]),
                np.zeros(len(sid), dtype=np.int64))
    check_columns(links, ("compound_id", "grid_id", "share"), "grid links")
    lk = links[["compound_id", "grid_id", "share"]].merge(
        comp[["compound_id", "residents", "n_stations", "snapped"]], on="compound_id", how="inner")
    # whole people: a compound split across grids by the largest-remainder rule
    lk["res"] = apportion(lk["residents"].to_numpy(dtype=np.int64),
                          lk["share"].to_numpy(dtype=float), lk["compound_id"].to_numpy(),
                          lk["grid_id"].to_numpy())
    lk["hit"] = lk["n_stations"] > 0
    lk["res_hit"] = np.where(lk["hit"], lk["res"], 0)
    lk["res_unknown"] = np.where(lk["snapped"], 0, lk["res"])
    sg = pairs[["station_id", "compound_id"]].merge(lk[["compound_id", "grid_id", "res"]],
                                                     on="compound_id")
    station_grids = sg.groupby(["station_id", "grid_id"], sort=True)["res"].sum() \
        .rename("residents").reset_index()
    n_st = sg.groupby("grid_id")["station_id"].nunique()
    g = lk.groupby("grid_id", sort=True).agg(
        residents=("res", "sum"), residents_reached=("res_hit", "sum"),
        residents_unknown=("res_unknown", "sum"),
        compounds=("compound_id", "nunique"), compounds_reached=("hit", "sum")).reset_index()
    known = g["residents"] - g["residents_unknown"]
    g["share_reached"] = np.where(known > 0, g["residents_reached"] / known.where(known > 0, 1),
                                  np.nan)
    g["n_stations"] = g["grid_id"].map(n_st).fillna(0).astype(int)
    g["compounds_reached"] = g["compounds_reached"].astype(int)
    g["reached"] = g["compounds_reached"] > 0
    per_station = station_grids.groupby("station_id")["grid_id"].nunique()
    n_grids = pd.Series(sid).map(per_station).fillna(0).astype(int).to_numpy()
    return g[gcols], station_grids, n_grids
