"""Grid cases: filters, H3 hexagon counts, per-grid statistics and hot spots.

:mod:`~geo.cases.counts` holds the cases contract, filters, hexagon counts and the
suppression of small counts; :mod:`~geo.cases.stats` per-grid closure statistics and
trends; :mod:`~geo.cases.hotspots` Getis-Ord Gi*, period comparison and KDE.
"""

from geo.cases.counts import (
    CASE_COLUMNS,
    KNOWN_CATEGORIES,
    CaseIndex,
    Suppressed,
    area_cells,
    check_categories,
    check_window,
    filter_cases,
    hex_counts,
    suppress_counts,
    validate_cases,
)
from geo.cases.hotspots import (
    CONFIDENCE_LEVELS,
    DensitySurface,
    HotSpotResult,
    benjamini_hochberg,
    compare_periods,
    gi_star,
    hotspots_for_cases,
    kde_surface,
)
from geo.cases.stats import (
    GridCaseStats,
    grid_closure_table,
    monthly_trend,
    public_closure_table,
)

__all__ = ["CASE_COLUMNS", "CONFIDENCE_LEVELS", "KNOWN_CATEGORIES", "CaseIndex",
           "DensitySurface", "GridCaseStats", "HotSpotResult", "Suppressed", "area_cells",
           "benjamini_hochberg", "check_categories", "check_window", "compare_periods",
           "filter_cases", "gi_star", "grid_closure_table", "hex_counts", "hotspots_for_cases",
           "kde_surface", "monthly_trend", "public_closure_table", "suppress_counts",
           "validate_cases"]
