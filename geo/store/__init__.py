"""PostGIS storage. Functions take a SQLAlchemy ``Connection`` and never commit.

Loaders build the core's objects (``network.read_network`` → ``StreetNetwork``) and read the
inputs the analyses share (``inputs``: compounds, service points, unit links, demand); the
modules named like the core's subpackages (``coverage``, ``courier``, ``cases``, ``siting``)
run an analysis and store and read its results; ``features`` and ``tiles`` serve the map
layers; ``imports``, ``exports`` and ``write`` move files in and out; ``cities``, ``keys``,
``cluster`` and ``migrate`` hold the rest.
"""
