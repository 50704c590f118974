"""Coordinate reference systems: EPSG:4326 storage, UTM for metric work, Chinese offsets."""
