"""Direct evaluation of a set of sites: the min-cost form, greedy ranking, frozen results.

All three models are handled as one *min-cost* form: each demand ``i`` has a baseline
cost ``d0[i]`` (what it pays with no new site) and pair costs ``c[i, j]``; a set ``S``
costs ``sum w[i] * min(d0[i], min_{j in S} c[i, j])``.

* MCLP/LSCP: ``d0 = 1`` for demand not yet covered (0 otherwise), ``c = 0`` for covering
  pairs — the cost is the uncovered weight.
* p-median: ``d0 = min(existing_cost, unreached_cost)``, ``c`` the pair costs.

:func:`evaluate` turns any solver's :class:`~geo.siting.base.Solution` into the frozen
:class:`~geo.siting.base.SitingResult`: the chosen sites ranked in greedy order with
their exact marginal gains, the objective recomputed from the set (not taken from the
solver), coverage at the threshold and a bound never on the wrong side of the solution.
"""

from __future__ import annotations

import math

import numpy as np

from geo.siting.base import Model, SitingInstance, SitingResult, Solution, relative_gap


class MinCost:
    """The min-cost form of a problem: pairs reduced to those that can help."""

    def __init__(self, problem: SitingInstance, model: Model, unreached_cost: float) -> None:
        w = problem.weights
        if model is Model.PMEDIAN:
            self.d0 = np.minimum(problem.existing_cost, unreached_cost)
            keep = problem.cost < self.d0[problem.row]
            self.row, self.col = problem.row[keep], problem.col[keep]
            self.c = problem.cost[keep]
        else:
            self.d0 = np.where(problem.existing_covered, 0.0, 1.0)
            self.row, self.col = problem.covering_pairs()
            self.c = np.zeros(self.row.size)
        self.w = w
        self.wr = w[self.row]
        self.m = problem.n_candidates
        self.base = float(np.dot(w, self.d0))

    def current(self, chosen: np.ndarray) -> np.ndarray:
        """Each demand's cost given the open sites ``chosen`` (indices)."""
        cur: np.ndarray = self.d0.copy()
        mask = np.zeros(self.m, bool)
        mask[chosen] = True
        sel = mask[self.col]
        np.minimum.at(cur, self.row[sel], self.c[sel])
        return cur

    def cost(self, chosen: np.ndarray) -> float:
        return float(np.dot(self.w, self.current(chosen)))

    def gains(self, cur: np.ndarray) -> np.ndarray:
        """Decrease in cost if each site were added to the current state."""
        g = self.wr * np.maximum(cur[self.row] - self.c, 0.0)
        return np.bincount(self.col, weights=g, minlength=self.m)


class MinCostSubset:
    """Greedy order of a fixed set of sites with exact marginal gains."""

    def __init__(self, mc: MinCost, chosen: np.ndarray) -> None:
        cur = mc.d0.copy()
        left = [int(j) for j in chosen]
        self.order: list[int] = []
        self.gains: list[float] = []
        while left:
            g = mc.gains(cur)
            j = max(left, key=lambda k: (g[k], -k))
            self.order.append(j)
            self.gains.append(float(g[j]))
            left.remove(j)
            sel = mc.col == j
            np.minimum.at(cur, mc.row[sel], mc.c[sel])


def evaluate(problem: SitingInstance, model: Model, sol: Solution, *, unreached_cost: float,
           runtime_s: float) -> SitingResult:
    """Rank the chosen sites, evaluate them directly and freeze the result."""
    mc = MinCost(problem, model, unreached_cost)
    chosen = np.asarray(sol.chosen, dtype=np.int64)
    w = problem.weights
    existing = float(w[problem.existing_covered].sum())
    if sol.served is not None:
        rank = np.argsort(-sol.served, kind="stable")
        order, gains = chosen[rank].tolist(), [float(g) for g in sol.served[rank]]
    else:
        sub = MinCostSubset(mc, chosen)
        order, gains = sub.order, sub.gains
    # coverage of the final set (threshold), independent of the model's objective
    cov = problem.existing_covered.copy()
    mask = np.zeros(problem.n_candidates, bool)
    mask[chosen] = True
    within = mask[problem.col] & (problem.cost <= problem.threshold)
    cov[problem.row[within]] = True
    covered = float(w[cov].sum())
    if problem.capacities is not None and model is not Model.PMEDIAN:
        newly = float(sum(gains))
        covered = existing + newly
    else:
        newly = covered - existing
    if model is Model.MCLP:
        objective = newly
    elif model is Model.LSCP:
        objective = float(chosen.size)
    elif sol.served is not None:
        objective = sol.objective
    else:
        objective = mc.cost(chosen)
    unreached = 0.0
    if model is Model.PMEDIAN:
        reached = np.isfinite(problem.existing_cost)
        reached[problem.row[mask[problem.col]]] = True
        unreached = float(w[~reached].sum())
    bound = sol.bound
    if not math.isnan(bound):  # a valid bound is never on the wrong side of a solution
        bound = max(bound, objective) if model is Model.MCLP else min(bound, objective)
    gap = relative_gap(objective, bound) if not math.isnan(bound) else math.inf
    ids = tuple(problem.candidate_ids[j] for j in order)
    return SitingResult(model=model.value, chosen=ids, gains=tuple(gains),
                        covered_weight=covered, newly_covered_weight=newly,
                        existing_covered_weight=existing, total_weight=problem.total_weight,
                        objective=objective, bound=bound, gap=gap, solver=sol.solver,
                        status=sol.status, runtime_s=runtime_s, unreached_weight=unreached)
