"""Validation of courier demand inputs: rider-demand points and per-compound estimates.

Same rules as the feature imports (:mod:`geo.io.validate`): every problem is collected with
its row (numbered from 1 in file order) and field, then raised once as
:class:`InvalidInputError`; coordinates must be lon/lat inside the city's bounds (swapped
lon/lat is recognised); ids must be present and unique.

* **Demand points** (骑手需求点): ``external_id``, ``weight`` (orders or parcels a day,
  ≥ 0; default 1 when the column is absent) and a Point.
* **Compound demand** (小区日均件量/单量): ``compound`` (the compound's external id) and
  ``demand`` (≥ 0); no geometry needed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs.utm import WGS84
from geo.errors import CRSError, Hint, InvalidInputError, Problem
from geo.io.validate import COLUMN_ALIASES, _blank, _coordinates, _ids, _number, check_ids

#: Column names accepted for the weight of a demand point / the demand of a compound.
WEIGHT_ALIASES = ("weight", "orders", "parcels", "demand", "权重", "单量", "订单量", "件量",
                  "日均单量", "日均件量", "需求")
COMPOUND_ALIASES = ("compound", "compound_id", "compound_external_id", "external_id", "id",
                    "小区", "小区编号", "小区编码")


def _rename(df: pd.DataFrame, target: str, aliases: tuple[str, ...]) -> pd.DataFrame:
    if target in df.columns:
        return df
    lower = {str(c).strip().lower(): c for c in df.columns}
    for a in aliases:
        if a.lower() in lower:
            return df.rename(columns={lower[a.lower()]: target})
    return df


def _weights(values: list[Any], name: str, problems: list[Problem]) -> list[float | None]:
    out: list[float | None] = []
    for i, v in enumerate(values, start=1):
        x = None if _blank(v) else _number(v)
        if x is None:
            problems.append(Problem(f"{v!r} is not a number" if not _blank(v)
                                    else "required value is empty", row=i, field=name))
        elif x < 0:
            problems.append(Problem(f"{v!r} is out of range (must be ≥ 0)", row=i, field=name))
            x = None
        out.append(x)
    return out


def validate_demand_points(gdf: gpd.GeoDataFrame, *, bounds: BaseGeometry | None = None
                           ) -> gpd.GeoDataFrame:
    """Check rider-demand points (EPSG:4326); returns ``external_id, weight, geometry``."""
    if gdf.crs is None or gdf.crs.to_epsg() != WGS84:
        raise CRSError(f"demand points must be in EPSG:4326 before validation, got {gdf.crs}")
    gdf = _rename(gdf, "external_id", COLUMN_ALIASES["external_id"])
    gdf = _rename(gdf, "weight", WEIGHT_ALIASES)
    problems: list[Problem] = []
    ids = _ids(gdf, problems)
    weights = (_weights(gdf["weight"].tolist(), "weight", problems) if "weight" in gdf.columns
               else [1.0] * len(gdf))
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        problems.append(Problem("missing or empty geometry (or non-numeric coordinates)",
                                row=int(i) + 1, field="geometry"))
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(~missing & (types != 0)):
        problems.append(Problem(f"geometry is a {geoms[i].geom_type}; a demand point must "
                                "be a Point", row=int(i) + 1, field="geometry"))
    _coordinates(geoms, problems, bounds)
    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        raise InvalidInputError(f"{len(problems)} problem(s) in the demand points", problems)
    return gpd.GeoDataFrame({"external_id": ids, "weight": weights}, geometry=list(geoms),
                            crs=WGS84)


def validate_compound_demand(df: pd.DataFrame, *, compounds: Collection[str]) -> pd.DataFrame:
    """Check per-compound demand against the city's compound external ids.

    Returns ``compound`` (external id) and ``demand`` (float ≥ 0); a compound named twice,
    or not in ``compounds``, is a problem.
    """
    df = _rename(pd.DataFrame(df), "compound", COMPOUND_ALIASES)
    df = _rename(df, "demand", WEIGHT_ALIASES)
    problems: list[Problem] = [Problem(f"required column is missing (map yours to {c})",
                                       field=c, hint=Hint(option="map", value=f"yourcol={c}"))
                               for c in ("compound", "demand") if c not in df.columns]
    if problems:
        raise InvalidInputError("compound demand is incomplete", problems)
    ids = check_ids(df["compound"].tolist(), "compound", problems, known=set(compounds))
    demand = _weights(df["demand"].tolist(), "demand", problems)
    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        raise InvalidInputError(f"{len(problems)} problem(s) in the compound demand", problems)
    return pd.DataFrame({"compound": ids, "demand": demand})
