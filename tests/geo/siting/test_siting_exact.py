"""Exact siting equals brute-force enumeration on small seeded instances."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linprog

from geo.errors import InfeasibleError
from geo.siting import SitingProblem

THRESHOLD = 8.0


def instance(seed: int, n: int = 30, m: int = 9) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 20, (n, m))
    cost[rng.random((n, m)) < 0.3] = np.inf
    weights = rng.integers(1, 100, n).astype(float)
    return cost, weights


def covered(cost: np.ndarray, w: np.ndarray, s: tuple[int, ...],
            existing: np.ndarray | None = None) -> float:
    hit = (cost[:, list(s)] <= THRESHOLD).any(axis=1) if s else np.zeros(len(w), bool)
    if existing is not None:
        hit &= ~existing
    return float(w[hit].sum())


def median_cost(cost: np.ndarray, w: np.ndarray, s: tuple[int, ...], cap: float,
                existing: np.ndarray | None = None) -> float:
    d = np.min(cost[:, list(s)], axis=1)
    if existing is not None:
        d = np.minimum(d, existing)
    return float((w * np.minimum(d, cap)).sum())


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("p", [1, 3])
def test_mclp_exact_equals_enumeration(seed, p):
    cost, w = instance(seed)
    best = max(covered(cost, w, s) for s in itertools.combinations(range(cost.shape[1]), p))
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD).solve("mclp", p=p,
                                                                       method="exact")
    assert len(r.chosen) == p
    assert r.objective == pytest.approx(best)
    assert covered(cost, w, r.chosen) == pytest.approx(best)
    assert r.gap == pytest.approx(0.0, abs=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lscp_exact_is_fewest_sites_then_most_coverage(seed):
    cost, w = instance(seed)
    m, target = cost.shape[1], 0.7
    need = target * w.sum()
    for k in range(m + 1):
        best = max(covered(cost, w, s) for s in itertools.combinations(range(m), k))
        if best >= need - 1e-9:
            break
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD).solve(
        "lscp", target_share=target, method="exact")
    assert len(r.chosen) == k and r.objective == k
    assert r.covered_weight == pytest.approx(best)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_pmedian_exact_equals_enumeration(seed):
    cost, w = instance(seed)
    cap = float(cost[np.isfinite(cost)].max())
    best = min(median_cost(cost, w, s, cap) for s in itertools.combinations(range(9), 3))
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD).solve("pmedian", p=3,
                                                                       method="exact")
    assert r.objective == pytest.approx(best)
    assert median_cost(cost, w, r.chosen, cap) == pytest.approx(best)


def test_mclp_existing_coverage_adds_nothing():
    # demand 0 (100 residents) already covered; site 0 reaches only it, site 1 reaches demand 1
    cost = np.array([[1.0, np.inf], [np.inf, 2.0], [np.inf, np.inf]])
    w = np.array([100.0, 10.0, 5.0])
    r = SitingProblem.from_matrix(cost, w, threshold=5, existing_covered=np.array(
        [True, False, False])).solve("mclp", p=1, method="exact")
    assert r.chosen == (1,)
    assert (r.newly_covered_weight, r.existing_covered_weight, r.covered_weight) == (10, 100, 110)


@pytest.mark.parametrize("seed", [4, 5])
def test_mclp_with_existing_equals_enumeration(seed):
    cost, w = instance(seed)
    existing = np.random.default_rng(seed).random(len(w)) < 0.4
    best = max(covered(cost, w, s, existing) for s in itertools.combinations(range(9), 2))
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD, existing_covered=existing).solve(
        "mclp", p=2, method="exact")
    assert r.objective == pytest.approx(best)
    assert r.covered_weight == pytest.approx(best + w[existing].sum())


def test_pmedian_with_existing_station_equals_enumeration():
    cost, w = instance(6)
    existing = np.random.default_rng(6).uniform(0, 15, len(w))
    cap = float(max(cost[np.isfinite(cost)].max(), existing.max()))
    best = min(median_cost(cost, w, s, cap, existing) for s in itertools.combinations(range(9), 2))
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD, existing_cost=existing).solve(
        "pmedian", p=2, method="exact")
    assert r.objective == pytest.approx(best)


def test_lscp_unreachable_target_is_infeasible():
    cost = np.array([[1.0, np.inf], [np.inf, np.inf]])
    prob = SitingProblem.from_matrix(cost, np.array([1.0, 1.0]), threshold=5)
    with pytest.raises(InfeasibleError, match="0.5"):
        prob.solve("lscp", target_share=0.9, method="exact")


def test_lscp_target_met_by_existing_needs_no_site():
    cost = np.array([[1.0], [2.0]])
    r = SitingProblem.from_matrix(cost, np.array([3.0, 1.0]), threshold=5,
                                  existing_covered=np.array([True, False])).solve(
        "lscp", target_share=0.75, method="exact")
    assert r.chosen == () and r.covered_share == 0.75


def _max_flow_cover(cost, w, caps, s):
    g = nx.DiGraph()
    for i in range(len(w)):
        g.add_edge("src", ("d", i), capacity=float(w[i]))
        for j in s:
            if cost[i, j] <= THRESHOLD:
                g.add_edge(("d", i), ("s", j), capacity=float(w[i]))
    for j in s:
        g.add_edge(("s", j), "sink", capacity=float(caps[j]))
    return nx.maximum_flow_value(g, "src", "sink") if len(s) else 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_capacitated_mclp_equals_max_flow_enumeration(seed):
    cost, w = instance(seed, n=15, m=6)
    caps = np.random.default_rng(seed).uniform(50, 300, 6)
    best = max(_max_flow_cover(cost, w, caps, s) for s in itertools.combinations(range(6), 2))
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD, capacities=caps).solve(
        "mclp", p=2, method="exact")
    assert r.objective == pytest.approx(best, rel=1e-6)
    assert sum(r.gains) == pytest.approx(best, rel=1e-6)
    assert all(g <= caps[j] + 1e-6 for j, g in zip(r.chosen, r.gains))


def _transport_cost(cost, w, caps, s, cap_cost):
    # independent LP: assign each demand to open sites (capacitated) or to "unreached"
    n, k = len(w), len(s)
    c = np.array([[min(cost[i, j], cap_cost) for j in s] + [cap_cost] for i in range(n)])
    a_eq = np.zeros((n, n * (k + 1)))
    for i in range(n):
        a_eq[i, i * (k + 1):(i + 1) * (k + 1)] = 1
    a_ub = np.zeros((k, n * (k + 1)))
    for t in range(k):
        a_ub[t, t::k + 1] = w
    res = linprog((c * w[:, None]).ravel(), A_ub=a_ub, b_ub=caps[list(s)], A_eq=a_eq,
                  b_eq=np.ones(n), bounds=(0, 1))
    return res.fun


def test_capacitated_pmedian_equals_lp_enumeration():
    cost, w = instance(2, n=12, m=5)
    caps = np.full(5, 200.0)
    cap_cost = float(cost[np.isfinite(cost)].max())
    best = min(_transport_cost(cost, w, caps, s, cap_cost)
               for s in itertools.combinations(range(5), 2))
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD, capacities=caps).solve(
        "pmedian", p=2, method="exact")
    assert r.objective == pytest.approx(best, rel=1e-6)
