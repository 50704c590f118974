"""Grid cases: filters, H3 hexagon counts, per-grid statistics and hot spots."""
