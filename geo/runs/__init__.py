"""The run layer: one entry per analysis, called alike by the CLI and the HTTP API.

Each run function takes a connection (the caller's transaction), a city, one parameter
object of :mod:`geo.runs.params` and the :class:`~geo.settings.Settings`; it reads the
inputs with the loaders of :mod:`geo.store`, computes with the pure core and stores the
result with the writers of :mod:`geo.store`. Settings defaults (walking and riding speed,
snap distance, public case minimum) are resolved here and nowhere else.

=========================  ===============================================
:func:`run_coverage`       service circles, gaps, coverage in people
:func:`run_cases`          Gi* hot spots, kernel density, per-grid closure
:func:`run_courier`        courier / parcel station reach
:func:`run_plan`           best new stations (MCLP, LSCP, p-median)
:func:`run_whatif`         coverage before/after user-proposed sites
:func:`run_grid_workload`  per-grid workload and imbalance (not stored)
:func:`run_regrid`         a community's grids redrawn within a household range
:func:`run_find`           nearest stations of a type with routes (not stored)
:func:`run_search`         the city's places matching a typed address
=========================  ===============================================
"""

from geo.runs.base import StoredRun
from geo.runs.cases import run_cases
from geo.runs.courier import run_courier
from geo.runs.coverage import run_coverage, week_moments_of
from geo.runs.finder import FinderCache, FinderRun, run_find, run_search
from geo.runs.grids import GridsRun, RegridRun, run_grid_workload, run_regrid
from geo.runs.params import (
    CasesParams,
    CourierParams,
    CoverageParams,
    FinderParams,
    GridsParams,
    PlanParams,
    RegridParams,
    WhatIfParams,
)
from geo.runs.siting import (
    PlanRun,
    SitingCache,
    WhatIfRun,
    plan_report,
    run_plan,
    run_whatif,
    scenario_report,
)

__all__ = [
    "CasesParams",
    "CourierParams",
    "CoverageParams",
    "FinderCache",
    "FinderParams",
    "FinderRun",
    "GridsParams",
    "GridsRun",
    "PlanParams",
    "PlanRun",
    "RegridParams",
    "RegridRun",
    "SitingCache",
    "StoredRun",
    "WhatIfParams",
    "WhatIfRun",
    "plan_report",
    "run_cases",
    "run_courier",
    "run_coverage",
    "run_find",
    "run_grid_workload",
    "run_plan",
    "run_regrid",
    "run_search",
    "run_whatif",
    "scenario_report",
    "week_moments_of",
]
