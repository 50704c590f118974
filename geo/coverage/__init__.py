"""Service circles and coverage: who lives inside / outside them, and where the gaps are.

:mod:`~geo.coverage.circles` builds the circles along the streets;
:mod:`~geo.coverage.analysis` counts residents inside and outside per compound and unit,
the gap polygons and the completeness of required service types.
"""

from geo.coverage.analysis import (
    REQUIRED_TYPES,
    CoverageResult,
    analyze_coverage,
    completeness,
    compound_access,
    compound_origins,
    coverage_by_compound,
    coverage_by_unit,
    coverage_gaps,
    thresholds,
)
from geo.coverage.circles import DEFAULT_BUFFER_M, service_circles, union_by_type

__all__ = ["DEFAULT_BUFFER_M", "REQUIRED_TYPES", "CoverageResult", "analyze_coverage",
           "completeness", "compound_access", "compound_origins", "coverage_by_compound",
           "coverage_by_unit", "coverage_gaps", "service_circles", "thresholds",
           "union_by_type"]
