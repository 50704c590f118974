"""Coordinate reference systems: EPSG:4326 storage, UTM for metric work, Chinese offsets.

:mod:`geo.crs.utm` picks the metric CRS of the data (the UTM zone of its centroid);
:mod:`geo.crs.chinese` converts GCJ-02 and BD-09 offset coordinates to and from WGS-84.
"""

from geo.crs.chinese import (
    OffsetCheck,
    bd09_to_gcj02,
    bd09_to_wgs84,
    detect_offset,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.crs.utm import WGS84, metric_epsg_for, require_wgs84, utm_epsg

__all__ = [
    "WGS84", "OffsetCheck", "bd09_to_gcj02", "bd09_to_wgs84", "detect_offset", "from_wgs84",
    "gcj02_to_bd09", "gcj02_to_wgs84", "in_china", "metric_epsg_for", "require_wgs84",
    "to_wgs84", "utm_epsg", "wgs84_to_bd09", "wgs84_to_gcj02",
]
