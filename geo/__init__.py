"""servicecircle's analysis core: GeoDataFrames and arrays in, results out.

The curated public API for notebooks and scripts::

    from geo import StreetNetwork, nearest_service, service_circles, analyze_coverage

Names are imported lazily on first use, so ``import geo.settings`` stays light.
Distances are metres, times minutes, storage CRS EPSG:4326 (lon/lat); metric work is
done in the UTM zone of the data (``geo.crs.utm_epsg``) and results say which.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # vocabulary and errors
    "ServiceType": "geo.domain", "CaseCategory": "geo.domain", "CaseStatus": "geo.domain",
    "PropertyManagement": "geo.domain",
    "GeoError": "geo.errors", "InvalidInputError": "geo.errors", "CRSError": "geo.errors",
    "NotFoundError": "geo.errors", "InfeasibleError": "geo.errors", "Problem": "geo.errors",
    "Settings": "geo.settings", "utm_epsg": "geo.crs",
    # OpenStreetMap and the walking / riding network
    "read_osm": "geo.osm", "OsmExtract": "geo.osm",
    "StreetNetwork": "geo.network", "snap_points": "geo.snapping",
    "nearest_service": "geo.nearest", "NearestResult": "geo.nearest",
    "travel_matrix": "geo.reach", "TravelMatrix": "geo.reach",
    # service circles and coverage gaps
    "service_circles": "geo.circles", "union_by_type": "geo.circles",
    "analyze_coverage": "geo.coverage", "CoverageResult": "geo.coverage",
    "compound_access": "geo.coverage", "coverage_by_compound": "geo.coverage",
    "coverage_by_unit": "geo.coverage", "coverage_gaps": "geo.coverage",
    "completeness": "geo.coverage", "REQUIRED_TYPES": "geo.coverage",
    # courier-station reach
    "station_reach": "geo.courier", "CourierReach": "geo.courier",
    "ReachPreset": "geo.courier", "PRESETS": "geo.courier", "preset": "geo.courier",
    # grid cases: aggregation and hot spots
    "CaseIndex": "geo.cases", "filter_cases": "geo.cases", "hex_counts": "geo.cases",
    "suppress_counts": "geo.cases",
    "grid_closure_table": "geo.case_stats", "public_closure_table": "geo.case_stats",
    "monthly_trend": "geo.case_stats", "GridCaseStats": "geo.case_stats",
    "gi_star": "geo.hotspots", "hotspots_for_cases": "geo.hotspots",
    "compare_periods": "geo.hotspots", "kde_surface": "geo.hotspots",
    "benjamini_hochberg": "geo.hotspots", "HotSpotResult": "geo.hotspots",
    "DensitySurface": "geo.hotspots",
    # new-station siting
    "SitingProblem": "geo.siting", "SitingResult": "geo.siting", "SitingPlan": "geo.siting",
    "plan_sites": "geo.siting", "WhatIf": "geo.siting", "WhatIfResult": "geo.siting",
    "generate_candidates": "geo.siting",
    # files and Chinese offset coordinates
    "read_file": "geo.io", "write_file": "geo.io", "validate_features": "geo.validate",
    "wgs84_to_gcj02": "geo.chinese_crs", "gcj02_to_wgs84": "geo.chinese_crs",
    "wgs84_to_bd09": "geo.chinese_crs", "bd09_to_wgs84": "geo.chinese_crs",
    "gcj02_to_bd09": "geo.chinese_crs", "bd09_to_gcj02": "geo.chinese_crs",
    "to_wgs84": "geo.chinese_crs",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605  (built from the table above)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
