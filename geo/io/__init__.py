"""Feature files: :mod:`geo.io.files` reads and writes them (GeoJSON, GeoPackage, Shapefile,
CSV, GeoParquet, Excel) and declares their CRS; :mod:`geo.io.validate` checks imported
features, collecting every problem before raising once; :mod:`geo.io.hours` reads opening
hours (OpenStreetMap syntax) at a moment."""

from geo.io.files import ReadResult, parse_field_map, read_file, resolve_crs, write_file
from geo.io.geojson import feature_frame
from geo.io.hours import Moment, hours_reason, open_mask, parse_moment, week_moments
from geo.io.validate import Validated, validate_features

__all__ = ["ReadResult", "Validated", "feature_frame", "parse_field_map", "read_file", "resolve_crs",
           "validate_features", "write_file"]
__all__ += ["Moment", "hours_reason", "open_mask", "parse_moment", "week_moments"]
