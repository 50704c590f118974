"""Map layers: the catalogue, styles, GeoJSON, vector tiles and the planners' web map."""
