"""Exact siting with HiGHS (highspy): MILP formulations, LP relaxation bounds.

Formulations (``x_j`` binary = open candidate j; demand already covered by existing
stations, and pairs that cannot improve on a demand's existing cost, are left out):

* MCLP: ``max sum w_i z_i`` s.t. ``z_i <= sum_{j covers i} x_j``, ``0 <= z_i <= 1``,
  ``sum x_j = p``. Demand points with the same covering set are merged (weights summed).
* LSCP: phase 1 ``min sum x_j`` s.t. the MCLP coverage constraints and
  ``sum w_i z_i >= target``; phase 2 the MCLP with ``p`` = phase-1 optimum.
* p-median: ``min sum w_i c_ij y_ij + sum w_i d_i u_i`` s.t. ``sum_j y_ij + u_i = 1``,
  ``y_ij <= x_j``, ``sum x_j = p`` (``d_i`` = cost of the existing station or the unreached
  cost, whichever is lower; ``u_i`` = stays with it).
* Capacities: assignment variables ``y_ij`` for covering pairs (MCLP/LSCP) or all pairs
  (p-median), ``sum_i w_i y_ij <= cap_j x_j``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from geo.errors import InfeasibleError
from geo.siting.base import Model, SitingInstance, Solution


@dataclass(frozen=True)
class _Milp:
    c: np.ndarray
    a: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_hi: np.ndarray
    n_int: int  # the first n_int columns are binary
    maximize: bool


def _run(model: _Milp, *, relax: bool, time_limit_s: float, rel_gap: float,
         start: np.ndarray | None = None,
         options: dict[str, str | float | int | bool] | None = None) -> tuple[np.ndarray | None, float, float, str]:
    """Solve; returns (column values or None, objective, bound, status)."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    lp = highspy.HighsLp()
    ncol, nrow = model.c.size, model.row_lo.size
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_ = model.c
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = model.col_hi
    lp.row_lower_, lp.row_upper_ = model.row_lo, model.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = model.a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = model.a.indices.astype(np.int32)
    lp.a_matrix_.value_ = model.a.data.astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize if model.maximize else highspy.ObjSense.kMinimize
    if not relax and model.n_int:
        lp.integrality_ = ([highspy.HighsVarType.kInteger] * model.n_int
                           + [highspy.HighsVarType.kContinuous] * (ncol - model.n_int))
    h.passModel(lp)
    if start is not None and not relax:
        idx = np.arange(model.n_int, dtype=np.int32)
        h.setSolution(int(idx.size), idx, start.astype(float))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None, math.nan, math.nan, "infeasible"
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value) if has_sol else None
    obj = float(info.objective_function_value) if has_sol else math.nan
    if relax:
        bound = obj
    else:
        bound = float(info.mip_dual_bound)
    label = "optimal" if status == highspy.HighsModelStatus.kOptimal else (
        "time_limit" if status == highspy.HighsModelStatus.kTimeLimit else h.modelStatusToString(status))
    return values, obj, bound, label


# -- model builders ------------------------------------------------------------------------
def _coverage_rows(problem: SitingInstance) -> tuple[sp.csr_matrix, np.ndarray]:
    """Coverage matrix (merged demand × m) of not-yet-covered demand and merged weights."""
    r, c = problem.covering_pairs()
    n, m = problem.n_demand, problem.n_candidates
    a = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, m))
    a.sum_duplicates()
    rows_with = np.flatnonzero(np.diff(a.indptr) > 0)
    groups: dict[bytes, int] = {}
    label = np.empty(rows_with.size, dtype=np.int64)
    for k, i in enumerate(rows_with):
        key = a.indices[a.indptr[i]:a.indptr[i + 1]].tobytes()
        label[k] = groups.setdefault(key, len(groups))
    first = np.unique(label, return_index=True)[1]
    merged = a[rows_with[first]]
    w = np.bincount(label, weights=problem.weights[rows_with], minlength=len(groups))
    return sp.csr_matrix(merged), w


def _mclp_model(problem: SitingInstance, p: int | None, target: float | None) -> _Milp:
    cov, w = _coverage_rows(problem)
    k, m = cov.shape
    # rows: k coverage rows (z_i - sum x_j <= 0), one cardinality or target row
    a_x = -cov
    a_z = sp.identity(k, format="csr")
    top = sp.hstack([a_x, a_z])
    if target is None:
        last = sp.hstack([sp.csr_matrix(np.ones((1, m))), sp.csr_matrix((1, k))])
        lo_last, hi_last = float(p or 0), float(p or 0)
        c = np.concatenate([np.zeros(m), w])
        maximize = True
    else:
        last = sp.hstack([sp.csr_matrix((1, m)), sp.csr_matrix(w.reshape(1, -1))])
        lo_last, hi_last = target, math.inf
        c = np.concatenate([np.ones(m), np.zeros(k)])
        maximize = False
    a = sp.vstack([top, last]).tocsc()
    return _Milp(c=c, a=a, row_lo=np.concatenate([np.full(k, -math.inf), [lo_last]]),
                 row_hi=np.concatenate([np.zeros(k), [hi_last]]), col_hi=np.ones(m + k),
                 n_int=m, maximize=maximize)


def _assignment_model(problem: SitingInstance, model: Model, p: int | None,
                      target: float | None, unreached_cost: float) -> tuple[_Milp, np.ndarray,
                                                                            np.ndarray]:
    """x (m) | y (pairs) | u (rows); returns the model and the pairs' (row, col)."""
    m = problem.n_candidates
    w = problem.weights
    if model is Model.PMEDIAN:
        d0 = np.minimum(problem.existing_cost, unreached_cost)
        keep = problem.cost < d0[problem.row]
        r, c, cost = problem.row[keep], problem.col[keep], problem.cost[keep]
    else:
        r, c = problem.covering_pairs()
        cost = np.zeros(r.size)
    rows, r_local = np.unique(r, return_inverse=True)
    q, k = r.size, rows.size
    ar = np.arange(q)
    blocks = []
    # assignment: sum_j y_ij (+ u_i) = 1 (p-median) or <= 1 (coverage)
    assign = sp.hstack([sp.csr_matrix((k, m)), sp.csr_matrix((np.ones(q), (r_local, ar)),
                        shape=(k, q)),
                        sp.identity(k) if model is Model.PMEDIAN else sp.csr_matrix((k, k))])
    blocks.append((assign, np.ones(k) if model is Model.PMEDIAN else np.full(k, -math.inf),
                   np.ones(k)))
    link = sp.hstack([sp.csr_matrix((-np.ones(q), (ar, c)), shape=(q, m)),
                      sp.identity(q), sp.csr_matrix((q, k))])
    blocks.append((link, np.full(q, -math.inf), np.zeros(q)))
    if problem.capacities is not None:
        capr = sp.hstack([sp.diags(-problem.capacities), sp.csr_matrix((w[r], (c, ar)),
                          shape=(m, q)), sp.csr_matrix((m, k))])
        blocks.append((capr, np.full(m, -math.inf), np.zeros(m)))
    if target is None:
        card = sp.hstack([sp.csr_matrix(np.ones((1, m))), sp.csr_matrix((1, q + k))])
        blocks.append((card, np.array([float(p or 0)]), np.array([float(p or 0)])))
    else:
        tr = sp.hstack([sp.csr_matrix((1, m)), sp.csr_matrix(w[r].reshape(1, -1)),
                        sp.csr_matrix((1, k))])
        blocks.append((tr, np.array([target]), np.array([math.inf])))
    a = sp.vstack([b[0] for b in blocks]).tocsc()
    if model is Model.PMEDIAN:
        c_obj = np.concatenate([np.zeros(m), w[r] * cost, w[rows] * np.minimum(
            problem.existing_cost[rows], unreached_cost)])
        maximize = False
    elif target is None:
        c_obj, maximize = np.concatenate([np.zeros(m), w[r], np.zeros(k)]), True
    else:
        c_obj, maximize = np.concatenate([np.ones(m), np.zeros(q + k)]), False
    milp = _Milp(c=c_obj, a=a, row_lo=np.concatenate([b[1] for b in blocks]),
                 row_hi=np.concatenate([b[2] for b in blocks]), col_hi=np.ones(m + q + k),
                 n_int=m, maximize=maximize)
    return milp, r, c


def _build(problem: SitingInstance, model: Model, p: int | None, target: float | None,
           unreached_cost: float) -> tuple[_Milp, np.ndarray | None, np.ndarray | None]:
    if model is not Model.PMEDIAN and problem.capacities is None:
        return _mclp_model(problem, p, target), None, None
    return _assignment_model(problem, model, p, target, unreached_cost)


def lscp_target(problem: SitingInstance, target_share: float) -> float:
    """Newly covered weight LSCP must reach; raises InfeasibleError if out of reach."""
    w = problem.weights
    need = target_share * problem.total_weight - float(w[problem.existing_covered].sum())
    r, _ = problem.covering_pairs()
    reachable = float(w[np.unique(r)].sum())
    tol = 1e-9 * max(problem.total_weight, 1.0)
    if need > reachable + tol:
        best = (reachable + float(w[problem.existing_covered].sum())) / max(problem.total_weight,
                                                                            1e-300)
        raise InfeasibleError(f"target share {target_share:.4f} cannot be reached: every "
                              f"candidate together covers a share of {best:.4f}")
    return max(need - tol, 0.0)


def lp_relaxation(problem: SitingInstance, model: Model, *, p: int | None, target: float | None,
                  unreached_cost: float, time_limit_s: float = 60.0) -> tuple[float, np.ndarray]:
    """Bound from the LP relaxation (interior point + crossover) and the LP's site values.

    The bound is on newly covered weight (MCLP, upper), number of sites (LSCP, lower,
    rounded up) or weighted cost (p-median, lower). Site values are in [0, 1].
    """
    milp, _, _ = _build(problem, model, p, target, unreached_cost)
    vals, obj, _, status = _run(milp, relax=True, time_limit_s=time_limit_s, rel_gap=0.0,
                                options={"solver": "ipm"})
    x = np.zeros(problem.n_candidates) if vals is None else vals[:problem.n_candidates]
    if status != "optimal":
        return (math.inf if model is Model.MCLP else 0.0), x
    if model is Model.LSCP:
        return float(math.ceil(obj - 1e-6)), x
    return obj, x


def solve(problem: SitingInstance, model: Model, *, p: int | None, target_share: float | None,
          time_limit_s: float, rel_gap: float, unreached_cost: float,
          start: np.ndarray | None = None) -> Solution:
    """Exact MILP solve with HiGHS; ``start`` = candidate indices of a known solution."""
    t0 = time.perf_counter()
    if model is Model.LSCP:
        target = lscp_target(problem, float(target_share or 0.0))
        if target <= 0:
            return Solution(np.zeros(0, np.int64), 0.0, 0.0, "highs", "optimal")
        milp, _, _ = _build(problem, model, None, target, unreached_cost)
        x0 = None
        if start is not None:
            x0 = np.zeros(problem.n_candidates)
            x0[start] = 1
        vals, obj, bound, status = _run(milp, relax=False, time_limit_s=time_limit_s / 2,
                                        rel_gap=0.0, start=x0)
        if vals is None:
            raise InfeasibleError("no set of sites reaching the target was found in time")
        k = round(obj)
        left = time_limit_s - (time.perf_counter() - t0)
        cover = solve(problem, Model.MCLP, p=k, target_share=None, time_limit_s=max(left, 0.1),
                      rel_gap=rel_gap, unreached_cost=unreached_cost,
                      start=np.flatnonzero(vals[:problem.n_candidates] > 0.5))
        return Solution(cover.chosen, float(k), float(math.ceil(bound - 1e-6)), "highs",
                        status if status != "optimal" else cover.status, cover.served)
    milp, pr, pc = _build(problem, model, p, None, unreached_cost)
    x0 = None
    if start is not None:
        x0 = np.zeros(problem.n_candidates)
        x0[start] = 1
    vals, obj, bound, status = _run(milp, relax=False, time_limit_s=time_limit_s,
                                    rel_gap=rel_gap, start=x0)
    if vals is None:
        if start is not None:
            return Solution(np.asarray(start), math.nan, bound, "highs", status)
        raise InfeasibleError(f"HiGHS found no solution ({status})")
    chosen = np.flatnonzero(vals[:problem.n_candidates] > 0.5)
    served = None
    if pr is not None and pc is not None and problem.capacities is not None:
        y = vals[problem.n_candidates:problem.n_candidates + pr.size]
        per = np.bincount(pc, weights=problem.weights[pr] * y, minlength=problem.n_candidates)
        served = per[chosen]
    return Solution(chosen, obj, bound, "highs", status, served)


def best_of(model: Model, a: Solution, b: Solution) -> Solution:
    """The better of two solutions of one instance, with the tighter of their bounds."""
    maximize = model is Model.MCLP
    objs = [s.objective for s in (a, b)]
    if math.isnan(objs[1]):
        win = a
    elif math.isnan(objs[0]):
        win = b
    else:
        better_b = objs[1] > objs[0] if maximize else objs[1] < objs[0]
        win = b if better_b else a
    bounds = [s.bound for s in (a, b) if not math.isnan(s.bound)]
    bound = (min(bounds) if maximize else max(bounds)) if bounds else math.nan
    return Solution(win.chosen, win.objective, bound, f"{a.solver}+{b.solver}", b.status,
                    win.served)
