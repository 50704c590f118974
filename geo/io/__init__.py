"""Feature files: reading and writing them, and validating imported features."""
