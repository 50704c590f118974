"""Grid workload and re-gridding on the Guixi demo, checked against independent figures."""

from __future__ import annotations

from collections import deque

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine, text

from geo.grids import compound_cells, regrid_community
from geo.grids.workload import DAYS_PER_MONTH
from geo.runs import GridsParams, RegridParams, run_grid_workload, run_regrid
from geo.store.grids import read_community

pytestmark = pytest.mark.slow

LOWER, UPPER = 120, 300


def _connected(cells: list[shapely.Geometry]) -> bool:
    """Plain BFS over cells that share a boundary of positive length."""
    seen, todo = {0}, deque([0])
    while todo:
        i = todo.popleft()
        for j in range(len(cells)):
            if j not in seen and shapely.intersection(cells[i].boundary,
                                                      cells[j].boundary).length > 0.05:
                seen.add(j)
                todo.append(j)
    return len(seen) == len(cells)


def _community(demo_engine: Engine, name: str) -> tuple[gpd.GeoDataFrame, shapely.Geometry, int]:
    with demo_engine.connect() as conn:
        city = conn.execute(text("SELECT id, metric_epsg FROM city WHERE code='guixi'")).one()
        _, _, polygon, compounds = read_community(conn, city.id, name)
    return compounds, polygon, int(city.metric_epsg)


def test_regrid_yields_contiguous_grids_in_range(demo_engine: Engine) -> None:
    compounds, polygon, epsg = _community(demo_engine, "花园社区")
    result = regrid_community(compounds, polygon, epsg=epsg, lower=LOWER, upper=UPPER)
    assert result.feasible and not result.problems
    grids = result.grids
    assert len(grids) > 1
    assert grids["households"].between(LOWER, UPPER).all()
    # every compound in exactly one proposed grid, households add up
    assert sorted(result.assignment["compound_id"]) == sorted(compounds["compound_id"])
    assert grids["households"].sum() == compounds["households"].sum()
    hh = compounds.merge(result.assignment).groupby("proposal")["households"].sum()
    assert np.allclose(hh.sort_index().to_numpy(), grids.set_index("proposal")
                       .sort_index()["households"].to_numpy())
    # contiguity, checked independently: one polygon per grid, and a BFS over its cells
    cells = compound_cells(compounds, polygon, epsg=epsg).merge(result.assignment)
    for proposal, mine in cells.groupby("proposal"):
        union = shapely.union_all(mine.geometry.to_numpy())
        assert union.geom_type == "Polygon", proposal
        assert _connected(list(mine.geometry)), proposal
    # compounds are never split: each lies inside its proposed grid
    metric = grids.to_crs(epsg).set_index("proposal").geometry
    comp = compounds.merge(result.assignment).to_crs(epsg)
    for row in comp.itertuples():
        inside = shapely.intersection(row.geometry, metric[row.proposal]).area
        assert inside >= 0.999 * row.geometry.area, row.name


def test_regrid_names_the_compound_that_prevents_it(demo_engine: Engine) -> None:
    compounds, polygon, epsg = _community(demo_engine, "炼厂社区")
    too_big = compounds[compounds["households"] > UPPER]
    assert len(too_big) >= 1
    result = regrid_community(compounds, polygon, epsg=epsg, lower=LOWER, upper=UPPER)
    assert not result.feasible
    named = {p.compound_id for p in result.problems if p.reason == "compound_exceeds_range"}
    assert named == set(too_big["compound_id"])
    # the large compound is a grid of its own (not split), the others are in range
    for p in result.problems:
        grid = result.grids[result.grids["proposal"] == p.proposal].iloc[0]
        assert grid["compounds"] == 1 and grid["households"] == p.compound_households
    others = result.grids[~result.grids["proposal"].isin({p.proposal for p in result.problems})]
    assert others["households"].between(LOWER, UPPER).all()


def test_workload_matches_brute_force(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        run = run_grid_workload(conn, "guixi", GridsParams())
        grids = conn.execute(text("""SELECT g.id, g.geom FROM grid g JOIN city ON
            city.id = g.city_id WHERE city.code = 'guixi' ORDER BY g.id""")).all()
        share = conn.execute(text("""SELECT gc.grid_id, c.households, c.residents,
            gc.resident_share FROM grid_compound gc JOIN compound c ON c.id = gc.compound_id""")
                             ).all()
        cases = conn.execute(text("""SELECT gc.id, gc.category, gc.reported_at, gc.closed_at,
            (SELECT min(g.id) FROM grid g WHERE g.city_id = gc.city_id
               AND ST_Intersects(g.geom, gc.geom)) AS grid_id
            FROM grid_case gc JOIN city ON city.id = gc.city_id
            WHERE city.code = 'guixi'""")).all()
    t = run.workload.table.set_index("grid_id")
    assert len(t) == len(grids) > 0
    first = min(c.reported_at for c in cases)
    last = max(c.reported_at for c in cases)
    months = (last - first).total_seconds() / 86400 / DAYS_PER_MONTH
    assert run.workload.months == pytest.approx(months)
    for gid, _ in grids:
        households = sum(h * s for g, h, _, s in share if g == gid and s > 0)
        residents = sum(r * s for g, _, r, s in share if g == gid and s > 0)
        mine = [c for c in cases if c.grid_id == gid]
        assert t.at[gid, "households"] == pytest.approx(households)
        assert t.at[gid, "residents"] == pytest.approx(residents)
        assert t.at[gid, "cases"] == len(mine)
        assert t.at[gid, "cases_per_month"] == pytest.approx(len(mine) / months)
        safety = sum(1 for c in mine if c.category == "safety_hazard")
        assert t.at[gid, "cases_per_month_safety_hazard"] == pytest.approx(safety / months)
        hours = [(c.closed_at - c.reported_at).total_seconds() / 3600 for c in mine
                 if c.closed_at is not None]
        if hours:
            assert t.at[gid, "median_closure_h"] == pytest.approx(float(np.median(hours)))
    h_mean, c_mean = t["households"].mean(), t["cases_per_month"].mean()
    expected = 0.5 * t["households"] / h_mean + 0.5 * t["cases_per_month"] / c_mean
    assert np.allclose(t["workload_index"], expected)
    # imbalance: coefficient of variation and share outside the range, by hand
    for row in run.imbalance.itertuples():
        h = t[t["community"] == row.community]["households"].to_numpy()
        assert row.cv_households == pytest.approx(float(np.std(h) / np.mean(h)))
        assert row.share_outside == pytest.approx(float(np.mean((h < LOWER) | (h > UPPER))))


def test_regrid_before_after(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        run = run_regrid(conn, "guixi", RegridParams(community="花园社区"))
        wl = run_grid_workload(conn, "guixi", GridsParams()).workload.table
    ba = run.before_after.set_index("stage")
    before = wl[wl["community"] == "花园社区"]
    assert ba.at["before", "grids"] == len(before)
    assert ba.at["before", "outside_range"] == int(
        (~before["households"].between(LOWER, UPPER)).sum())
    assert ba.at["after", "grids"] == len(run.result.grids)
    assert ba.at["after", "outside_range"] == 0
    assert pd.notna(ba.at["after", "cv_households"])


def test_regrid_names_compounds_of_a_detached_small_part(demo_engine: Engine) -> None:
    # 白果社区 is a multi-part community; a detached part holds fewer than 120 households
    compounds, polygon, epsg = _community(demo_engine, "白果社区")
    result = regrid_community(compounds, polygon, epsg=epsg, lower=LOWER, upper=UPPER)
    blocked = [p for p in result.problems if p.reason == "component_below_range"]
    assert blocked and not result.feasible
    ids = {p.compound_id for p in blocked}
    mine = compounds[compounds["compound_id"].isin(ids)].to_crs(epsg)
    rest = compounds[~compounds["compound_id"].isin(ids)].to_crs(epsg)
    assert mine["households"].sum() < LOWER
    assert shapely.distance(shapely.union_all(mine.geometry.to_numpy()),
                            shapely.union_all(rest.geometry.to_numpy())) > 10
    others = result.grids[~result.grids["proposal"].isin({p.proposal for p in blocked})]
    assert others["households"].between(LOWER, UPPER).all()
