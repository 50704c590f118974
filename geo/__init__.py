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
    "Settings": "geo.settings", "utm_epsg": "geo.crs.utm",
    # OpenStreetMap and the walking / riding network
    "read_osm": "geo.network.osm", "OsmExtract": "geo.network.osm",
    "StreetNetwork": "geo.network.graph", "snap_points": "geo.network.snapping",
    "nearest_service": "geo.network.nearest", "NearestResult": "geo.network.nearest",
    "travel_matrix": "geo.network.reach", "TravelMatrix": "geo.network.reach",
    # service circles and coverage gaps
    "service_circles": "geo.coverage.circles", "union_by_type": "geo.coverage.circles",
    "analyze_coverage": "geo.coverage.analysis", "CoverageResult": "geo.coverage.analysis",
    "compound_access": "geo.coverage.analysis", "coverage_by_compound": "geo.coverage.analysis",
    "coverage_by_unit": "geo.coverage.analysis", "coverage_gaps": "geo.coverage.analysis",
    "completeness": "geo.coverage.analysis", "REQUIRED_TYPES": "geo.coverage.analysis",
    # courier-station reach
    "station_reach": "geo.courier.reach", "CourierReach": "geo.courier.reach",
    "ReachPreset": "geo.courier.reach", "PRESETS": "geo.courier.reach", "preset": "geo.courier.reach",
    # grid cases: aggregation and hot spots
    "CaseIndex": "geo.cases.counts", "filter_cases": "geo.cases.counts", "hex_counts": "geo.cases.counts",
    "suppress_counts": "geo.cases.counts",
    "grid_closure_table": "geo.cases.stats", "public_closure_table": "geo.cases.stats",
    "monthly_trend": "geo.cases.stats", "GridCaseStats": "geo.cases.stats",
    "gi_star": "geo.cases.hotspots", "hotspots_for_cases": "geo.cases.hotspots",
    "compare_periods": "geo.cases.hotspots", "kde_surface": "geo.cases.hotspots",
    "benjamini_hochberg": "geo.cases.hotspots", "HotSpotResult": "geo.cases.hotspots",
    "DensitySurface": "geo.cases.hotspots",
    # new-station siting
    "SitingProblem": "geo.siting", "SitingResult": "geo.siting", "SitingPlan": "geo.siting",
    "plan_sites": "geo.siting", "WhatIf": "geo.siting", "WhatIfResult": "geo.siting",
    "generate_candidates": "geo.siting",
    # files and Chinese offset coordinates
    "read_file": "geo.io.files", "write_file": "geo.io.files", "validate_features": "geo.io.validate",
    "wgs84_to_gcj02": "geo.crs.chinese", "gcj02_to_wgs84": "geo.crs.chinese",
    "wgs84_to_bd09": "geo.crs.chinese", "bd09_to_wgs84": "geo.crs.chinese",
    "gcj02_to_bd09": "geo.crs.chinese", "bd09_to_gcj02": "geo.crs.chinese",
    "to_wgs84": "geo.crs.chinese",
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
