"""A stored coverage run states each type's served group and walking speed; the run
parameters override them for every type."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from geo.runs import CoverageParams, run_coverage
from geo.store.cities import get_city
from geo.store.coverage import compound_rows, coverage_totals


def _run(engine: Engine, params: CoverageParams) -> int:
    with engine.begin() as conn:
        return run_coverage(conn, "wudaokou", params).run_id


def _drop(engine: Engine, run_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": run_id})


def test_elderly_types_are_stored_with_residents_60_plus_at_60_m_min(demo_engine: Engine) -> None:
    run_id = _run(demo_engine, CoverageParams(minutes=[10]))
    try:
        with demo_engine.connect() as conn:
            city = get_city(conn, "wudaokou")
            params = conn.execute(text("SELECT params FROM analysis_run WHERE id = :r"),
                                  {"r": run_id}).scalar_one()
            assert params["walkers"]["elderly_canteen"] == {"target_group": "age_60_plus",
                                                            "speed_m_per_min": 60.0}
            assert params["walkers"]["red_station"] == {"target_group": "all",
                                                        "speed_m_per_min": 75.0}
            row = coverage_totals(conn, city.id, service_type="elderly_canteen", minutes=10)
            assert row is not None and row["budget_m"] == pytest.approx(600.0)
            assert (row["target_group"], row["speed_m_per_min"]) == ("age_60_plus", 60.0)
            elderly = conn.execute(text("SELECT sum(elderly) FROM compound WHERE city_id = :c"),
                                   {"c": city.id}).scalar_one()
            assert row["target"] == elderly  # every demo compound has its 60+ count
            comps = compound_rows(conn, city.id, service_type="elderly_canteen")
            assert all(r["nearest_min"] is None or
                       r["nearest_min"] == pytest.approx(r["nearest_m"] / 60.0) for r in comps)
    finally:
        _drop(demo_engine, run_id)


def test_run_parameters_set_one_group_and_speed_for_every_type(demo_engine: Engine) -> None:
    run_id = _run(demo_engine, CoverageParams(minutes=[10], target_group="all",
                                              speed_m_per_min=50))
    try:
        with demo_engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT DISTINCT service_type, target_group, speed_m_per_min, budget_m "
                "FROM coverage_unit WHERE run_id = :r"), {"r": run_id}).all()
            assert {r.service_type for r in rows} >= {"elderly_canteen", "red_station"}
            assert {(r.target_group, r.speed_m_per_min, r.budget_m) for r in rows} == \
                {("all", 50.0, 500.0)}
    finally:
        _drop(demo_engine, run_id)
