"""A siting scenario on real data: best new stations of a type for a city's compounds.

Demand = compounds (access points: gates, else a representative point) weighted by
residents, households, elderly residents, grid cases or rider demand (a column of that
name, see :func:`geo.store.inputs.read_compound_demand` for how the last two are counted); existing stations of the type cover what they
reach within the circle (``minutes`` of walking along streets). Candidates are imported
sites and/or generated ones (street points near uncovered compounds and their gates),
minus exclusion zones. The result is a frozen :class:`SitingPlan` with the ranked
proposal table and per-compound coverage before and after — everything in EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage.analysis import compound_origins
from geo.domain import LIFE_CIRCLE_MINUTES
from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.siting.base import SitingResult
from geo.siting.candidates import drop_excluded, generate_candidates
from geo.siting.problem import SitingProblem
from geo.siting.whatif import WhatIf

WEIGHTS = ("residents", "households", "elderly", "cases", "rider_demand")


@dataclass(frozen=True)
class SitingPlan:
    """Proposals and coverage of one scenario.

    ``proposals``: ``rank, candidate, kind, name, gain`` (newly covered weight, marginal in
    rank order), ``demand_inside`` (compounds brought inside), ``cost``, Point geometry.
    ``compounds``: ``id, name, weight, covered_before, covered_after`` and the polygon.
    With capacities, ``gain`` is the weight each site serves and ``after_weight`` adds
    those up (``covered_after`` then shows the compounds within reach, not served).
    """

    result: SitingResult
    proposals: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    whatif: WhatIf
    minutes: float
    weight: str
    n_candidates: int
    capacitated: bool = False

    @property
    def before_weight(self) -> float:
        return float(self.compounds.loc[self.compounds["covered_before"], "weight"].sum())

    @property
    def after_weight(self) -> float:
        if self.capacitated:
            return self.before_weight + float(self.proposals["gain"].sum())
        return float(self.compounds.loc[self.compounds["covered_after"], "weight"].sum())

    @property
    def total_weight(self) -> float:
        return float(self.compounds["weight"].sum())


def demand_points(compounds: gpd.GeoDataFrame, *, weight: str = "residents") -> gpd.GeoDataFrame:
    """Access points of compounds with ``id`` and ``weight`` columns (EPSG of the input)."""
    if weight not in WEIGHTS or weight not in compounds.columns:
        raise InvalidInputError("unknown demand measure", [Problem(
            f"{weight!r} is not one of {list(WEIGHTS)}", field="weight")])
    d = compound_origins(compounds, id_col="id").rename(columns={"compound_id": "id"})
    d["weight"] = pd.to_numeric(compounds[weight], errors="coerce").fillna(0).to_numpy(float)
    return d


def prepare(net: StreetNetwork, compounds: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *,
            minutes: float = LIFE_CIRCLE_MINUTES, weight: str = "residents") -> WhatIf:
    """The what-if engine for ``compounds`` (``id`` + ``weight`` column) and existing
    ``stations`` of the type within ``minutes`` of walking."""
    demand = demand_points(compounds, weight=weight)
    return WhatIf.build(net, demand, budget_m=net.budget_m(minutes=minutes), weight_col="weight",
                        existing=stations if len(stations) else None)


def plan_sites(net: StreetNetwork, compounds: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *,
               p: int = 5, minutes: float = LIFE_CIRCLE_MINUTES, weight: str = "residents",
               model: str = "mclp", target_share: float | None = None,
               imported: gpd.GeoDataFrame | None = None, generate: bool = True,
               exclude: gpd.GeoDataFrame | None = None, spacing_m: float = 100.0,
               method: str = "auto", time_limit_s: float = 30.0,
               use_capacity: bool = False, whatif: WhatIf | None = None) -> SitingPlan:
    """Best ``p`` new stations (MCLP/p-median) or fewest reaching ``target_share`` (LSCP).

    Parameters
    ----------
    compounds
        Compounds with ``id``, ``name``, the ``weight`` column, polygons and optional
        ``gates`` (EPSG:4326).
    stations
        Existing stations of the type (Points).
    imported
        Imported candidate sites (``id, name, kind, cost``, Points), used as they are.
    generate
        Also generate candidates: street points every ``spacing_m`` metres within a walk's
        straight-line reach of uncovered compounds, and those compounds' gates.
    exclude
        Exclusion zones (polygons): no candidate inside.
    use_capacity
        Use the imported sites' ``capacity`` (in the demand measure's units; sites without
        one are uncapacitated) — solved exactly.
    """
    wi = whatif or prepare(net, compounds, stations, minutes=minutes, weight=weight)
    frames = []
    if imported is not None and len(imported):
        imp = imported.to_crs(4326).copy()
        imp["kind"] = imp["kind"] if "kind" in imp.columns else "imported"
        frames.append(drop_excluded(imp, exclude))
    if generate:
        demand = demand_points(compounds, weight=weight)
        unc = demand[~wi.covered]
        gen = generate_candidates(net, unc, spacing_m=spacing_m,
                                  near_m=net.budget_m(minutes=minutes), gates=unc,
                                  exclude=exclude)
        frames.append(gen)
    if not frames:
        raise InvalidInputError("no candidate sites", [Problem(
            "give imported candidates or generate=True", field="candidates")])
    cands = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    for col, default in (("name", ""), ("cost", np.nan)):
        if col not in cands.columns:
            cands[col] = default
    cands["id"] = cands["id"].astype(str)
    cands = cands.drop_duplicates("id").reset_index(drop=True)
    caps = None
    if use_capacity and "capacity" in cands.columns:
        c = pd.to_numeric(cands["capacity"], errors="coerce").to_numpy(float)
        caps = np.where(np.isfinite(c), c, float(wi.weights.sum()))
    prob = SitingProblem.from_whatif(wi, cands, candidate_id_col="id", capacities=caps)
    p_eff = min(int(p), prob.n_candidates)
    result = prob.solve(model, p=p_eff if model != "lscp" else None, target_share=target_share,
                        method=method, time_limit_s=time_limit_s)
    chosen = cands.set_index("id").loc[list(result.chosen)].reset_index()
    ev = wi.evaluate(chosen.geometry.to_crs(4326).to_frame())
    proposals = gpd.GeoDataFrame({
        "rank": np.arange(1, len(chosen) + 1), "candidate": chosen["id"].to_numpy(),
        "kind": chosen["kind"].to_numpy(), "name": chosen["name"].fillna("").to_numpy(),
        "gain": (np.asarray(result.gains, float) if caps is not None
                 else ev.sites["gain"].to_numpy(float)),
        "demand_inside": ev.sites["demand_inside"].to_numpy(int),
        "cost": pd.to_numeric(chosen["cost"], errors="coerce").to_numpy(float)},
        geometry=chosen.geometry.values, crs=4326)
    _name_sites(proposals, compounds, net.metric_epsg)
    newly = set(ev.newly_covered)
    ids = wi.reach.demand_ids
    comp = gpd.GeoDataFrame({
        "id": ids, "name": compounds["name"].to_numpy() if "name" in compounds else "",
        "weight": wi.weights, "covered_before": wi.covered & wi.reach.snapped,
        "covered_after": (wi.covered | np.isin(ids, np.asarray(list(newly), dtype=ids.dtype))) & wi.reach.snapped,
        "snapped": wi.reach.snapped}, geometry=compounds.geometry.values, crs=compounds.crs)
    return SitingPlan(result=result, proposals=proposals, compounds=comp.to_crs(4326), whatif=wi,
                      minutes=float(minutes), weight=weight, n_candidates=prob.n_candidates,
                      capacitated=caps is not None)


def _name_sites(sites: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, epsg: int) -> None:
    """Name unnamed generated sites after the nearest compound (in place): "X小区门口" for
    gates, "X附近" for street points."""
    if not len(sites) or "name" not in compounds.columns or not len(compounds):
        return
    polys = np.asarray(compounds.to_crs(epsg).geometry.values)
    pts = np.asarray(sites.to_crs(epsg).geometry.values)
    _, idx = shapely.STRtree(polys).query_nearest(pts, all_matches=False)
    names = compounds["name"].astype(str).to_numpy()[idx]
    suffix = np.where(sites["kind"].to_numpy() == "gate", "门口", "附近")
    empty = sites["name"].fillna("").astype(str).str.len().to_numpy() == 0
    sites.loc[empty, "name"] = [f"{n}{x}" for n, x in zip(names[empty], suffix[empty],
                                                          strict=True)]
