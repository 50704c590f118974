"""Service circles and coverage: who lives inside / outside them, and where the gaps are.

:mod:`~geo.coverage.analysis` states the one coverage definition and computes it;
:mod:`~geo.coverage.circles` finds the streets reached from each point and
:mod:`~geo.coverage.detailed` draws the land around them (detailed polygons, outlined by
:mod:`~geo.coverage.rings`).
"""

from geo.coverage.analysis import (
    REQUIRED_TYPES,
    CoverageResult,
    TypeWalk,
    analyze_coverage,
    apportion,
    completeness,
    compound_access,
    compound_origins,
    coverage_by_compound,
    coverage_by_unit,
    coverage_circles,
    coverage_gaps,
    data_completeness,
    merge_coverage,
    thresholds,
    type_circles,
    type_walkers,
)
from geo.coverage.circles import service_circles, union_by_type

__all__ = ["REQUIRED_TYPES", "CoverageResult", "TypeWalk", "analyze_coverage", "apportion",
           "completeness", "compound_access", "compound_origins", "coverage_by_compound",
           "coverage_by_unit", "coverage_circles", "coverage_gaps", "data_completeness",
           "merge_coverage", "service_circles", "thresholds", "type_circles", "type_walkers",
           "union_by_type"]
