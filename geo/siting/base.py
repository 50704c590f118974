"""Shared pieces of the siting solvers: the instance they read, their answers, the models.

:class:`SitingInstance` holds a validated demand × candidate problem as read-only arrays
(built by :meth:`geo.siting.problem.SitingProblem.from_matrix`); the exact solver
(:mod:`geo.siting.exact`), the heuristic (:mod:`geo.siting.heuristic`) and the direct
evaluation (:mod:`geo.siting.evaluate`) read it and answer with a :class:`Solution`,
which :func:`geo.siting.evaluate.evaluate` turns into the frozen :class:`SitingResult`.
This module imports none of them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.domain import SitingModel
from geo.errors import InvalidInputError, Problem

#: The solvers' name for the siting models of the vocabulary.
Model = SitingModel


@dataclass(frozen=True)
class SitingResult:
    """The outcome of a siting solve.

    ``chosen`` are candidate ids in rank order (greedy order: each next site adds the most
    given the existing stations and the sites before it); ``gains[k]`` is site k's marginal
    gain in that order — newly covered weight (MCLP/LSCP) or reduction of the weighted cost
    (p-median); with capacities, the weight the site serves in the optimal assignment.
    ``objective``: newly covered weight (MCLP), number of sites (LSCP), weighted cost
    (p-median). ``bound`` is a proven bound on the optimum (upper for MCLP, lower for
    LSCP/p-median) and ``gap = |bound - objective| / max(|objective|, |bound|)``
    (0 when both are 0).
    """

    model: str
    chosen: tuple[Hashable, ...]
    gains: tuple[float, ...]
    covered_weight: float
    newly_covered_weight: float
    existing_covered_weight: float
    total_weight: float
    objective: float
    bound: float
    gap: float
    solver: str
    status: str
    runtime_s: float
    unreached_weight: float = 0.0

    @property
    def covered_share(self) -> float:
        """Covered weight (existing and new) over all demand weight."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["chosen"] = list(self.chosen)
        d["gains"] = list(self.gains)
        d["covered_share"] = self.covered_share
        return d


def relative_gap(objective: float, bound: float) -> float:
    """``|bound - objective| / max(|objective|, |bound|)``; 0 when both are 0."""
    scale = max(abs(objective), abs(bound))
    return 0.0 if scale <= 1e-12 else abs(bound - objective) / scale


@dataclass(frozen=True)
class Solution:
    """Chosen candidate indices with the solver's view of objective and bound."""

    chosen: np.ndarray
    objective: float
    bound: float
    solver: str
    status: str
    served: np.ndarray | None = None  # capacitated: weight served per chosen site

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)


@dataclass(frozen=True, eq=False)
class SitingInstance:
    """Demand × candidate costs with demand weights and existing coverage.

    The finite costs are kept as pairs ``(row, col, cost)`` sorted by candidate; every
    array is read-only. Demand ``i`` is covered by candidate ``j`` when
    ``cost <= threshold`` for the pair (see :mod:`geo.siting.problem` for the models).
    """

    row: np.ndarray
    col: np.ndarray
    cost: np.ndarray
    weights: np.ndarray
    threshold: float
    existing_covered: np.ndarray
    existing_cost: np.ndarray
    candidate_ids: tuple[Hashable, ...]
    capacities: np.ndarray | None
    n_demand: int
    n_candidates: int
    demand_ids: tuple[Hashable, ...] = ()
    unmatched_demand: tuple[Hashable, ...] = ()
    unmatched_candidates: tuple[Hashable, ...] = ()

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    def covering_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of pairs within the threshold, demand not already covered."""
        keep = (self.cost <= self.threshold) & ~self.existing_covered[self.row]
        return self.row[keep], self.col[keep]

    def default_unreached_cost(self) -> float:
        finite = self.existing_cost[np.isfinite(self.existing_cost)]
        top = max(float(self.cost.max()) if self.cost.size else 0.0,
                  float(finite.max()) if finite.size else 0.0)
        return top

    def index_of(self, ids: Sequence[Hashable]) -> np.ndarray:
        """Column indices of candidate ids; unknown ids raise InvalidInputError."""
        lookup = {c: k for k, c in enumerate(self.candidate_ids)}
        bad = [Problem(f"unknown candidate id {c!r}", row=k, field="candidate_ids")
               for k, c in enumerate(ids) if c not in lookup]
        if bad:
            raise InvalidInputError("unknown candidates", bad)
        return np.array([lookup[c] for c in ids], dtype=np.int64)
