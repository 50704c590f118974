"""Grid workload and re-gridding (网格优化): pure core, no storage.

:mod:`geo.grids.workload` — households, residents, compounds, cases per month by category,
median closure time and a workload index per grid; imbalance per community or street.
:mod:`geo.grids.regrid` — a proposal redrawing the grids of one community so that each holds
households within a target range (spopt max-p regionalization over compound cells).
"""

from geo.grids.regrid import RegridResult, compound_cells, regrid_community
from geo.grids.workload import GridWorkload, grid_workload, imbalance

__all__ = ["GridWorkload", "RegridResult", "compound_cells", "grid_workload", "imbalance",
           "regrid_community"]
