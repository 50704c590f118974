"""Building siting problems: input checks, sparse input, frozen results."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from geo.errors import InvalidInputError
from geo.siting import SitingProblem


def test_invalid_input_lists_every_problem():
    with pytest.raises(InvalidInputError) as e:
        SitingProblem.from_matrix(np.array([[-1.0, 2.0]]), [np.nan], threshold=-1,
                                  candidate_ids=["a", "a"])
    fields = sorted(p.field for p in e.value.errors)
    assert fields == ["candidate_ids", "cost", "threshold", "weights"]


def test_bad_request_is_invalid_input():
    prob = SitingProblem.from_matrix(np.ones((2, 2)), [1, 1], threshold=1)
    with pytest.raises(InvalidInputError):
        prob.solve("mclp", p=3)
    with pytest.raises(InvalidInputError):
        prob.solve("nearest", p=1)


def test_sparse_stored_zero_is_a_cost_and_missing_is_unreachable():
    # demand 0 sits on site 0 (cost 0 stored explicitly); demand 1 reaches nothing
    m = sp.coo_matrix((np.array([0.0, 9.0]), (np.array([0, 2]), np.array([0, 1]))), shape=(3, 2))
    r = SitingProblem.from_matrix(m, [5, 7, 11], threshold=5).solve("mclp", p=1)
    assert r.chosen == (0,) and r.covered_weight == 5


def test_sparse_and_dense_give_the_same_result():
    rng = np.random.default_rng(0)
    d = rng.uniform(0, 10, (50, 8))
    d[d > 6] = np.inf
    s = sp.csr_matrix(np.where(np.isfinite(d), d, 0.0))
    w = rng.integers(1, 9, 50)
    a = SitingProblem.from_matrix(d, w, threshold=3).solve("pmedian", p=2, method="exact")
    b = SitingProblem.from_matrix(s, w, threshold=3).solve("pmedian", p=2, method="exact")
    assert (a.chosen, a.objective) == (b.chosen, pytest.approx(b.objective))


def test_candidate_ids_are_reported():
    d = np.array([[1.0, 9.0], [9.0, 1.0], [9.0, 2.0]])
    r = SitingProblem.from_matrix(d, [1, 1, 1], threshold=3, candidate_ids=["A", "B"]).solve(
        "mclp", p=1)
    assert r.chosen == ("B",) and r.gains == (2.0,)


def test_result_is_frozen():
    r = SitingProblem.from_matrix(np.ones((1, 1)), [1], threshold=1).solve("mclp", p=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.objective = 0.0  # type: ignore[misc]
