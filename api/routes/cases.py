"""Grid-case aggregates: hexagon counts, per-grid closure, trends, hot spots, raw points.

Everything except ``/points`` is aggregated. Callers below the analyst role (anonymous or
viewer keys) get public output: spatial units (hexagons, grids, months) with fewer than
``settings.min_public_case_count`` cases are shown without figures, totals only add up
shown units, and hot-spot statistics are reduced to their confidence bin. Raw case points
need the analyst role (401 without a key, 403 for a viewer key).

Windows are half-open ``[start, end)`` on the report time; ``start``/``end`` are ISO dates
or date-times, read in China Standard Time (UTC+8) when they carry no offset.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from api.auth import User, require_role
from api.deps import ConnDep, CurrentUser, SettingsDep, sees_personal
from geo.cases.counts import (
    CaseIndex,
    check_window,
    counts_frame,
    suppress_counts,
    suppression_mask,
)
from geo.cases.hotspots import CONFIDENCE_LEVELS, compare_periods, hotspots_for_cases, kde_surface
from geo.cases.stats import DEFAULT_TZ, grid_closure_table, monthly_trend, public_closure_table
from geo.errors import InvalidInputError, Problem
from geo.store.cases import read_cases, read_grids, study_area
from geo.store.cities import get_city

router = APIRouter(prefix="/cities/{city}/cases", tags=["cases"])

GEOJSON = "application/geo+json"
Categories = Annotated[str | None, Query(
    description="Comma-separated category codes (default: all), e.g. sanitation,dispute")]
Start = Annotated[str | None, Query(description="Window start, inclusive (ISO date/time)")]
End = Annotated[str | None, Query(description="Window end, exclusive (ISO date/time)")]
Resolution = Annotated[int, Query(ge=6, le=10, description="H3 resolution (8 ≈ grid, "
                                                           "9 ≈ compound)")]
Area = Annotated[Literal["grids", "city"], Query(
    description="Study area: the union of the grids (default) or the city bounds")]
BIN_LABELS = {3: ("热点（99%置信）", "Hot spot, 99 % confidence"),
              2: ("热点（95%置信）", "Hot spot, 95 % confidence"),
              1: ("热点（90%置信）", "Hot spot, 90 % confidence"),
              0: ("不显著", "Not significant"),
              -1: ("冷点（90%置信）", "Cold spot, 90 % confidence"),
              -2: ("冷点（95%置信）", "Cold spot, 95 % confidence"),
              -3: ("冷点（99%置信）", "Cold spot, 99 % confidence")}


def parse_time(value: str | None, field: str) -> datetime | None:
    """An ISO date/time; without an offset it is China Standard Time."""
    if value is None or value == "":
        return None
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InvalidInputError("invalid time", [Problem(
            f"{value!r} is not an ISO date or date-time", field=field)]) from None
    if t is pd.NaT:
        raise InvalidInputError("invalid time", [Problem("empty", field=field)])
    if t.tzinfo is None:
        t = t.tz_localize(DEFAULT_TZ)
    out: datetime = t.to_pydatetime()
    return out


def parse_categories(value: str | None) -> list[str] | None:
    if value is None or value.strip() == "":
        return None
    return [c.strip() for c in value.split(",") if c.strip()]


def _window(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    s, e = parse_time(start, "start"), parse_time(end, "end")
    check_window(s, e)
    return s, e


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def _features(frame: gpd.GeoDataFrame, columns: list[str]) -> list[dict[str, Any]]:
    geoms = frame.geometry.__geo_interface__["features"]
    out = []
    for i, (_, row) in enumerate(frame[columns].iterrows()):
        out.append({"type": "Feature", "geometry": geoms[i]["geometry"],
                    "properties": {c: _clean(row[c]) for c in columns}})
    return out


def _geojson(features: list[dict[str, Any]], meta: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"type": "FeatureCollection", "features": features, "meta": meta},
                        media_type=GEOJSON)


def _meta(user: User, settings: Any, **extra: Any) -> dict[str, Any]:
    return {"access": "analyst" if sees_personal(user) else "public",
            "min_public_case_count": settings.min_public_case_count,
            "window": "[start, end)", **{k: _clean(v) if not isinstance(v, datetime)
                                         else v.isoformat() for k, v in extra.items()}}


@router.get("/hexes")
def hex_counts(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: str,
               categories: Categories = None, start: Start = None, end: End = None,
               resolution: Resolution = 8) -> JSONResponse:
    """Cases per H3 hexagon for a category set and window (GeoJSON, EPSG:4326)."""
    c = get_city(conn, city)
    s, e = _window(start, end)
    cases = read_cases(conn, c.id, categories=parse_categories(categories), start=s, end=e)
    frame = counts_frame(CaseIndex.from_cases(cases, resolution=resolution).counts())
    meta = _meta(user, settings, city=c.code, resolution=resolution, categories=categories,
                 start=s, end=e)
    if sees_personal(user):
        frame["suppressed"] = False
        meta |= {"total": int(frame["n_cases"].sum()), "suppressed_cells": 0}
        return _geojson(_features(frame, ["h3", "n_cases", "suppressed"]), meta)
    pub = suppress_counts(frame, min_count=settings.min_public_case_count)
    meta |= {"shown_total": pub.shown_total, "suppressed_cells": pub.suppressed_cells}
    return _geojson(_features(gpd.GeoDataFrame(pub.frame, geometry="geometry", crs=4326),
                              ["h3", "n_cases", "suppressed"]), meta)


@router.get("/grids", response_model=None)
def grid_closure(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: str,
                 categories: Categories = None, start: Start = None, end: End = None,
                 as_of: Annotated[str | None, Query(description="Time open cases are judged "
                                                    "at (default: window end, else now)")] = None,
                 overdue_hours: Annotated[float, Query(gt=0, le=8760)] = 72.0,
                 format: Literal["json", "csv"] = "json") -> Response:
    """Per grid: cases, rate per 1,000 residents, closure rate (办结率), median and 90th
    percentile closure time (hours), open and overdue cases, mean satisfaction."""
    c = get_city(conn, city)
    s, e = _window(start, end)
    when = parse_time(as_of, "as_of") or e or pd.Timestamp.now(tz="UTC").to_pydatetime()
    cases = read_cases(conn, c.id, categories=parse_categories(categories), start=s, end=e)
    grids = read_grids(conn, c.id)
    stats = grid_closure_table(cases, grids, as_of=when, overdue_hours=overdue_hours)
    table = stats.table.merge(grids[["grid_id", "external_id"]], on="grid_id")
    personal = sees_personal(user)
    if not personal:
        table = public_closure_table(table, min_count=settings.min_public_case_count)
    else:
        table["suppressed"] = False
    cols = ["grid_id", "external_id", "name", "residents", "n_cases", "per_1000_residents",
            "n_closed", "closure_rate", "median_closure_h", "p90_closure_h", "n_open",
            "n_overdue", "mean_satisfaction", "suppressed"]
    rows = [{k: _clean(r[k]) for k in cols} for r in table[cols].to_dict("records")]
    if format == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols)
        writer.writeheader()
        writer.writerows(rows)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{c.code}-grid-closure.csv"'})
    meta = _meta(user, settings, city=c.code, categories=categories, start=s, end=e,
                 as_of=when, overdue_hours=overdue_hours)
    if personal:
        meta["unassigned_cases"] = len(stats.unassigned_case_ids)
    return JSONResponse({"grids": rows, "meta": meta})


@router.get("/trends")
def trends(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: str,
           by: Literal["category", "grid"] = "category", categories: Categories = None,
           start: Start = None, end: End = None) -> JSONResponse:
    """Cases per calendar month (China Standard Time) and category or grid, zeros included."""
    c = get_city(conn, city)
    s, e = _window(start, end)
    cases = read_cases(conn, c.id, categories=parse_categories(categories), start=s, end=e)
    grids = read_grids(conn, c.id) if by == "grid" else None
    out = monthly_trend(cases, by=by, grids=grids, start=s, end=e)
    out["suppressed"] = False
    if not sees_personal(user):
        small = np.zeros(len(out), dtype=bool)
        for idx in out.groupby("month").indices.values():  # each month is a partition
            small[idx] = suppression_mask(out["n_cases"].to_numpy()[idx],
                                          min_count=settings.min_public_case_count)
        out["n_cases"] = out["n_cases"].astype(object).where(~small, None)
        out["suppressed"] = small
    rows = [{k: _clean(v) for k, v in r.items()} for r in out.to_dict("records")]
    return JSONResponse({"by": by, "rows": rows,
                         "meta": _meta(user, settings, city=c.code, categories=categories,
                                       start=s, end=e)})


def _hotspot_args(permutations: int, seed: int, fdr: bool) -> dict[str, Any]:
    return {"permutations": permutations, "seed": seed, "fdr": fdr}


Permutations = Annotated[int, Query(ge=99, le=9999)]


@router.get("/hotspots")
def hotspots(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: str,
             categories: Categories = None, start: Start = None, end: End = None,
             resolution: Resolution = 8, permutations: Permutations = 999, seed: int = 0,
             fdr: bool = False, significant_only: bool = False,
             area: Area = "grids") -> JSONResponse:
    """Getis-Ord Gi* hot and cold spots on H3 cells (zero cells included), binned by
    confidence (±3 = 99 %, ±2 = 95 %, ±1 = 90 %)."""
    c = get_city(conn, city)
    s, e = _window(start, end)
    cases = read_cases(conn, c.id, categories=parse_categories(categories), start=s, end=e)
    res = hotspots_for_cases(cases, area=study_area(conn, c.id, of=area), resolution=resolution,
                             **_hotspot_args(permutations, seed, fdr))
    frame = res.cells
    if significant_only:
        frame = frame.loc[frame["bin"] != 0]
    frame = frame.assign(label_zh=[BIN_LABELS[int(b)][0] for b in frame["bin"]],
                         label_en=[BIN_LABELS[int(b)][1] for b in frame["bin"]])
    cols = ["h3", "bin", "label_zh", "label_en"]
    if sees_personal(user):
        cols += ["n_cases", "gi_z", "p", "q"]
    meta = _meta(user, settings, city=c.code, categories=categories, start=s, end=e,
                 resolution=resolution, permutations=permutations, seed=seed, fdr=fdr,
                 study_area=area, neighbourhood="H3 k=1 ring, self included (Gi*)",
                 p_values="two-sided, conditional permutation",
                 confidence_levels=[lvl for lvl, _, _ in CONFIDENCE_LEVELS])
    return _geojson(_features(frame, cols), meta)


@router.get("/comparison")
def comparison(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: str,
               before_start: str, before_end: str, after_start: str, after_end: str,
               categories: Categories = None, resolution: Resolution = 8,
               permutations: Permutations = 999, seed: int = 0,
               fdr: bool = False, area: Area = "grids") -> JSONResponse:
    """Hot spots of two periods compared: new, intensifying, persistent, diminishing."""
    c = get_city(conn, city)
    cats = parse_categories(categories)
    region = study_area(conn, c.id, of=area)
    results = []
    for a, b, prefix in ((before_start, before_end, "before"), (after_start, after_end, "after")):
        s, e = parse_time(a, f"{prefix}_start"), parse_time(b, f"{prefix}_end")
        check_window(s, e)
        cases = read_cases(conn, c.id, categories=cats, start=s, end=e)
        results.append(hotspots_for_cases(cases, area=region, resolution=resolution,
                                          **_hotspot_args(permutations, seed, fdr)))
    frame = compare_periods(results[0], results[1])
    cols = ["h3", "bin_before", "bin_after", "change"]
    if sees_personal(user):
        cols += ["n_before", "n_after"]
    meta = _meta(user, settings, city=c.code, categories=categories, resolution=resolution,
                 before=f"[{before_start}, {before_end})", after=f"[{after_start}, {after_end})",
                 changes={k: int((frame["change"] == k).sum()) for k in
                          ("new", "intensifying", "persistent", "diminishing")})
    return _geojson(_features(frame.loc[frame["change"] != "none"], cols), meta)


@router.get("/density")
def density(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: str,
            categories: Categories = None, start: Start = None, end: End = None,
            resolution: Resolution = 9,
            bandwidth_m: Annotated[float, Query(ge=50, le=5000)] = 300.0,
            area: Area = "grids") -> JSONResponse:
    """Gaussian kernel density (cases per km²) at H3 cell centres, measured in the city's
    projected CRS with bandwidth ``bandwidth_m`` metres."""
    from geo.cases.counts import area_cells

    c = get_city(conn, city)
    s, e = _window(start, end)
    cases = read_cases(conn, c.id, categories=parse_categories(categories), start=s, end=e)
    surface = kde_surface(cases, area_cells(study_area(conn, c.id, of=area), resolution),
                          epsg=c.metric_epsg, bandwidth_m=bandwidth_m)
    frame = surface.cells
    if not sees_personal(user):
        frame = frame.assign(density_per_km2=frame["density_per_km2"].where(
            frame["n_near"] >= settings.min_public_case_count))
        cols = ["h3", "density_per_km2"]
    else:
        cols = ["h3", "density_per_km2", "n_near"]
    meta = _meta(user, settings, city=c.code, categories=categories, start=s, end=e,
                 bandwidth_m=bandwidth_m, epsg=c.metric_epsg, kernel="gaussian",
                 unit="cases per km²")
    return _geojson(_features(frame.loc[frame["density_per_km2"] > 0], cols), meta)


@router.get("/points", dependencies=[Depends(require_role("analyst"))])
def points(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: str,
           categories: Categories = None, start: Start = None, end: End = None,
           limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> JSONResponse:
    """Raw case points (personal data): analyst role only."""
    c = get_city(conn, city)
    s, e = _window(start, end)
    cases = read_cases(conn, c.id, categories=parse_categories(categories), start=s, end=e)
    head = cases.iloc[:limit].copy()
    for col in ("reported_at", "closed_at"):
        head[col] = [None if pd.isna(t) else t.isoformat() for t in head[col]]
    cols = ["case_id", "category", "status", "reported_at", "closed_at", "satisfaction"]
    meta = _meta(user, settings, city=c.code, categories=categories, start=s, end=e,
                 matched=len(cases), returned=len(head))
    return _geojson(_features(head, cols), meta)
