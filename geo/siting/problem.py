"""Siting problems on a plain cost matrix: the models, how a problem is built and solved.

The solver core
---------------
Input: a cost matrix ``cost`` (``n`` demand points × ``m`` candidate sites, walking minutes or
metres — any non-negative unit, the same as ``threshold``), demand ``weights`` (``n``,
residents by default), a coverage ``threshold`` and ``p``.

* ``cost`` is a dense ``numpy`` array (``inf``/``NaN`` = unreachable) or a ``scipy.sparse``
  matrix whose *stored* entries are the reachable costs (explicit zeros are costs of 0;
  entries not stored are unreachable, e.g. beyond the network cutoff).
* Demand ``i`` is *covered* by site ``j`` when ``cost[i, j] <= threshold``.
* ``existing_covered`` (bool, ``n``) marks demand already covered by existing stations of
  the type; ``existing_cost`` (``n``, ``inf`` = none) is each demand's cost to its nearest
  existing station (p-median). Existing stations are open and uncapacitated.

Models (``S`` = chosen candidates, ``E`` = existing coverage, ``W = sum(weights)``):

* **MCLP** — choose exactly ``p`` sites maximising the *newly* covered weight
  ``sum(w[i] for i not in E if some j in S covers i)``.
* **LSCP** — the fewest sites such that the covered share ``(covered incl. E) / W`` reaches
  ``target_share``; among those, the most covered weight. No such set →
  :class:`~geo.errors.InfeasibleError`.
* **p-median** — choose exactly ``p`` sites minimising
  ``sum(w[i] * min(existing_cost[i], min(cost[i, j] for j in S), unreached_cost))``;
  ``unreached_cost`` defaults to the largest finite cost in the matrix (for a matrix cut off
  at a network cutoff: about the cutoff), so demand out of reach of every open site counts
  at that cost and is reported as ``unreached_weight``.
* **capacities** (``m``, in weight units, optional): each new site serves at most its
  capacity; demand may be split between sites (continuous assignment). Exact method only.

Checking against another solver: the chosen set of an ``exact`` solve attains the optimum of
the model above (within ``rel_gap``); ``SitingResult.objective`` is recomputed from the
chosen set by direct evaluation, not taken from the solver.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from geo.errors import InvalidInputError, Problem
from geo.network.graph import StreetNetwork
from geo.siting import exact, heuristic
from geo.siting.base import Model, SitingInstance, SitingResult, Solution
from geo.siting.evaluate import evaluate
from geo.siting.whatif import WhatIf


class SitingProblem(SitingInstance):
    """Demand × candidate costs with demand weights; build with :meth:`from_matrix`,
    :meth:`from_whatif` or :meth:`from_network`, then :meth:`solve`.

    Internally the finite costs are kept as pairs ``(row, col, cost)``; every array is
    read-only (see :class:`~geo.siting.base.SitingInstance`). See the module docstring for
    the models.
    """

    @classmethod
    def from_matrix(cls, cost: Any, weights: Any, *, threshold: float,
                    existing_covered: Any = None, existing_cost: Any = None,
                    candidate_ids: Sequence[Hashable] | None = None,
                    capacities: Any = None,
                    demand_ids: Sequence[Hashable] | None = None) -> SitingProblem:
        """Build a problem from a demand × candidate cost matrix (see the module docstring).

        Raises
        ------
        InvalidInputError
            Listing every problem found (shapes, negative or NaN weights, negative costs,
            duplicate candidate ids, ...).
        """
        problems: list[Problem] = []
        if sp.issparse(cost):
            coo = sp.coo_matrix(cost)
            if coo.ndim != 2:
                raise InvalidInputError("invalid cost matrix", [Problem("must be 2-D", field="cost")])
            n, m = coo.shape
            row, col = coo.row.astype(np.int64), coo.col.astype(np.int64)
            val = np.asarray(coo.data, dtype=float)
            if np.unique(row * m + col).size != row.size:
                problems.append(Problem("duplicate stored entries", field="cost"))
        else:
            dense = np.asarray(cost, dtype=float)
            if dense.ndim != 2:
                raise InvalidInputError("invalid cost matrix", [Problem("must be 2-D", field="cost")])
            n, m = dense.shape
            row, col = np.nonzero(np.isfinite(dense))
            val = dense[row, col]
        keep = np.isfinite(val)
        row, col, val = row[keep], col[keep], val[keep]
        if (val < 0).any():
            problems.append(Problem(f"{int((val < 0).sum())} negative cost(s)", field="cost"))
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != (n,):
            problems.append(Problem(f"expected {n} weights, got {w.size}", field="weights"))
        elif not (np.isfinite(w) & (w >= 0)).all():
            bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
            problems += [Problem("weight must be finite and >= 0", row=int(i), field="weights")
                         for i in bad[:20]]
        if not (np.isfinite(threshold) and threshold >= 0):
            problems.append(Problem("threshold must be finite and >= 0", field="threshold"))
        ecost = np.full(n, np.inf)
        if existing_cost is not None:
            ecost = np.asarray(existing_cost, dtype=float).ravel()
            if ecost.shape != (n,):
                problems.append(Problem(f"expected {n} values", field="existing_cost"))
            else:
                ecost = np.where(np.isnan(ecost), np.inf, ecost)
                if (ecost < 0).any():
                    problems.append(Problem("negative cost(s)", field="existing_cost"))
        if existing_covered is None:
            ecov = ecost <= threshold if ecost.shape == (n,) else np.zeros(n, bool)
        else:
            ecov = np.asarray(existing_covered).ravel()
            if ecov.shape != (n,) or ecov.dtype != bool:
                problems.append(Problem(f"expected {n} booleans", field="existing_covered"))
        ids: tuple[Hashable, ...] = tuple(range(m)) if candidate_ids is None else tuple(candidate_ids)
        if len(ids) != m:
            problems.append(Problem(f"expected {m} ids, got {len(ids)}", field="candidate_ids"))
        elif len(set(ids)) != m:
            problems.append(Problem("candidate ids are not unique", field="candidate_ids"))
        caps = None
        if capacities is not None:
            caps = np.asarray(capacities, dtype=float).ravel()
            if caps.shape != (m,):
                problems.append(Problem(f"expected {m} capacities", field="capacities"))
            elif not (np.isfinite(caps) & (caps >= 0)).all():
                problems.append(Problem("capacities must be finite and >= 0", field="capacities"))
        dids: tuple[Hashable, ...] = tuple(range(n)) if demand_ids is None else tuple(demand_ids)
        if len(dids) != n:
            problems.append(Problem(f"expected {n} ids, got {len(dids)}", field="demand_ids"))
        if problems:
            raise InvalidInputError("invalid siting problem", problems)
        order = np.lexsort((row, col))
        arrays = [row[order].astype(np.int64), col[order].astype(np.int64), val[order], w,
                  ecov.astype(bool), ecost]
        if caps is not None:
            arrays.append(caps)
        for a in arrays:
            a.setflags(write=False)
        return cls(row=arrays[0], col=arrays[1], cost=arrays[2], weights=w,
                   threshold=float(threshold), existing_covered=arrays[4],
                   existing_cost=ecost, candidate_ids=ids, capacities=caps,
                   n_demand=int(n), n_candidates=int(m), demand_ids=dids)

    @classmethod
    def from_whatif(cls, whatif: WhatIf, candidates: gpd.GeoDataFrame, *,
                    candidate_id_col: str | None = "id",
                    capacities: Any = None) -> SitingProblem:
        """Walking-time problem from a precomputed :class:`~geo.siting.whatif.WhatIf`.

        Costs and threshold are minutes at the network's speed; existing stations come
        from ``whatif``. Demand not snapped to a street and candidates farther than
        ``max_snap_m`` from every street reach nothing and are listed in
        ``unmatched_demand`` / ``unmatched_candidates``.
        """
        reach = whatif.reach
        s = reach.snap_sites(candidates)
        r, c, metres = reach.matrix(s)
        speed = reach.net.speed_m_per_min
        n, m = reach.n_demand, len(candidates)
        ids = (candidates[candidate_id_col].to_numpy() if candidate_id_col
               else candidates.index.to_numpy())
        prob = cls.from_matrix(
            sp.coo_matrix((metres / speed, (r, c)), shape=(n, m)), whatif.weights,
            threshold=reach.budget_m / speed, existing_covered=whatif.covered,
            existing_cost=whatif.existing_m / speed, candidate_ids=tuple(ids.tolist()),
            capacities=capacities, demand_ids=tuple(reach.demand_ids.tolist()))
        return dataclasses.replace(
            prob, unmatched_demand=tuple(reach.demand_ids[~reach.snapped].tolist()),
            unmatched_candidates=tuple(ids[~s.snapped].tolist()))

    @classmethod
    def from_network(cls, net: StreetNetwork, demand: gpd.GeoDataFrame,
                     candidates: gpd.GeoDataFrame, *, minutes: float | None = None,
                     metres: float | None = None, weight_col: str = "residents",
                     id_col: str | None = "id", candidate_id_col: str | None = "id",
                     existing: gpd.GeoDataFrame | None = None, capacities: Any = None,
                     max_snap_m: float = 250.0) -> SitingProblem:
        """Walking-time problem on a street network.

        Parameters
        ----------
        demand
            Access points (Point, or MultiPoint of compound gates — the best gate counts)
            with ``weight_col`` (e.g. residents); any declared CRS, usually EPSG:4326.
        candidates
            Candidate sites (Points) with ids in ``candidate_id_col``.
        minutes, metres
            The circle: give one (minutes × the network's speed, or network metres).
        existing
            Existing stations of the type (Points); they already cover what they reach.
        """
        wi = WhatIf.build(net, demand, budget_m=net.budget_m(minutes=minutes, metres=metres),
                          weight_col=weight_col, id_col=id_col, existing=existing,
                          max_snap_m=max_snap_m)
        return cls.from_whatif(wi, candidates, candidate_id_col=candidate_id_col,
                               capacities=capacities)

    def solve(self, model: str = "mclp", *, p: int | None = None,
              target_share: float | None = None, method: str = "auto",
              time_limit_s: float = 60.0, rel_gap: float = 1e-4,
              unreached_cost: float | None = None) -> SitingResult:
        """Solve ``model`` ("mclp", "lscp" or "pmedian"); see the module docstring.

        Parameters
        ----------
        p
            Number of new sites (MCLP, p-median); at most the number of candidates.
        target_share
            Covered share to reach, in [0, 1] (LSCP).
        method
            "exact" (HiGHS MILP), "heuristic" (greedy + swap local search, gap against the
            LP relaxation bound) or "auto" (heuristic; if its gap exceeds ``rel_gap``, the
            MILP warm-started from it, in the remaining time).
        time_limit_s
            Wall-clock limit for the MILP (seconds); on hitting it the best solution found is
            returned with ``status="time_limit"`` and its proven gap.
        rel_gap
            Relative optimality gap at which a solve may stop.
        unreached_cost
            p-median cost of demand out of reach of every open site (see module docstring).

        Raises
        ------
        InvalidInputError
            Bad model, method, ``p`` or ``target_share``.
        InfeasibleError
            LSCP target not reachable even with every candidate.
        """
        problems: list[Problem] = []
        try:
            mdl = Model(model)
        except ValueError:
            raise InvalidInputError("unknown model", [Problem(
                f"{model!r} is not one of {[m.value for m in Model]}", field="model")]) from None
        if method not in ("exact", "heuristic", "auto"):
            problems.append(Problem(f"{method!r} is not exact, heuristic or auto", field="method"))
        if mdl in (Model.MCLP, Model.PMEDIAN):
            if p is None or not isinstance(p, (int, np.integer)) or not 0 <= p <= self.n_candidates:
                problems.append(Problem(f"p must be an integer in [0, {self.n_candidates}]",
                                        field="p"))
        elif target_share is None or not 0.0 <= float(target_share) <= 1.0:
            problems.append(Problem("target_share must be in [0, 1]", field="target_share"))
        if not (time_limit_s > 0):
            problems.append(Problem("must be > 0", field="time_limit_s"))
        if method == "heuristic" and self.capacities is not None:
            problems.append(Problem("the heuristic does not handle capacities; use exact",
                                    field="method"))
        if problems:
            raise InvalidInputError("invalid siting request", problems)
        t0 = time.perf_counter()
        if self.capacities is not None:
            method = "exact"
        u = self.default_unreached_cost() if unreached_cost is None else float(unreached_cost)
        sol: Solution
        if method == "exact":
            sol = exact.solve(self, mdl, p=p, target_share=target_share,
                              time_limit_s=time_limit_s, rel_gap=rel_gap, unreached_cost=u)
        else:
            sol = heuristic.solve(self, mdl, p=p, target_share=target_share, unreached_cost=u,
                                  time_limit_s=time_limit_s)
            if method == "auto" and sol.gap > rel_gap:
                left = max(time_limit_s - (time.perf_counter() - t0), 0.1)
                better = exact.solve(self, mdl, p=p, target_share=target_share,
                                     time_limit_s=left, rel_gap=rel_gap, unreached_cost=u,
                                     start=sol.chosen)
                sol = exact.best_of(mdl, sol, better)
        return evaluate(self, mdl, sol, unreached_cost=u, runtime_s=time.perf_counter() - t0)
