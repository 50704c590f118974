"""A siting scenario on real data: best new stations of a type for a city's compounds.

Demand = compounds (access points: gates, else a representative point) weighted by a
measure: people of a population group, households, grid cases or rider demand (a column
of that name, see :func:`geo.store.inputs.read_compound_demand` for how the last two are
counted); existing stations of the type cover what they reach within the circle
(``minutes`` of walking along streets). Candidates are imported sites and/or generated
ones (street points near uncovered compounds and their gates), minus exclusion zones. The
result is a frozen :class:`SitingPlan` with the ranked proposal table and per-compound
coverage before and after — everything in EPSG:4326.

**Who walks, how fast.** A scenario of a type counts and walks as the type's coverage does
((8) of :mod:`geo.coverage.analysis`, from :data:`geo.domain.SERVICE_WALKERS`):
:func:`siting_demand` gives its :class:`SitingDemand` — the measure ``residents`` counts the
people of the type's target group (residents 60+ for elderly canteens and day care, 0–14
for after-school rooms, all residents otherwise), ``elderly`` residents 60+, both read from
the compound column :data:`geo.domain.GROUP_COLUMNS` names (the one coverage reads; a
compound whose group size is not known weighs 0, as it counts in no coverage total); and
everyone walks at the type's speed, so the circle of ``minutes`` is ``minutes × speed``
metres (the network passed to :func:`prepare` / :func:`plan_sites` walks at
:attr:`SitingDemand.speed_m_per_min`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage.analysis import compound_origins, type_walkers
from geo.domain import (
    DEMAND_MEASURES,
    GROUP_COLUMNS,
    LIFE_CIRCLE_MINUTES,
    POPULATION_GROUPS,
    PopulationGroup,
)
from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.siting.base import SitingResult
from geo.siting.candidates import drop_excluded, generate_candidates
from geo.siting.problem import SitingProblem
from geo.siting.whatif import WhatIf

#: Demand measures a scenario may weigh compounds by.
WEIGHTS = ("residents", "households", "elderly", "cases", "rider_demand")
#: Compound columns demand may be read from: the measures and the groups' columns.
DEMAND_COLUMNS = tuple(dict.fromkeys((*WEIGHTS, *GROUP_COLUMNS.values())))


@dataclass(frozen=True)
class SitingDemand:
    """What a scenario of a type counts and how fast they walk (see the module doc).

    ``weight`` is the measure asked (:data:`WEIGHTS`); ``group`` the
    :class:`~geo.domain.PopulationGroup` whose people it counts (None for households,
    cases and rider demand); ``column`` the compounds' column holding it; everyone walks
    at ``speed_m_per_min`` (m/min).
    """

    weight: str
    group: str | None
    column: str
    speed_m_per_min: float

    def budget_m(self, minutes: float) -> float:
        """The walking circle of ``minutes`` in network metres (minutes × speed)."""
        return float(minutes) * self.speed_m_per_min

    def label(self, lang: str) -> str:
        """Who or what is counted, in ``lang`` (``"en"``, else Chinese): "60岁以上居民"."""
        term = (POPULATION_GROUPS[self.group] if self.group is not None
                else DEMAND_MEASURES.get(self.column))
        return term.label(lang) if term is not None else self.column

    def statement(self, lang: str) -> str:
        """Who walks how fast: "60岁以上居民，步行60米/分钟", "residents 60+, walking 60 m/min"."""
        if lang == "en":
            return f"{self.label(lang)}, walking {self.speed_m_per_min:g} m/min"
        return f"{self.label(lang)}，步行{self.speed_m_per_min:g}米/分钟"

    def summary(self, minutes: float) -> dict[str, Any]:
        """JSON-ready: ``target_group``, ``speed_m_per_min``, ``budget_m`` (the circle of
        ``minutes``) and the statement in ``zh`` and ``en``."""
        return {"target_group": self.group, "speed_m_per_min": self.speed_m_per_min,
                "budget_m": self.budget_m(minutes), "zh": self.statement("zh"),
                "en": self.statement("en")}


def siting_demand(service_type: str, weight: str = "residents", *,
                  default_speed_m_per_min: float, target_group: str | None = None,
                  speed_m_per_min: float | None = None) -> SitingDemand:
    """The :class:`SitingDemand` of a scenario of ``service_type`` weighed by ``weight``.

    Group and speed are the type's by :func:`geo.coverage.analysis.type_walkers` (types
    without a speed of their own walk at ``default_speed_m_per_min``, m/min);
    ``target_group`` / ``speed_m_per_min`` replace them (a saved scenario's own). An
    unknown measure is an :class:`InvalidInputError`.
    """
    if weight not in WEIGHTS:
        raise InvalidInputError("unknown demand measure", [Problem(
            f"{weight!r} is not one of {list(WEIGHTS)}", field="weight")])
    walk = type_walkers([service_type], default_speed_m_per_min=default_speed_m_per_min,
                        target_group=target_group, speed_m_per_min=speed_m_per_min)
    w = walk[str(service_type)]
    group = {"residents": w.group, "elderly": str(PopulationGroup.AGE_60_PLUS)}.get(weight)
    return SitingDemand(weight=weight, group=group,
                        column=GROUP_COLUMNS[group] if group is not None else weight,
                        speed_m_per_min=w.speed_m_per_min)


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
    """Access points of compounds with ``id`` and ``weight`` columns (EPSG of the input);
    ``weight`` names a column of :data:`DEMAND_COLUMNS` (:attr:`SitingDemand.column`),
    missing values weigh 0."""
    if weight not in DEMAND_COLUMNS or weight not in compounds.columns:
        raise InvalidInputError("unknown demand measure", [Problem(
            f"{weight!r} is not one of {list(DEMAND_COLUMNS)}", field="weight")])
    d = compound_origins(compounds, id_col="id").rename(columns={"compound_id": "id"})
    d["weight"] = pd.to_numeric(compounds[weight], errors="coerce").fillna(0).to_numpy(float)
    return d


def prepare(net: StreetNetwork, compounds: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *,
            minutes: float = LIFE_CIRCLE_MINUTES, weight: str = "residents") -> WhatIf:
    """The what-if engine for ``compounds`` (``id`` + ``weight`` column, see
    :func:`demand_points`) and existing ``stations`` of the type within ``minutes`` of
    walking at the network's speed (the type's: :class:`SitingDemand`)."""
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
    net
        The walking network at the walkers' speed (:attr:`SitingDemand.speed_m_per_min`).
    compounds
        Compounds with ``id``, ``name``, the ``weight`` column (:attr:`SitingDemand.column`),
        polygons and optional ``gates`` (EPSG:4326).
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
