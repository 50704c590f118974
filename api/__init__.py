"""HTTP API (FastAPI) and command line: a thin layer over ``geo``."""
