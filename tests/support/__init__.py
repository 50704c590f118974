"""Helpers shared by the tests: hand-made networks, the sample cities, a live server."""
