"""Grid workload and re-gridding runs, computed on request.

:func:`run_grid_workload` reads grids, the grid–compound overlay and the cases of the
window and computes :mod:`geo.grids.workload`; :func:`run_regrid` reads one community's
compounds and proposes new grids with :mod:`geo.grids.regrid`, with a before/after table
(the community's current grids against the proposal), and with ``params.save`` stores the
proposal (:func:`geo.store.grids.save_regrid`; the map's ``grid_proposal`` layer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from geo.grids.regrid import RegridResult, regrid_community
from geo.grids.workload import GridWorkload, grid_workload, imbalance
from geo.runs.base import city_of
from geo.runs.params import GridsParams, RegridParams
from geo.store.cases import read_cases
from geo.store.cities import City
from geo.store.grids import read_community, read_grid_units, read_overlay, save_regrid


@dataclass(frozen=True)
class GridsRun:
    """Per-grid workload (``workload.table``) and ``imbalance`` per ``params.by`` group."""

    city: City
    params: GridsParams
    workload: GridWorkload
    imbalance: pd.DataFrame


@dataclass(frozen=True)
class RegridRun:
    """A community's proposal and its ``before_after`` table (rows ``before``, ``after``:
    grids, households, mean, CV, grids outside the range and their share); ``run_id`` of the
    stored proposal when saved."""

    city: City
    community: str
    params: RegridParams
    result: RegridResult
    before_after: pd.DataFrame
    run_id: int | None = None

    def summary(self, lang: str = "zh") -> dict[str, Any]:
        """What the CLI prints and the API returns beside the tables (each problem with
        its reason's ``label`` in ``lang``, from the vocabulary)."""
        return {"city": self.city.code, "community": self.community,
                "lower": self.params.lower, "upper": self.params.upper,
                "feasible": self.result.feasible, "epsg": self.result.epsg,
                "run_id": self.run_id,
                "problems": [{**p.__dict__, "label": p.label(lang)}
                             for p in self.result.problems]}


def run_grid_workload(conn: Connection, city: City | str | int,
                      params: GridsParams | None = None) -> GridsRun:
    """Workload of every grid of ``city`` over the case window and the imbalance."""
    params = params or GridsParams()
    lower, upper = params.bounds()
    c = city_of(conn, city)
    grids = read_grid_units(conn, c.id)
    overlay, compounds = read_overlay(conn, c.id)
    cases = read_cases(conn, c.id, start=params.start, end=params.end)
    wl = grid_workload(grids, overlay, compounds, cases, start=params.start, end=params.end,
                       household_weight=params.household_weight)
    return GridsRun(c, params, wl, imbalance(wl.table, by=params.by, lower=lower, upper=upper))


def run_regrid(conn: Connection, city: City | str | int, params: RegridParams) -> RegridRun:
    """A proposal of grids for ``params.community`` and the before/after table; stored
    when ``params.save`` (the caller commits)."""
    lower, upper = params.bounds()
    c = city_of(conn, city)
    _, name, polygon, compounds = read_community(conn, c.id, params.community)
    result = regrid_community(compounds, polygon, epsg=c.metric_epsg, lower=lower,
                              upper=upper, seed=params.seed, attempts=params.attempts)
    grids = read_grid_units(conn, c.id)
    overlay, comp = read_overlay(conn, c.id)
    overlay = overlay[overlay["grid_id"].isin(grids["grid_id"])]
    mine = grids[grids["community"] == name]
    h = mine["grid_id"].map((overlay.merge(comp, on="compound_id").eval(
        "households * resident_share")).groupby(overlay["grid_id"].to_numpy()).sum()).fillna(0)
    before = pd.DataFrame({"community": name, "households": h.to_numpy(dtype=float),
                           "workload_index": 0.0})
    after = pd.DataFrame({"community": name,
                          "households": result.grids["households"].to_numpy(dtype=float),
                          "workload_index": 0.0})
    rows = []
    for stage, t in (("before", before), ("after", after)):
        if len(t):
            r = imbalance(t, by="community", lower=lower, upper=upper).iloc[0].to_dict()
        else:
            r = {"community": name, "grids": 0, "households": 0.0, "mean_households": None,
                 "cv_households": None, "outside_range": 0, "share_outside": None}
        r.pop("cv_workload", None)
        rows.append({"stage": stage, **r})
    run = RegridRun(c, name, params, result, pd.DataFrame(rows))
    if not params.save:
        return run
    summary = {k: v for k, v in run.summary("en").items() if k != "run_id"}
    summary["before_after"] = run.before_after.to_dict("records")
    run_id = save_regrid(conn, c.id, community=name, grids=result.grids, lower=lower,
                         upper=upper, params=params.model_dump(mode="json", exclude={"save"}),
                         summary=summary)
    return replace(run, run_id=run_id)
