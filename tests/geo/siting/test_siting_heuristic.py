"""The heuristic stays within its reported gap; ranking and gains."""

from __future__ import annotations

import numpy as np
import pytest
from test_siting_exact import THRESHOLD, covered, instance

from geo.siting import SitingProblem


def bigger(seed: int) -> SitingProblem:
    rng = np.random.default_rng(seed)
    demand, sites = rng.uniform(0, 3000, (400, 2)), rng.uniform(0, 3000, (60, 2))
    d = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    d[d > 1500] = np.inf
    return SitingProblem.from_matrix(d, rng.integers(10, 500, 400), threshold=400.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("model", ["mclp", "pmedian"])
def test_heuristic_within_reported_gap_of_optimum(seed, model):
    prob = bigger(seed)
    h = prob.solve(model, p=6, method="heuristic")
    e = prob.solve(model, p=6, method="exact", rel_gap=0.0)
    assert h.status == "heuristic" and e.status == "optimal"
    assert abs(e.objective - h.objective) <= h.gap * max(h.objective, h.bound) + 1e-6
    # the bound is a valid bound on the optimum
    if model == "mclp":
        assert h.bound >= e.objective - 1e-6
    else:
        assert h.bound <= e.objective + 1e-6


@pytest.mark.parametrize("seed", [0, 1])
def test_heuristic_lscp_reaches_target_within_gap(seed):
    prob = bigger(seed)
    h = prob.solve("lscp", target_share=0.6, method="heuristic")
    e = prob.solve("lscp", target_share=0.6, method="exact")
    assert h.covered_share >= 0.6 - 1e-9
    assert e.objective <= h.objective
    assert h.objective - e.objective <= h.gap * h.objective + 1e-9


def test_heuristic_respects_existing_coverage():
    cost, w = instance(3)
    existing = np.zeros(len(w), bool)
    # mark everything site 0 covers as already covered: site 0 can then add nothing
    existing[cost[:, 0] <= THRESHOLD] = True
    r = SitingProblem.from_matrix(cost, w, threshold=THRESHOLD, existing_covered=existing).solve(
        "mclp", p=2, method="heuristic")
    assert r.newly_covered_weight == pytest.approx(covered(cost, w, r.chosen, existing))
    assert 0 not in r.chosen or r.gains[r.chosen.index(0)] == 0


@pytest.mark.parametrize("model", ["mclp", "pmedian"])
def test_gains_are_ranked_and_sum_to_the_improvement(model):
    prob = bigger(4)
    r = prob.solve(model, p=5, method="exact")
    assert list(r.gains) == sorted(r.gains, reverse=True)
    if model == "mclp":
        assert sum(r.gains) == pytest.approx(r.objective)
    else:
        base = prob.solve(model, p=0, method="exact").objective
        assert sum(r.gains) == pytest.approx(base - r.objective)


def test_auto_reaches_optimum():
    prob = bigger(5)
    a = prob.solve("mclp", p=6, method="auto", rel_gap=0.0)
    e = prob.solve("mclp", p=6, method="exact", rel_gap=0.0)
    assert a.objective == pytest.approx(e.objective)
    assert a.gap == pytest.approx(0.0, abs=1e-9)


def test_time_limited_exact_reports_a_valid_bound():
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(4)
    demand, sites = rng.uniform(0, 5000, (3000, 2)), rng.uniform(0, 5000, (400, 2))
    d = cKDTree(demand).sparse_distance_matrix(cKDTree(sites), 500.0, output_type="coo_matrix")
    w = rng.integers(10, 500, 3000)
    r = SitingProblem.from_matrix(d, w, threshold=500.0).solve("mclp", p=15, method="exact",
                                                                time_limit_s=0.2, rel_gap=0.0)
    assert r.status in ("optimal", "time_limit")
    assert r.bound >= r.objective - 1e-6 and r.gap >= 0
    assert len(r.chosen) == 15
