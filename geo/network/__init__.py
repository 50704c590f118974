"""The street network: OpenStreetMap loading, the graph, snapping, reach and nearest service."""
