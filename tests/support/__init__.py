"""Helpers shared by the tests: hand-made networks, the sample cities, a live server."""

#: The Host header of Starlette's TestClient, trusted by the apps the tests build.
TEST_HOSTS = ("testserver",)
