"""Feature files: :mod:`geo.io.files` reads and writes them (GeoJSON, GeoPackage, Shapefile,
CSV, GeoParquet, Excel) and declares their CRS; :mod:`geo.io.validate` checks imported
features, collecting every problem before raising once."""

from geo.io.files import ReadResult, parse_field_map, read_file, resolve_crs, write_file
from geo.io.geojson import feature_frame
from geo.io.validate import Validated, validate_features

__all__ = ["ReadResult", "Validated", "feature_frame", "parse_field_map", "read_file", "resolve_crs",
           "validate_features", "write_file"]
