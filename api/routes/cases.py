"""Grid-case aggregates: hexagon counts, per-grid closure, trends, hot spots, raw points.

Everything except ``/points`` is aggregated. Callers below the analyst role (anonymous or
viewer keys) get public output under the one rule of :mod:`geo.cases.privacy`: windows widened
to whole calendar months (China Standard Time, complete months only; the effective window
is in ``meta``), counts that are sums of released unit-months of at least
``settings.min_public_case_count`` cases, counts over all categories (a category filter on
counts needs the analyst role), parts of a grid's cases below the minimum withheld, and
hot-spot statistics reduced to their confidence bin. Raw case points need the analyst role
(401 without a key, 403 for a viewer key).

Density, hot spots and comparisons are expensive (:mod:`api.expensive`): parameters are
bounded before computing (422), results cached by data version, and each client may run
only a few at once (429 with ``Retry-After``).

Windows are half-open ``[start, end)`` on the report time; ``start``/``end`` are ISO dates
or date-times, read in China Standard Time (UTC+8) when they carry no offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.auth import User, require_role
from api.deps import CityDep, ConnDep, CurrentUser, SettingsDep, sees_personal
from api.errors import problems
from api.expensive import cache_key, check_bounds, expensive_slot, result_cache
from api.responses import (
    GEOJSON,
    collection,
    feature_collection,
    features,
    formats,
    jsonable,
    records,
    render,
    table,
)
from api.schemas import FeatureCollection, Table
from geo.cases.counts import CaseIndex, area_cells, check_categories, check_window, counts_frame
from geo.cases.hotspots import CONFIDENCE_LEVELS, compare_periods, hotspots_for_cases, kde_surface
from geo.cases.privacy import public_window
from geo.cases.public import (
    no_cases,
    public_density_cells,
    public_grid_table,
    public_hex_counts,
    public_trend,
)
from geo.cases.stats import DEFAULT_OVERDUE_HOURS, grid_closure_table, monthly_trend
from geo.errors import InvalidInputError, Problem
from geo.runs.params import parse_categories, parse_time
from geo.settings import Settings
from geo.store.cases import read_cases, read_grids, study_area
from geo.store.cities import City

router = APIRouter(prefix="/cities/{city}/cases", tags=["cases"],
                   responses=problems(401, 404, 422, 503))
#: Expensive analyses: limited per client.
EXPENSIVE = problems(429)
Categories = Annotated[str | None, Query(
    description="Comma-separated category codes (default: all), e.g. sanitation,dispute; "
    "on counts (hexes, grids, grid trends, density) analysts only")]
Start = Annotated[str | None, Query(description="Window start, inclusive (ISO date/time)")]
End = Annotated[str | None, Query(description="Window end, exclusive (ISO date/time)")]
Resolution = Annotated[int, Query(ge=6, le=10, description="H3 resolution (8 ≈ grid, "
                                                           "9 ≈ compound)")]
Area = Annotated[Literal["grids", "city"], Query(
    description="Study area: the union of the grids (default) or the city bounds")]
Permutations = Annotated[int, Query(ge=99, le=9999, description="Gi* permutations (callers "
                                    "without an analyst key: at most 999)")]
BIN_LABELS = {3: ("热点（99%置信）", "Hot spot, 99 % confidence"),
              2: ("热点（95%置信）", "Hot spot, 95 % confidence"),
              1: ("热点（90%置信）", "Hot spot, 90 % confidence"),
              0: ("不显著", "Not significant"),
              -1: ("冷点（90%置信）", "Cold spot, 90 % confidence"),
              -2: ("冷点（95%置信）", "Cold spot, 95 % confidence"),
              -3: ("冷点（99%置信）", "Cold spot, 99 % confidence")}


class Selection:
    """The cases a request may see: categories and the effective window ``[start, end)``.

    Analysts get the window as asked; everyone else the public window of
    :func:`geo.cases.privacy.public_window` (``meta`` states it).
    """

    def __init__(self, user: User, categories: str | None, start: str | None, end: str | None,
                 *, counts: bool, prefix: str = "") -> None:
        s = parse_time(start, f"{prefix}start")
        e = parse_time(end, f"{prefix}end")
        check_window(s, e)
        cats = check_categories(parse_categories(categories))
        self.categories = list(cats) if cats is not None else None
        self.personal = sees_personal(user)
        self.empty = False
        if self.personal:
            self.start, self.end = s, e
            self.meta: dict[str, Any] = {"start": _iso(s), "end": _iso(e),
                                         "time_granularity": "exact"}
            return
        if counts and self.categories is not None:
            raise InvalidInputError("category filter not public", [Problem(
                "public counts cover all categories (filtering them by category would let "
                "two answers be subtracted); an analyst key may filter", field="categories")])
        w = public_window(s, e, now=datetime.now(UTC))
        self.start, self.end, self.empty = w.start, w.end, w.empty
        self.meta = w.meta()

    def read(self, conn: Any, city_id: int) -> gpd.GeoDataFrame:
        """The selected cases (none when nothing of the window is public yet)."""
        if self.empty:
            return no_cases()
        return read_cases(conn, city_id, categories=self.categories, start=self.start,
                          end=self.end)

    def key(self) -> tuple[Any, ...]:
        cats = tuple(self.categories) if self.categories is not None else None
        return cats, _iso(self.start), _iso(self.end), self.empty


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _meta(user: User, settings: Any, **extra: Any) -> dict[str, Any]:
    return {"access": "analyst" if sees_personal(user) else "public",
            "min_public_case_count": settings.min_public_case_count,
            "window": "[start, end)", **{k: jsonable(v) for k, v in extra.items()}}


@router.get("/hexes", response_model=FeatureCollection)
def hex_counts(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: CityDep,
               categories: Categories = None, start: Start = None, end: End = None,
               resolution: Resolution = 8) -> Response:
    """Cases per H3 hexagon for a category set and window (GeoJSON, EPSG:4326)."""
    c = city
    sel = Selection(user, categories, start, end, counts=True)
    cases = sel.read(conn, c.id)
    meta = _meta(user, settings, city=c.code, resolution=resolution, categories=categories,
                 **sel.meta)
    cols = ["h3", "n_cases", "suppressed", "partial"]
    if sel.personal:
        frame = counts_frame(CaseIndex.from_cases(cases, resolution=resolution).counts())
        frame["suppressed"] = False
        frame["partial"] = False
        meta |= {"total": int(frame["n_cases"].sum()), "suppressed_cells": 0}
        return feature_collection(features(frame, cols), meta)
    pub = public_hex_counts(cases, resolution=resolution, min_count=settings.min_public_case_count)
    meta |= {"shown_total": int(pub["n_cases"].dropna().sum()),
             "suppressed_cells": int(pub["suppressed"].sum()),
             "partial_cells": int(pub["partial"].sum()),
             "counts": "cases in released cell-months (each at least min_public_case_count "
                       "cases), all categories"}
    return feature_collection(features(pub, cols), meta)


@router.get("/grids", response_model=Table, responses=formats("csv"))
def grid_closure(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: CityDep,
                 categories: Categories = None, start: Start = None, end: End = None,
                 as_of: Annotated[str | None, Query(description="Time open cases are judged "
                                                    "at (default: window end, else now; "
                                                    "analysts only)")] = None,
                 overdue_hours: Annotated[float, Query(gt=0, le=8760, description=(
                     "Open cases older than this are overdue (hours; other than 72: "
                     "analysts only)"))] = DEFAULT_OVERDUE_HOURS,
                 format: Literal["json", "csv"] = "json") -> Response:
    """Per grid: cases, rate per 1,000 residents, closure rate (办结率), median and 90th
    percentile closure time (hours), open and overdue cases, mean satisfaction."""
    c = city
    sel = Selection(user, categories, start, end, counts=True)
    if not sel.personal:
        fixed = [Problem("open cases are judged at the end of the public window", field="as_of")
                 ] if as_of else []
        if overdue_hours != DEFAULT_OVERDUE_HOURS:
            fixed.append(Problem(f"the public overdue limit is {DEFAULT_OVERDUE_HOURS:g} h",
                                 field="overdue_hours"))
        if fixed:
            raise InvalidInputError("parameter needs an analyst key", fixed)
    cases = sel.read(conn, c.id)
    grids = read_grids(conn, c.id)
    unassigned = None
    if sel.personal:
        when = parse_time(as_of, "as_of") or sel.end or datetime.now(UTC)
        stats = grid_closure_table(cases, grids, as_of=when, overdue_hours=overdue_hours)
        frame = stats.table.assign(suppressed=False, partial=False)
        unassigned = len(stats.unassigned_case_ids)
    else:
        when = sel.end or datetime.now(UTC)  # a public window always has an end
        frame = public_grid_table(cases, grids, as_of=when,
                                  min_count=settings.min_public_case_count)
    frame = frame.merge(grids[["grid_id", "external_id"]], on="grid_id")
    cols = ["grid_id", "external_id", "name", "residents", "n_cases", "per_1000_residents",
            "n_closed", "closure_rate", "median_closure_h", "p90_closure_h", "n_open",
            "n_overdue", "mean_satisfaction", "n_rated", "suppressed", "partial"]
    rows = records(frame, cols)
    meta = _meta(user, settings, city=c.code, categories=categories, as_of=when,
                 overdue_hours=overdue_hours, **sel.meta)
    if unassigned is not None:
        meta["unassigned_cases"] = unassigned
    return table(rows, meta=meta, fmt=format, name=f"{c.code}-grid-closure", columns=cols)


@router.get("/trends", response_model=Table)
def trends(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: CityDep,
           by: Literal["category", "grid"] = "category", categories: Categories = None,
           start: Start = None, end: End = None) -> Response:
    """Cases per calendar month (China Standard Time) and category or grid, zeros included."""
    c = city
    sel = Selection(user, categories, start, end, counts=by == "grid")
    grids = read_grids(conn, c.id) if by == "grid" else None
    if sel.personal:
        cases = sel.read(conn, c.id)
        out = monthly_trend(cases, by=by, grids=grids, start=sel.start, end=sel.end)
        out["suppressed"] = False
    else:
        # released per month across *all* categories; a category filter only selects rows
        cases = no_cases() if sel.empty else read_cases(conn, c.id, start=sel.start,
                                                        end=sel.end)
        out = public_trend(cases, by=by, grids=grids, start=sel.start, end=sel.end,
                           min_count=settings.min_public_case_count,
                           categories=sel.categories)
    return table(records(out), meta=_meta(user, settings, city=c.code, by=by,
                                          categories=categories, **sel.meta))


def _hotspot_args(permutations: int, seed: int, fdr: bool) -> dict[str, Any]:
    return {"permutations": permutations, "seed": seed, "fdr": fdr}


def _cached(request: Request, key: tuple[Any, ...]) -> Response | None:
    hit = result_cache(request).get(key)
    return None if hit is None else Response(hit, media_type=GEOJSON)


def _store(request: Request, key: tuple[Any, ...], body: dict[str, Any]) -> Response:
    data = render(body)
    result_cache(request).put(key, data)
    return Response(data, media_type=GEOJSON)


def _bounded(settings: Settings, user: User, city: City, region: Any, resolution: int,
             **extra: Any) -> dict[str, Any]:
    return check_bounds(settings, sees_personal(user), area=region, epsg=city.metric_epsg,
                        resolution=resolution, **extra)


@router.get("/hotspots", response_model=FeatureCollection, responses=EXPENSIVE)
def hotspots(request: Request, conn: ConnDep, settings: SettingsDep, user: CurrentUser,
             city: CityDep, categories: Categories = None, start: Start = None, end: End = None,
             resolution: Resolution = 8, permutations: Permutations = 999, seed: int = 0,
             fdr: bool = False, significant_only: bool = False,
             area: Area = "grids") -> Response:
    """Getis-Ord Gi* hot and cold spots on H3 cells (zero cells included), binned by
    confidence (±3 = 99 %, ±2 = 95 %, ±1 = 90 %)."""
    c = city
    sel = Selection(user, categories, start, end, counts=False)
    key = cache_key(conn, "hotspots", c.id, sel.personal, sel.key(), resolution, permutations,
                    seed, fdr, significant_only, area)
    if (hit := _cached(request, key)) is not None:
        return hit
    region = study_area(conn, c.id, of=area)
    _bounded(settings, user, c, region, resolution, permutations=[permutations])
    with expensive_slot(request, user):
        res = hotspots_for_cases(sel.read(conn, c.id), area=region, resolution=resolution,
                                 **_hotspot_args(permutations, seed, fdr))
        frame = res.cells
        if significant_only:
            frame = frame.loc[frame["bin"] != 0]
        frame = frame.assign(label_zh=[BIN_LABELS[int(b)][0] for b in frame["bin"]],
                             label_en=[BIN_LABELS[int(b)][1] for b in frame["bin"]])
        cols = ["h3", "bin", "label_zh", "label_en"]
        if sel.personal:
            cols += ["n_cases", "gi_z", "p", "q"]
        meta = _meta(user, settings, city=c.code, categories=categories,
                     resolution=resolution, permutations=permutations, seed=seed, fdr=fdr,
                     study_area=area, neighbourhood="H3 k=1 ring, self included (Gi*)",
                     p_values="two-sided, conditional permutation",
                     confidence_levels=[lvl for lvl, _, _ in CONFIDENCE_LEVELS], **sel.meta)
        return _store(request, key, collection(features(frame, cols), meta))


@router.get("/comparison", response_model=FeatureCollection, responses=EXPENSIVE)
def comparison(request: Request, conn: ConnDep, settings: SettingsDep, user: CurrentUser,
               city: CityDep, before_start: str, before_end: str, after_start: str,
               after_end: str, categories: Categories = None, resolution: Resolution = 8,
               permutations: Permutations = 999, seed: int = 0,
               fdr: bool = False, area: Area = "grids") -> Response:
    """Hot spots of two periods compared: new, intensifying, persistent, diminishing."""
    c = city
    sels = [Selection(user, categories, before_start, before_end, counts=False,
                      prefix="before_"),
            Selection(user, categories, after_start, after_end, counts=False,
                      prefix="after_")]
    key = cache_key(conn, "comparison", c.id, sels[0].personal, sels[0].key(), sels[1].key(),
                    resolution, permutations, seed, fdr, area)
    if (hit := _cached(request, key)) is not None:
        return hit
    region = study_area(conn, c.id, of=area)
    _bounded(settings, user, c, region, resolution, permutations=[permutations])
    with expensive_slot(request, user):
        results = [hotspots_for_cases(s.read(conn, c.id), area=region, resolution=resolution,
                                      **_hotspot_args(permutations, seed, fdr)) for s in sels]
        frame = compare_periods(results[0], results[1])
        cols = ["h3", "bin_before", "bin_after", "change"]
        if sels[0].personal:
            cols += ["n_before", "n_after"]
        meta = _meta(user, settings, city=c.code, categories=categories,
                     resolution=resolution, before=sels[0].meta, after=sels[1].meta,
                     changes={k: int((frame["change"] == k).sum()) for k in
                              ("new", "intensifying", "persistent", "diminishing")})
        return _store(request, key, collection(
            features(frame.loc[frame["change"] != "none"], cols), meta))


@router.get("/density", response_model=FeatureCollection, responses=EXPENSIVE)
def density(request: Request, conn: ConnDep, settings: SettingsDep, user: CurrentUser,
            city: CityDep, categories: Categories = None, start: Start = None, end: End = None,
            resolution: Resolution = 9,
            bandwidth_m: Annotated[float, Query(ge=50, le=5000, description=(
                "Kernel bandwidth, metres; bounded relative to the resolution"))] = 300.0,
            area: Area = "grids") -> Response:
    """Gaussian kernel density (cases per km²) at H3 cell centres, measured in the city's
    projected CRS with bandwidth ``bandwidth_m`` metres (public: released cases only)."""
    c = city
    sel = Selection(user, categories, start, end, counts=True)
    key = cache_key(conn, "density", c.id, sel.personal, sel.key(), resolution, bandwidth_m,
                    area)
    if (hit := _cached(request, key)) is not None:
        return hit
    region = study_area(conn, c.id, of=area)
    _bounded(settings, user, c, region, resolution, bandwidth_m=bandwidth_m)
    with expensive_slot(request, user):
        cells = area_cells(region, resolution)
        cases = sel.read(conn, c.id)
        if sel.personal:
            frame = kde_surface(cases, cells, epsg=c.metric_epsg, bandwidth_m=bandwidth_m).cells
            cols = ["h3", "density_per_km2", "n_near"]
        else:
            frame = public_density_cells(cases, cells, resolution=resolution,
                                         epsg=c.metric_epsg, bandwidth_m=bandwidth_m,
                                         min_count=settings.min_public_case_count)
            cols = ["h3", "density_per_km2"]
        meta = _meta(user, settings, city=c.code, categories=categories,
                     resolution=resolution, bandwidth_m=bandwidth_m, epsg=c.metric_epsg,
                     kernel="gaussian", unit="cases per km²", **sel.meta)
        return _store(request, key, collection(
            features(frame.loc[frame["density_per_km2"] > 0], cols), meta))


@router.get("/points", dependencies=[Depends(require_role("analyst"))],
            response_model=FeatureCollection, responses=problems(403))
def points(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: CityDep,
           categories: Categories = None, start: Start = None, end: End = None,
           limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> Response:
    """Raw case points (personal data): analyst role only."""
    c = city
    sel = Selection(user, categories, start, end, counts=False)
    cases = sel.read(conn, c.id)
    head = cases.iloc[:limit].copy()
    for col in ("reported_at", "closed_at"):
        head[col] = [None if pd.isna(t) else t.isoformat() for t in head[col]]
    cols = ["case_id", "category", "status", "reported_at", "closed_at", "satisfaction"]
    meta = _meta(user, settings, city=c.code, categories=categories, matched=len(cases),
                 returned=len(head), **sel.meta)
    return feature_collection(features(head, cols), meta)
