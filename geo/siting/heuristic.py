"""Greedy + swap local search for MCLP, LSCP and p-median; direct evaluation and ranking.

All three models are handled as one *min-cost* form: each demand ``i`` has a baseline
cost ``d0[i]`` (what it pays with no new site) and pair costs ``c[i, j]``; a set ``S``
costs ``sum w[i] * min(d0[i], min_{j in S} c[i, j])``.

* MCLP/LSCP: ``d0 = 1`` for demand not yet covered (0 otherwise), ``c = 0`` for covering
  pairs — the cost is the uncovered weight.
* p-median: ``d0 = min(existing_cost, unreached_cost)``, ``c`` the pair costs.

Greedy adds the site of largest gain, recomputing every gain exactly with one vectorised
pass over the pairs per step (O(pairs); cheaper than lazy evaluation at these sizes). The
swap search then applies the best improving (out, in) exchange until none improves, using
the classic fast-swap decomposition: ``delta(k in, j out) = loss_j - gain_k + extra[k, j]``
with ``loss_j`` from each demand's best and second-best open site.
"""

from __future__ import annotations

import math
import time

import numpy as np

from geo.siting import exact
from geo.siting.exact import Solution
from geo.siting.problem import Model, SitingProblem, SitingResult, relative_gap


class MinCost:
    """The min-cost form of a problem: pairs reduced to those that can help."""

    def __init__(self, problem: SitingProblem, model: Model, unreached_cost: float) -> None:
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

    def greedy(self, p: int, start: np.ndarray | None = None) -> tuple[list[int], list[float]]:
        """Add ``p`` sites one by one; returns indices and gains in order."""
        cur = self.current(start) if start is not None else self.d0.copy()
        taken = np.zeros(self.m, bool)
        if start is not None:
            taken[start] = True
        order, gains = [], []
        for _ in range(p):
            g = self.gains(cur)
            g[taken] = -1.0
            j = int(np.argmax(g))
            order.append(j)
            gains.append(float(max(g[j], 0.0)))
            taken[j] = True
            sel = self.col == j
            np.minimum.at(cur, self.row[sel], self.c[sel])
        return order, gains

    def swap(self, chosen: np.ndarray, *, deadline: float, max_rounds: int = 500) -> np.ndarray:
        """Best-improvement swap local search from ``chosen`` (indices)."""
        chosen = np.array(chosen, dtype=np.int64)
        p = chosen.size
        if p == 0 or p >= self.m:
            return chosen
        n = self.d0.size
        tol = 1e-9 * max(self.base, 1.0)
        for _ in range(max_rounds):
            if time.perf_counter() > deadline:
                break
            pos = np.full(self.m, -1)
            pos[chosen] = np.arange(p)
            sel = pos[self.col] >= 0
            # best and second best per demand among open sites and the baseline (-1)
            rows = np.concatenate([self.row[sel], np.arange(n)])
            costs = np.concatenate([self.c[sel], self.d0])
            site = np.concatenate([pos[self.col[sel]], np.full(n, -1)])
            order = np.lexsort((site == -1, costs, rows))
            rows, costs, site = rows[order], costs[order], site[order]
            first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            d1, a1 = costs[first], site[first]
            has2 = np.r_[first[1:], rows.size] - first > 1
            d2 = np.where(has2, costs[np.minimum(first + 1, rows.size - 1)], np.inf)
            loss = np.bincount(a1[a1 >= 0], weights=(self.w * (d2 - d1))[a1 >= 0], minlength=p)
            gain = self.gains(d1)
            ai = a1[self.row]
            hit = (ai >= 0) & (self.c < d2[self.row])
            extra = np.zeros((self.m, p))
            np.add.at(extra, (self.col[hit], ai[hit]),
                      self.wr[hit] * (np.maximum(self.c[hit], d1[self.row[hit]])
                                      - d2[self.row[hit]]))
            delta = loss[None, :] - gain[:, None] + extra
            delta[chosen, :] = np.inf
            k, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if not delta[k, j] < -tol:
                break
            chosen[j] = k
        return chosen


def _reach(mc: MinCost, order: list[int], target: float) -> np.ndarray:
    """Sites taken in ``order`` until the newly covered weight reaches ``target``, then
    pruned (a site goes when the rest still reach it), cheapest loss first."""
    cur = mc.d0.copy()
    taken: list[int] = []
    for j in order:
        if mc.base - float(np.dot(mc.w, cur)) >= target:
            break
        taken.append(j)
        sel = mc.col == j
        np.minimum.at(cur, mc.row[sel], mc.c[sel])
    arr = np.array(taken, dtype=np.int64)
    for j in sorted(taken, key=lambda j: mc.base - mc.cost(arr[arr != j])):
        trial = arr[arr != j]
        if mc.base - mc.cost(trial) >= target:
            arr = trial
    return arr


def _lscp(problem: SitingProblem, mc: MinCost, target: float, unreached_cost: float,
          deadline: float) -> Solution:
    if target <= 0:
        return exact.Solution(np.zeros(0, np.int64), 0.0, 0.0, "greedy+swap", "heuristic")
    greedy_order, _ = mc.greedy(mc.m)
    bound, x = exact.lp_relaxation(problem, Model.LSCP, p=None, target=target,
                                   unreached_cost=unreached_cost,
                                   time_limit_s=max(deadline - time.perf_counter(), 1.0))
    rank = {j: k for k, j in enumerate(greedy_order)}
    lp_order = sorted(range(mc.m), key=lambda j: (-round(float(x[j]), 6), rank[j]))
    best = None
    for order in (greedy_order, lp_order):
        arr = _reach(mc, order, target)
        arr = mc.swap(arr, deadline=deadline)  # more coverage with as many sites,
        arr = _reach(mc, arr.tolist(), target)  # which may let one go
        key = (arr.size, mc.cost(arr))
        if best is None or key < best[0]:
            best = (key, arr)
    assert best is not None
    return exact.Solution(best[1], float(best[1].size), bound, "greedy+swap", "heuristic")


def solve(problem: SitingProblem, model: Model, *, p: int | None, target_share: float | None,
          unreached_cost: float, time_limit_s: float) -> Solution:
    """Greedy + swap and LP rounding + swap, the better of the two; the bound is the LP
    relaxation solved with HiGHS (interior point)."""
    deadline = time.perf_counter() + time_limit_s
    mc = MinCost(problem, model, unreached_cost)
    if model is Model.LSCP:
        target = exact.lscp_target(problem, float(target_share or 0.0))
        return _lscp(problem, mc, target, unreached_cost, deadline)
    k = int(p or 0)
    order, _ = mc.greedy(k)
    starts = [np.array(order, dtype=np.int64)]
    bound, x = exact.lp_relaxation(problem, model, p=p, target=None,
                                   unreached_cost=unreached_cost,
                                   time_limit_s=max(deadline - time.perf_counter(), 1.0))
    if k:
        starts.append(np.argsort(-x, kind="stable")[:k].astype(np.int64))
    best = None
    for s in starts:
        arr = mc.swap(s, deadline=deadline)
        value = mc.cost(arr)
        if best is None or value < best[0]:
            best = (value, arr)
    assert best is not None
    value, arr = best
    obj = mc.base - value if model is Model.MCLP else value
    if model is Model.MCLP:
        bound = min(bound, mc.base)
    return exact.Solution(arr, obj, bound, "greedy+swap", "heuristic")


def result(problem: SitingProblem, model: Model, sol: Solution, *, unreached_cost: float,
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
