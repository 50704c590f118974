"""Open-now coverage (issue 16, done-when): coverage at 22:00 on a weekday differs from the
all-day coverage of the Guixi demo exactly by the stations closed then.

The reference is independent of the run's filter: the stations open at 22:00 are chosen
here from the database rows with the ``opening_hours`` library directly, and the one
coverage computation (:func:`geo.coverage.analyze_coverage`) is run on them alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine, text

from geo.coverage.analysis import REQUIRED_TYPES, analyze_coverage, coverage_by_unit
from geo.errors import NotFoundError
from geo.runs import CoverageParams, run_coverage
from geo.settings import Settings
from geo.store.cities import get_city
from geo.store.coverage import coverage_totals, latest_run, unit_rows
from geo.store.inputs import read_compounds, unit_links
from geo.store.network import read_network

TUESDAY_22 = datetime(2024, 1, 9, 22, 0)  # a Tuesday of the reference week, no holiday
MINUTES = 15.0


@pytest.fixture(scope="module")
def runs(demo_engine: Engine) -> dict[str, Any]:
    """The all-day run and the run at Tu 22:00 of Guixi, committed."""
    with demo_engine.begin() as conn:
        day = run_coverage(conn, "guixi", CoverageParams(minutes=[MINUTES]))
        night = run_coverage(conn, "guixi", CoverageParams(minutes=[MINUTES], at="周二 22:00"))
    return {"day": day, "night": night}


def _stations(demo_engine: Engine) -> gpd.GeoDataFrame:
    """Guixi's service points straight from the table, open or not at Tu 22:00 by the
    library itself (blank hours: open)."""
    with demo_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.id, s.type, s.opening_hours, ST_X(s.geom) AS x, ST_Y(s.geom) AS y "
            "FROM service_point s JOIN city c ON c.id = s.city_id WHERE c.code = 'guixi' "
            "ORDER BY s.id")).all()
    is_open = [r.opening_hours is None or not r.opening_hours.strip() or not
               opening_hours.OpeningHours(r.opening_hours, country="CN").is_closed(TUESDAY_22)
               for r in rows]
    return gpd.GeoDataFrame({"id": [r.id for r in rows], "type": [r.type for r in rows],
                             "open": is_open},
                            geometry=shapely.points([(r.x, r.y) for r in rows]), crs=4326)


def _stored_compounds(demo_engine: Engine, run_id: int) -> pd.DataFrame:
    with demo_engine.connect() as conn:
        return pd.read_sql(text(
            "SELECT compound_id, service_type AS type, nearest_id, nearest_m, snapped "
            "FROM coverage_compound WHERE run_id = :r ORDER BY compound_id, service_type"),
            conn, params={"r": run_id})


def test_the_run_keeps_only_the_stations_open_then(demo_engine: Engine, runs: dict) -> None:
    st = _stations(demo_engine)
    closed = sorted(st.loc[~st["open"], "id"].tolist())
    assert closed and st["open"].any()  # the demo has both at 22:00
    assert runs["night"].params["at"] == "Tu 22:00"
    assert sorted(runs["night"].params["closed_service_ids"]) == closed
    assert "at" not in runs["day"].params
    # the 24/7 courier stations stay; the party-mass centres (Mo-Fr 08:30-17:30) close
    with demo_engine.connect() as conn:
        hours = dict(conn.execute(text(
            "SELECT id, opening_hours FROM service_point WHERE id = ANY(:ids)"),
            {"ids": closed}).all())
    assert "24/7" not in hours.values()


def test_night_coverage_equals_all_day_coverage_of_the_open_stations(
        demo_engine: Engine, runs: dict) -> None:
    st = _stations(demo_engine)
    s = Settings()
    with demo_engine.connect() as conn:
        city = get_city(conn, "guixi")
        net = read_network(conn, city.id, mode="walk", speed_m_per_min=s.walk_speed_m_per_min,
                           metric_epsg=city.metric_epsg)
        compounds = read_compounds(conn, city.id)
        links = unit_links(conn, city.id, compounds)
        totals = {t: coverage_totals(conn, city.id, service_type=t, minutes=MINUTES,
                                     at="Tu 22:00")
                  for t in sorted(set(st["type"]))}
        communities = pd.DataFrame(unit_rows(conn, city.id, unit_kind="community",
                                             minutes=MINUTES, at="Tu 22:00"))
        assert latest_run(conn, city.id, at="Tu 22:00")["id"] == runs["night"].run_id
    types = sorted(set(st["type"]) | {str(t) for t in REQUIRED_TYPES})
    ref = analyze_coverage(net, compounds, st[st["open"]], minutes=[MINUTES], types=types,
                           trim_m=s.circle_trim_m, cell_m=s.circle_cell_m,
                           max_snap_m=s.max_snap_m)
    # per compound and type: the nearest open station and its distance
    stored = _stored_compounds(demo_engine, runs["night"].run_id)
    want = ref.nearest.table.rename(columns={"origin": "compound_id"})[
        ["compound_id", "type", "nearest_id", "nearest_m", "snapped"]].sort_values(
        ["compound_id", "type"]).reset_index(drop=True)
    assert len(stored) == len(want) > 0
    assert stored["nearest_m"].fillna(np.inf).to_numpy() == pytest.approx(
        want["nearest_m"].fillna(np.inf).to_numpy(), abs=1e-6)
    assert (stored["snapped"].to_numpy() == want["snapped"].to_numpy()).all()
    # city totals and community rows in whole people
    cov = ref.compounds
    for t, row in totals.items():
        part = cov[cov["type"] == t]
        assert row is not None
        assert (row["residents_in"], row["residents_out"]) == (
            int(part["residents_in"].sum()), int(part["residents_out"].sum())), t
    ref_units = coverage_by_unit(cov, links["community"])
    got = communities.set_index(["unit_id", "service_type"])["residents_in"]
    exp = ref_units.set_index(["unit_id", "type"])["residents_in"]
    assert got.sort_index().to_dict() == exp.sort_index().to_dict()


def test_night_differs_from_all_day_exactly_by_the_closed_stations(
        demo_engine: Engine, runs: dict) -> None:
    closed = set(runs["night"].params["closed_service_ids"])
    day = _stored_compounds(demo_engine, runs["day"].run_id).set_index(["compound_id", "type"])
    night = _stored_compounds(demo_engine, runs["night"].run_id).set_index(
        ["compound_id", "type"])
    assert day.index.equals(night.index)
    d_m, n_m = day["nearest_m"].fillna(np.inf), night["nearest_m"].fillna(np.inf)
    nearest_closed = day["nearest_id"].isin(closed)
    # where the all-day nearest station is open at night, nothing changes
    assert (d_m[~nearest_closed] == n_m[~nearest_closed]).all()
    # where it is closed, the walk is longer: to the nearest open one
    assert (n_m[nearest_closed] > d_m[nearest_closed]).all()
    budget = runs["day"].result.levels[0][1]
    changed = (d_m <= budget) != (n_m <= budget)
    assert changed.any()  # at least one compound leaves the 15-minute circle at night
    assert nearest_closed[changed].all()
    assert ((d_m <= budget) & (n_m > budget))[changed].all()  # only losses, never gains
    # with no station of a type open at night, nobody is inside its circle
    gone = [t for t in set(day.index.get_level_values("type"))
            if day.xs(t, level="type")["nearest_id"].dropna().isin(closed).all()
            and night.xs(t, level="type")["nearest_id"].isna().all()]
    assert "after_school" in gone


def test_a_moment_without_its_run_is_a_clear_404(demo_engine: Engine, runs: dict) -> None:
    with demo_engine.connect() as conn:
        city = get_city(conn, "guixi")
        with pytest.raises(NotFoundError) as exc:
            latest_run(conn, city.id, at="Sa 10:00")
        assert "Sa 10:00" in str(exc.value) and exc.value.code == "no-run"
        # any other moment with the same stations closed is answered by the same run
        assert latest_run(conn, city.id, at="We 22:15")["id"] == runs["night"].run_id
        assert latest_run(conn, city.id, at="We 22:15")["at"] == "We 22:15"
        # the layers' latest run stays the all-day one
        assert latest_run(conn, city.id)["id"] == runs["day"].run_id
