"""Greedy + swap local search for MCLP, LSCP and p-median, with an LP relaxation bound.

The search works on the *min-cost* form of :mod:`geo.siting.evaluate` (one form for all
three models). Greedy adds the site of largest gain, recomputing every gain exactly with
one vectorised pass over the pairs per step (O(pairs); cheaper than lazy evaluation at
these sizes). The swap search then applies the best improving (out, in) exchange until none improves, using
the classic fast-swap decomposition: ``delta(k in, j out) = loss_j - gain_k + extra[k, j]``
with ``loss_j`` from each demand's best and second-best open site.
"""

from __future__ import annotations

import time

import numpy as np

from geo.siting import exact
from geo.siting.base import Model, SitingInstance, Solution
from geo.siting.evaluate import MinCost


def greedy(mc: MinCost, p: int, start: np.ndarray | None = None) -> tuple[list[int], list[float]]:
    """Add ``p`` sites one by one; returns indices and gains in order."""
    cur = mc.current(start) if start is not None else mc.d0.copy()
    taken = np.zeros(mc.m, bool)
    if start is not None:
        taken[start] = True
    order, gains = [], []
    for _ in range(p):
        g = mc.gains(cur)
        g[taken] = -1.0
        j = int(np.argmax(g))
        order.append(j)
        gains.append(float(max(g[j], 0.0)))
        taken[j] = True
        sel = mc.col == j
        np.minimum.at(cur, mc.row[sel], mc.c[sel])
    return order, gains


def swap(mc: MinCost, chosen: np.ndarray, *, deadline: float, max_rounds: int = 500) -> np.ndarray:
    """Best-improvement swap local search from ``chosen`` (indices)."""
    chosen = np.array(chosen, dtype=np.int64)
    p = chosen.size
    if p == 0 or p >= mc.m:
        return chosen
    n = mc.d0.size
    tol = 1e-9 * max(mc.base, 1.0)
    for _ in range(max_rounds):
        if time.perf_counter() > deadline:
            break
        pos = np.full(mc.m, -1)
        pos[chosen] = np.arange(p)
        sel = pos[mc.col] >= 0
        # best and second best per demand among open sites and the baseline (-1)
        rows = np.concatenate([mc.row[sel], np.arange(n)])
        costs = np.concatenate([mc.c[sel], mc.d0])
        site = np.concatenate([pos[mc.col[sel]], np.full(n, -1)])
        order = np.lexsort((site == -1, costs, rows))
        rows, costs, site = rows[order], costs[order], site[order]
        first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        d1, a1 = costs[first], site[first]
        has2 = np.r_[first[1:], rows.size] - first > 1
        d2 = np.where(has2, costs[np.minimum(first + 1, rows.size - 1)], np.inf)
        on = a1 >= 0  # served by an open site (then d2 is finite: the baseline is there)
        loss = np.bincount(a1[on], weights=mc.w[on] * (d2[on] - d1[on]), minlength=p)
        gain = mc.gains(d1)
        ai = a1[mc.row]
        hit = (ai >= 0) & (mc.c < d2[mc.row])
        extra = np.zeros((mc.m, p))
        np.add.at(extra, (mc.col[hit], ai[hit]),
                  mc.wr[hit] * (np.maximum(mc.c[hit], d1[mc.row[hit]]) - d2[mc.row[hit]]))
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


def _lscp(problem: SitingInstance, mc: MinCost, target: float, unreached_cost: float,
          deadline: float) -> Solution:
    if target <= 0:
        return Solution(np.zeros(0, np.int64), 0.0, 0.0, "greedy+swap", "heuristic")
    greedy_order, _ = greedy(mc, mc.m)
    bound, x = exact.lp_relaxation(problem, Model.LSCP, p=None, target=target,
                                   unreached_cost=unreached_cost,
                                   time_limit_s=max(deadline - time.perf_counter(), 1.0))
    rank = {j: k for k, j in enumerate(greedy_order)}
    lp_order = sorted(range(mc.m), key=lambda j: (-round(float(x[j]), 6), rank[j]))
    best = None
    for order in (greedy_order, lp_order):
        arr = _reach(mc, order, target)
        arr = swap(mc, arr, deadline=deadline)  # more coverage with as many sites,
        arr = _reach(mc, arr.tolist(), target)  # which may let one go
        key = (arr.size, mc.cost(arr))
        if best is None or key < best[0]:
            best = (key, arr)
    assert best is not None
    return Solution(best[1], float(best[1].size), bound, "greedy+swap", "heuristic")


def solve(problem: SitingInstance, model: Model, *, p: int | None, target_share: float | None,
          unreached_cost: float, time_limit_s: float) -> Solution:
    """Greedy + swap and LP rounding + swap, the better of the two; the bound is the LP
    relaxation solved with HiGHS (interior point)."""
    deadline = time.perf_counter() + time_limit_s
    mc = MinCost(problem, model, unreached_cost)
    if model is Model.LSCP:
        target = exact.lscp_target(problem, float(target_share or 0.0))
        return _lscp(problem, mc, target, unreached_cost, deadline)
    k = int(p or 0)
    order, _ = greedy(mc, k)
    starts = [np.array(order, dtype=np.int64)]
    bound, x = exact.lp_relaxation(problem, model, p=p, target=None,
                                   unreached_cost=unreached_cost,
                                   time_limit_s=max(deadline - time.perf_counter(), 1.0))
    if k:
        starts.append(np.argsort(-x, kind="stable")[:k].astype(np.int64))
    best = None
    for s in starts:
        arr = swap(mc, s, deadline=deadline)
        value = mc.cost(arr)
        if best is None or value < best[0]:
            best = (value, arr)
    assert best is not None
    value, arr = best
    obj = mc.base - value if model is Model.MCLP else value
    if model is Model.MCLP:
        bound = min(bound, mc.base)
    return Solution(arr, obj, bound, "greedy+swap", "heuristic")


