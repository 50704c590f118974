"""Expensive case analyses: Gi* hot spots, two periods compared, kernel density.

Parameters are bounded before computing (422), results cached by data version, and each
client may run only a few at once (429 with ``Retry-After``; :mod:`api.expensive`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth import User
from api.deps import CityDep, ConnDep, CurrentUser, SettingsDep, sees_personal
from api.errors import problems
from api.expensive import cache_key, check_bounds, expensive_slot, result_cache
from api.responses import GEOJSON, collection, features, render
from api.routes.cases.selection import (
    Area,
    Categories,
    End,
    Permutations,
    Resolution,
    Selection,
    Start,
    answer_meta,
)
from api.schemas import FeatureCollection
from geo.cases.counts import area_cells
from geo.cases.hotspots import CONFIDENCE_LEVELS, compare_periods, hotspots_for_cases, kde_surface
from geo.cases.public import public_density_cells
from geo.settings import Settings
from geo.store.cases import study_area
from geo.store.cities import City
from layers.catalog.cases import HOTSPOT_CLASSES

router = APIRouter()
#: Expensive analyses: limited per client.
EXPENSIVE = problems(429)
#: zh/en label of each confidence bin: the map legend's.
BIN_LABELS = {int(c.value): (c.label_zh, c.label_en) for c in HOTSPOT_CLASSES
              if c.value is not None}


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
        meta = answer_meta(user, settings, city=c.code, categories=categories,
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
        meta = answer_meta(user, settings, city=c.code, categories=categories,
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
        meta = answer_meta(user, settings, city=c.code, categories=categories,
                     resolution=resolution, bandwidth_m=bandwidth_m, epsg=c.metric_epsg,
                     kernel="gaussian", unit="cases per km²", **sel.meta)
        return _store(request, key, collection(
            features(frame.loc[frame["density_per_km2"] > 0], cols), meta))
