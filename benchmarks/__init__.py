"""Benchmarks behind ``servicecircle bench``; each module has ``run(quick) -> dict`` and
``to_markdown(result)``; figures go to ``benchmarks/results/``.

They compare us with libraries the service does not use, the optional dependency group
``bench`` of pyproject.toml (``pip install -e .[bench]``); :data:`EXTRAS` says which one
each benchmark needs.
"""

#: Libraries of the ``bench`` dependency group each benchmark needs (import names).
EXTRAS: dict[str, tuple[str, ...]] = {
    "cases": (),
    "coverage": ("networkx",),
    "courier": ("networkx",),
    "siting": ("pulp",),
    "tiles": ("tipg",),
    "load": (),
    "ogc": (),
    "finder": (),
    "scale": (),
    "map": ("playwright",),
}
