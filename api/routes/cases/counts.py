"""Case counts: per H3 hexagon, per grid (closure), per month (trends), the months with
data (the map's period control)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CityDep, ConnDep, CurrentUser, SettingsDep, sees_personal
from api.responses import JSONBody, feature_collection, features, formats, records, table
from api.routes.cases.selection import (
    Categories,
    End,
    Resolution,
    Selection,
    Start,
    answer_meta,
)
from api.schemas import CaseMonths, FeatureCollection, Table
from geo.cases.counts import CaseIndex, counts_frame
from geo.cases.privacy import public_window
from geo.cases.public import (
    no_cases,
    public_grid_table,
    public_hex_counts,
    public_month_totals,
    public_trend,
)
from geo.cases.stats import DEFAULT_OVERDUE_HOURS, grid_closure_table, monthly_trend
from geo.errors import InvalidInputError, Problem
from geo.runs.params import parse_time
from geo.store.cases import case_month_counts, read_cases, read_grids

router = APIRouter()


@router.get("/hexes", response_model=FeatureCollection)
def hex_counts(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: CityDep,
               categories: Categories = None, start: Start = None, end: End = None,
               resolution: Resolution = 8) -> Response:
    """Cases per H3 hexagon for a category set and window (GeoJSON, EPSG:4326)."""
    c = city
    sel = Selection(user, categories, start, end, counts=True)
    cases = sel.read(conn, c.id)
    meta = answer_meta(user, settings, city=c.code, resolution=resolution, categories=categories,
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
    meta = answer_meta(user, settings, city=c.code, categories=categories, as_of=when,
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
    return table(records(out), meta=answer_meta(user, settings, city=c.code, by=by,
                                          categories=categories, **sel.meta))


@router.get("/months", response_model=CaseMonths)
def months(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: CityDep) -> Response:
    """The months the city's cases cover (China Standard Time), all categories: every month
    from the first to the last with cases, with its count (zeros included) — what the
    map's period control and time slider offer. Public callers: complete months only, a
    month of fewer than ``min_public_case_count`` cases without its count (as in
    ``/trends``)."""
    personal = sees_personal(user)
    end = None if personal else public_window(None, None, now=datetime.now(UTC)).end
    out = public_month_totals(case_month_counts(conn, city.id, end=end),
                              min_count=None if personal else settings.min_public_case_count)
    rows = records(out)
    meta = answer_meta(user, settings, city=city.code)
    return JSONBody({"city": city.code, "access": meta["access"],
                     "min_public_case_count": settings.min_public_case_count,
                     "first": rows[0]["month"] if rows else None,
                     "last": rows[-1]["month"] if rows else None, "months": rows})
