"""Coverage: who lives inside / outside the service circles, and where the gaps are.

A compound is *inside* the circle of a type and threshold when the walk from its best
gate (or, gates unknown, its representative point) to the nearest service point of the
type along the streets is within the budget (minutes × speed, or metres). Residents and
households then count as inside, whole; compounds whose gates are farther than
``max_snap_m`` from every street are counted apart as *unknown*, never dropped.

Grids: a compound split across grids is apportioned by ``grid_compound.resident_share``.
Communities and streets (街道) take whole compounds by ``community_id`` / ``street_id``.

Gap polygons are the compound area outside the union of the type's circles (area-based;
``residents_gap_est`` apportions residents by area and is an estimate).

Completeness: the share of a required set of service types within 15 minutes of a
compound. The default set follows the 15-minute life circle of GB 50180-2018 (community
service, elderly care, children, convenience facilities) and the Complete Community
Construction Guide (完整社区建设指南, MOHURD 2022: a comprehensive service station, elderly
day care and canteen, after-school care, convenience shops, parcel pick-up): see
:data:`REQUIRED_TYPES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage.circles import DEFAULT_BUFFER_M, service_circles, union_by_type
from geo.domain import LIFE_CIRCLE_MINUTES, WALK_MINUTES, OriginKind, ServiceType
from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.network.nearest import NearestResult, nearest_service

#: Service types a "complete" compound has within 15 minutes (GB 50180-2018 15-minute
#: life circle; 完整社区建设指南 2022). Courier rest stations serve riders, not residents,
#: and are left out; grid stations and red stations are governance posts, also left out.
REQUIRED_TYPES: tuple[str, ...] = (
    ServiceType.PARTY_MASS_CENTRE, ServiceType.ELDERLY_DAYCARE, ServiceType.ELDERLY_CANTEEN,
    ServiceType.AFTER_SCHOOL, ServiceType.CONVENIENCE_POINT, ServiceType.PARCEL_STATION,
)

Thresholds = list[tuple[float, float]]  # (minutes or NaN, budget metres)


def thresholds(net: StreetNetwork, *, minutes: Sequence[float] | None = WALK_MINUTES,
               metres: Sequence[float] | None = None) -> Thresholds:
    """(minutes, metres) pairs; minutes is NaN for thresholds given in metres."""
    if (minutes is None) == (metres is None):
        raise InvalidInputError("give thresholds in minutes or in metres",
                                [Problem("exactly one of minutes/metres", field="minutes")])
    if minutes is not None:
        return [(float(m), net.budget_m(minutes=m)) for m in minutes]
    return [(float("nan"), net.budget_m(metres=m)) for m in metres]  # type: ignore[union-attr]


def compound_origins(compounds: gpd.GeoDataFrame, *, id_col: str = "id",
                     gates_col: str = "gates",
                     inferred_col: str = "inferred_gates") -> gpd.GeoDataFrame:
    """Access points of compounds: the user's gates (MultiPoint), else gates inferred from
    OSM (:mod:`geo.network.gates`), else a representative point. Columns ``compound_id,
    origin_kind`` (:class:`geo.domain.OriginKind`)."""
    rep = compounds.geometry.representative_point().to_numpy()
    geom = np.asarray(rep, dtype=object)
    kind = np.full(len(compounds), str(OriginKind.INTERIOR_POINT), dtype=object)
    for col, name in ((inferred_col, OriginKind.INFERRED_GATE), (gates_col, OriginKind.GATE)):
        if col not in compounds.columns:
            continue
        g = gpd.GeoSeries(compounds[col].to_numpy(), crs=compounds.crs)
        has = ~(g.isna().to_numpy() | g.is_empty.to_numpy())
        geom = np.where(has, g.to_numpy(), geom)
        kind = np.where(has, str(name), kind)  # the user's gates come last: they win
    return gpd.GeoDataFrame({"compound_id": compounds[id_col].to_numpy(), "origin_kind": kind},
                            geometry=list(geom), crs=compounds.crs)


def compound_access(net: StreetNetwork, compounds: gpd.GeoDataFrame,
                    services: gpd.GeoDataFrame, *, id_col: str = "id",
                    types: Sequence[str] | None = None, max_snap_m: float = 250.0,
                    include_snap: bool = True) -> NearestResult:
    """Nearest and second-nearest service of each type for every compound (best gate);
    the table says which access point was used (``origin_kind``, :class:`~geo.domain.OriginKind`)."""
    origins = compound_origins(compounds, id_col=id_col)
    near = nearest_service(net, origins, services, origin_id_col="compound_id",
                           types=list(types) if types is not None else None,
                           max_snap_m=max_snap_m, include_snap=include_snap)
    kinds = dict(zip(origins["compound_id"], origins["origin_kind"], strict=True))
    return replace(near, table=near.table.assign(origin_kind=near.table["origin"].map(kinds)))


def coverage_by_compound(compounds: gpd.GeoDataFrame, nearest: pd.DataFrame,
                         levels: Thresholds, *, id_col: str = "id") -> pd.DataFrame:
    """Per compound, type and threshold: ``covered`` and residents/households in/out.

    ``nearest`` is :attr:`NearestResult.table` with compounds as origins. ``covered`` is
    None for compounds not snapped to a street; their people count as ``*_unknown``.
    """
    people = compounds[[id_col, "residents", "households"]].rename(columns={id_col: "origin"})
    base = nearest.merge(people, on="origin", how="left")
    frames = []
    for mins, budget in levels:
        f = base[["origin", "type", "nearest_id", "nearest_m", "nearest_min", "snapped",
                  "residents", "households"]].copy()
        f["minutes"], f["budget_m"] = mins, budget
        inside = (f["nearest_m"] <= budget).to_numpy()
        known = f["snapped"].to_numpy(dtype=bool)
        f["covered"] = pd.array(np.where(known, inside, False), dtype="boolean")
        f.loc[~known, "covered"] = pd.NA
        for col in ("residents", "households"):
            v = f[col].to_numpy(dtype=float)
            f[f"{col}_in"] = np.where(known & inside, v, 0.0)
            f[f"{col}_out"] = np.where(known & ~inside, v, 0.0)
            f[f"{col}_unknown"] = np.where(known, 0.0, v)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True).rename(columns={"origin": "compound_id"})
    return out


def coverage_by_unit(compound_cov: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Aggregate compound coverage to units (grid, community, street) in people.

    Parameters
    ----------
    links
        ``compound_id, unit_id, share``: the share of the compound's people in the unit
        (``grid_compound.resident_share`` for grids; 1 for communities and streets).

    Returns
    -------
    DataFrame
        ``unit_id, type, minutes, budget_m, residents, residents_in, residents_out,
        residents_unknown, households*, share_covered`` (residents inside / residents with
        known access; NaN when the unit has none).
    """
    cols = [f"{p}_{k}" for p in ("residents", "households") for k in ("in", "out", "unknown")]
    m = compound_cov.merge(links[["compound_id", "unit_id", "share"]], on="compound_id")
    for c in cols:
        m[c] = m[c] * m["share"]
    key = ["unit_id", "type", "budget_m"]
    g = m.groupby(key, dropna=False).agg({**{c: "sum" for c in cols}, "minutes": "first",
                                           "compound_id": "nunique"}).reset_index()
    g = g.rename(columns={"compound_id": "compounds"})
    g["residents"] = g["residents_in"] + g["residents_out"] + g["residents_unknown"]
    g["households"] = g["households_in"] + g["households_out"] + g["households_unknown"]
    known = g["residents_in"] + g["residents_out"]
    g["share_covered"] = np.where(known > 0, g["residents_in"] / known.where(known > 0, 1), np.nan)
    return g[["unit_id", "type", "minutes", "budget_m", "compounds", "residents", "households",
              *cols, "share_covered"]]


def coverage_gaps(compounds: gpd.GeoDataFrame, unions: gpd.GeoDataFrame, *,
                  id_col: str = "id", metric_epsg: int, types: Sequence[str] | None = None
                  ) -> gpd.GeoDataFrame:
    """Compound area outside the union of each type's circles, per threshold.

    Parameters
    ----------
    unions
        :func:`geo.coverage.circles.union_by_type` output (any CRS).
    metric_epsg
        CRS for areas (m²). A type in ``types`` without circles leaves whole compounds as gaps.

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``compound_id, type, minutes, budget_m, gap_area_m2, gap_share,
        residents_gap_est`` (area-apportioned estimate); only non-empty gaps.
    """
    comp = compounds.to_crs(metric_epsg)
    area = comp.geometry.area.to_numpy()
    uni = unions.to_crs(metric_epsg)
    levels = uni[["budget_m", "minutes"]].drop_duplicates().to_numpy().tolist()
    wanted = sorted(set(uni["type"]) | set(types or ()))
    rows = []
    cgeom = np.asarray(comp.geometry.values, dtype=object)
    for typ in wanted:
        for budget, mins in levels:
            hit = uni[(uni["type"] == typ) & (uni["budget_m"] == budget)].geometry
            circle = hit.iloc[0] if len(hit) and hit.iloc[0] is not None else None
            gap = cgeom if circle is None else shapely.difference(cgeom, circle)
            garea = shapely.area(gap)
            keep = garea > 1e-6
            rows.append(pd.DataFrame({
                "compound_id": comp[id_col].to_numpy()[keep], "type": typ, "minutes": mins,
                "budget_m": budget, "gap_area_m2": garea[keep],
                "gap_share": garea[keep] / area[keep],
                "residents_gap_est": comp["residents"].to_numpy()[keep] * garea[keep] / area[keep],
                "geometry": gap[keep]}))
    cols = ["compound_id", "type", "minutes", "budget_m", "gap_area_m2", "gap_share",
            "residents_gap_est", "geometry"]
    df = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    out = gpd.GeoDataFrame(df, geometry="geometry", crs=metric_epsg).to_crs(4326)
    out["geometry"] = out.geometry.make_valid()
    return out


def completeness(nearest: pd.DataFrame, *, required_types: Sequence[str] = REQUIRED_TYPES,
                 budget_m: float) -> pd.DataFrame:
    """Per compound: how many of ``required_types`` lie within ``budget_m`` network metres.

    Returns ``compound_id, n_required, n_within, score`` (n_within / n_required; NaN for
    compounds not snapped) and ``missing`` (comma-separated type codes).
    """
    req = list(dict.fromkeys(str(t) for t in required_types))
    ids = nearest["origin"].drop_duplicates().to_numpy()
    snapped = nearest.groupby("origin")["snapped"].first().reindex(ids).to_numpy(dtype=bool)
    t = nearest[nearest["type"].isin(req)]
    within = (t["nearest_m"] <= budget_m).groupby([t["origin"], t["type"]]).any().unstack()
    within = within.reindex(index=ids, columns=req).astype("boolean").fillna(False).astype(bool)
    n_within = within.sum(axis=1).to_numpy()
    missing = [",".join(c for c in req if not row[c]) for _, row in within.iterrows()]
    return pd.DataFrame({"compound_id": ids, "n_required": len(req), "n_within": n_within,
                         "score": np.where(snapped, n_within / max(len(req), 1), np.nan),
                         "missing": missing})


@dataclass(frozen=True)
class CoverageResult:
    """Everything :func:`analyze_coverage` computes (frames keyed by the callers' ids)."""

    nearest: NearestResult
    compounds: pd.DataFrame  # coverage_by_compound
    circles: gpd.GeoDataFrame  # per service point and threshold, EPSG:4326
    unions: gpd.GeoDataFrame  # per type and threshold, EPSG:4326
    gaps: gpd.GeoDataFrame  # EPSG:4326
    completeness: pd.DataFrame
    levels: Thresholds
    buffer_m: float
    metric_epsg: int


def analyze_coverage(net: StreetNetwork, compounds: gpd.GeoDataFrame,
                     services: gpd.GeoDataFrame, *,
                     minutes: Sequence[float] | None = WALK_MINUTES,
                     metres: Sequence[float] | None = None, buffer_m: float = DEFAULT_BUFFER_M,
                     types: Sequence[str] | None = None, id_col: str = "id",
                     required_types: Sequence[str] = REQUIRED_TYPES,
                     max_snap_m: float = 250.0) -> CoverageResult:
    """Nearest service, circles, compound coverage, gaps and completeness in one go.

    Completeness uses the 15-minute life circle (:data:`geo.domain.LIFE_CIRCLE_MINUTES`;
    or, for metre thresholds, the largest one).
    """
    levels = thresholds(net, minutes=minutes, metres=metres)
    wanted = list(types) if types is not None else sorted(
        set(services["type"].astype(str)) | {str(t) for t in required_types})
    near = compound_access(net, compounds, services, id_col=id_col, types=wanted,
                           max_snap_m=max_snap_m)
    cov = coverage_by_compound(compounds, near.table, levels, id_col=id_col)
    svc = services[services["type"].astype(str).isin(wanted)]
    circles = service_circles(net, svc, minutes=minutes, metres=metres, buffer_m=buffer_m,
                              max_snap_m=max_snap_m)
    unions = union_by_type(circles)
    gaps = coverage_gaps(compounds, unions, id_col=id_col, metric_epsg=net.metric_epsg,
                         types=wanted)
    complete_m = (net.budget_m(minutes=LIFE_CIRCLE_MINUTES) if minutes is not None
                  else max(b for _, b in levels))
    comp = completeness(near.table, required_types=required_types, budget_m=complete_m)
    return CoverageResult(nearest=near, compounds=cov, circles=circles, unions=unions,
                          gaps=gaps, completeness=comp, levels=levels, buffer_m=buffer_m,
                          metric_epsg=net.metric_epsg)
