"""Coordinate reference systems: storage is EPSG:4326, analysis in a metric UTM zone."""

from __future__ import annotations

import geopandas as gpd

from geo.errors import CRSError

WGS84 = 4326


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS-84 UTM zone containing (lon, lat) in degrees."""
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise CRSError(f"no UTM zone for lon={lon}, lat={lat}")
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + min(zone, 60)


def metric_epsg_for(gdf: gpd.GeoDataFrame) -> int:
    """UTM zone (EPSG code) of the centroid of ``gdf``'s bounds (``gdf`` in EPSG:4326)."""
    require_wgs84(gdf)
    minx, miny, maxx, maxy = gdf.total_bounds
    return utm_epsg((minx + maxx) / 2, (miny + maxy) / 2)


def require_wgs84(gdf: gpd.GeoDataFrame, what: str = "data") -> None:
    """Raise :class:`CRSError` unless ``gdf`` is declared EPSG:4326."""
    if gdf.crs is None:
        raise CRSError(f"{what} has no CRS; expected EPSG:4326 (WGS-84 lon/lat)")
    if gdf.crs.to_epsg() != WGS84:
        raise CRSError(f"{what} is in {gdf.crs.to_string()}; expected EPSG:4326")
