"""The offline basemap: streets, water, green and built-up areas, buildings and named
places read from a city's own OpenStreetMap extract (:func:`read_basemap`)."""

from geo.basemap.osm import BASEMAP_LAYERS, BasemapExtract, read_basemap

__all__ = ["BASEMAP_LAYERS", "BasemapExtract", "read_basemap"]
