"""servicecircle's analysis core: GeoDataFrames and arrays in, results out.

The curated public API for notebooks and scripts::

    from geo import StreetNetwork, nearest_service, service_circles, analyze_coverage

Each name is imported from its feature subpackage (``geo.network``, ``geo.coverage``,
``geo.courier``, ``geo.cases``, ``geo.siting``, ``geo.io``, ``geo.crs``), whose own
``__init__`` lists a few more. The core reads no database: a city's data stored in PostGIS
is read by the loaders of ``geo.store`` (``geo.store.network.read_network``,
``geo.store.inputs``), which build these objects.
Distances are metres, times minutes, storage CRS EPSG:4326 (lon/lat); metric work is
done in the UTM zone of the data (:func:`utm_epsg`) and results say which.
"""

from geo.cases import (
    CaseIndex,
    DensitySurface,
    GridCaseStats,
    HotSpotResult,
    area_cells,
    benjamini_hochberg,
    compare_periods,
    filter_cases,
    gi_star,
    grid_closure_table,
    hex_counts,
    hotspots_for_cases,
    kde_surface,
    monthly_trend,
    public_closure_table,
    suppress_counts,
)
from geo.courier import PRESETS, CourierReach, ReachPreset, preset, station_reach
from geo.coverage import (
    REQUIRED_TYPES,
    CoverageResult,
    analyze_coverage,
    completeness,
    compound_access,
    compound_origins,
    coverage_by_compound,
    coverage_by_unit,
    coverage_circles,
    coverage_gaps,
    data_completeness,
    service_circles,
    thresholds,
    type_circles,
    union_by_type,
)
from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    utm_epsg,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.domain import (
    CASE_CATEGORIES,
    LIFE_CIRCLE_MINUTES,
    SERVICE_TYPES,
    WALK_MINUTES,
    CaseCategory,
    CaseStatus,
    PropertyManagement,
    ServiceType,
)
from geo.errors import (
    CRSError,
    GeoError,
    InfeasibleError,
    InvalidInputError,
    NotFoundError,
    Problem,
)
from geo.io import read_file, validate_features, write_file
from geo.network import (
    NearestResult,
    OsmExtract,
    StreetNetwork,
    TravelMatrix,
    nearest_service,
    read_osm,
    snap_points,
    travel_matrix,
)
from geo.settings import Settings
from geo.siting import (
    SitingPlan,
    SitingProblem,
    SitingResult,
    WhatIf,
    WhatIfResult,
    generate_candidates,
    plan_sites,
)

__all__ = [
    "CASE_CATEGORIES", "LIFE_CIRCLE_MINUTES", "PRESETS", "REQUIRED_TYPES", "SERVICE_TYPES",
    "WALK_MINUTES", "CRSError", "CaseCategory", "CaseIndex", "CaseStatus",
    "CourierReach", "CoverageResult", "DensitySurface", "GeoError", "GridCaseStats",
    "HotSpotResult", "InfeasibleError", "InvalidInputError", "NearestResult", "NotFoundError",
    "OsmExtract", "Problem", "PropertyManagement", "ReachPreset", "ServiceType", "Settings",
    "SitingPlan", "SitingProblem", "SitingResult", "StreetNetwork", "TravelMatrix", "WhatIf",
    "WhatIfResult", "analyze_coverage", "area_cells", "bd09_to_gcj02", "bd09_to_wgs84",
    "benjamini_hochberg", "compare_periods", "completeness", "compound_access",
    "compound_origins", "coverage_by_compound", "coverage_by_unit", "coverage_circles", "coverage_gaps",
    "data_completeness",
    "filter_cases", "gcj02_to_bd09", "gcj02_to_wgs84", "generate_candidates", "gi_star",
    "grid_closure_table", "hex_counts", "hotspots_for_cases", "kde_surface", "monthly_trend",
    "nearest_service", "plan_sites", "preset", "public_closure_table", "read_file", "read_osm",
    "service_circles", "snap_points", "station_reach", "suppress_counts", "thresholds",
    "to_wgs84", "travel_matrix", "type_circles", "union_by_type", "utm_epsg", "validate_features",
    "wgs84_to_bd09", "wgs84_to_gcj02", "write_file",
]
