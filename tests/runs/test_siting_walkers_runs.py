"""A siting scenario of a type counts and walks as the type's coverage run does.

"New elderly canteens (孝老食堂), 15 minutes" is planned for residents 60+ walking 60 m/min:
the scenario's "covered before" and "covered after" are the coverage table's people of the
target group inside 15 minutes (``coverage_totals``: ``target_in``) without and with the
proposed sites added as canteens — one definition, two computations. The saved scenario
and its report state whom they count and how fast they walk; a scenario saved before the
walkers were stored keeps the definition it was computed with (all residents).
"""

from __future__ import annotations

import json

import geopandas as gpd
import shapely
from sqlalchemy import Connection, text

from geo.runs import (
    CoverageParams,
    PlanParams,
    WhatIfParams,
    run_coverage,
    run_plan,
    run_whatif,
    scenario_report,
)
from geo.siting.report import render_html
from geo.store.cities import City, get_city
from geo.store.coverage import coverage_totals
from geo.store.siting import get_scenario

CANTEEN = "elderly_canteen"
MINUTES = 15
SAID = {"target_group": "age_60_plus", "speed_m_per_min": 60.0, "budget_m": 900.0,
        "zh": "60岁以上居民，步行60米/分钟", "en": "residents 60+, walking 60 m/min"}



def _canteens_inside(conn: Connection, city: City) -> dict[str, object]:
    """The coverage table's city totals for elderly canteens at 15 minutes, freshly run."""
    run_coverage(conn, city, CoverageParams(minutes=[MINUTES]))
    totals = coverage_totals(conn, city.id, service_type=CANTEEN, minutes=MINUTES)
    assert totals is not None
    return totals


def _add_canteens(conn: Connection, city: City, sites: gpd.GeoDataFrame) -> None:
    for k, g in enumerate(sites.to_crs(4326).geometry):
        conn.execute(text(
            "INSERT INTO service_point (city_id, external_id, type, name, geom) "
            "VALUES (:c, :e, :t, :n, ST_GeomFromWKB(:wkb, 4326))"),
            {"c": city.id, "e": f"proposed-{k}", "t": CANTEEN, "n": f"拟建{k}",
             "wkb": shapely.to_wkb(g)})


def test_covered_after_of_a_canteen_plan_is_the_coverage_tables_inside_count(
        demo: Connection) -> None:
    city = get_city(demo, "guixi")
    run = run_plan(demo, city, PlanParams(service_type="孝老食堂", p=3, minutes=MINUTES,
                                          save=True))
    assert run.params.service_type == CANTEEN
    assert run.inputs.demand.summary(MINUTES) == SAID
    assert run.inputs.net.speed_m_per_min == 60.0

    before = _canteens_inside(demo, city)
    assert (before["target_group"], before["speed_m_per_min"]) == ("age_60_plus", 60.0)
    assert run.totals["total_weight"] == before["target"]
    assert run.totals["before_weight"] == before["target_in"]

    _add_canteens(demo, city, run.plan.proposals)
    after = _canteens_inside(demo, city)
    assert after["target_in"] > before["target_in"]
    assert run.totals["after_weight"] == after["target_in"]

    # saved and reported with whom it counts and how fast they walk
    saved = get_scenario(demo, run.scenario_id or 0, city_id=city.id)
    assert saved.params["walkers"] == SAID
    head = render_html(scenario_report(demo, city, saved)).split("<table", 1)[0]
    assert "60岁以上居民，步行60米/分钟，15分钟900米" in head
    assert "residents 60+, walking 60 m/min: 900 m in 15 min" in head


def test_a_whatif_of_canteens_counts_residents_60_plus(demo: Connection) -> None:
    city = get_city(demo, "guixi")
    plan = run_plan(demo, city, PlanParams(service_type=CANTEEN, p=2, minutes=MINUTES))
    sites = [tuple(xy) for xy in shapely.get_coordinates(plan.plan.proposals.geometry.values)]
    run = run_whatif(demo, city, WhatIfParams(service_type=CANTEEN, minutes=MINUTES,
                                              sites=sites, circles=True))
    assert run.demand.summary(MINUTES) == SAID
    assert run.totals["after_weight"] == plan.totals["after_weight"]
    assert run.compounds is not None
    old = plan.inputs.compounds.set_index("id")["age_60_plus"].fillna(0)
    assert run.compounds["weight"].tolist() == old.loc[run.compounds["id"]].tolist()


def test_a_scenario_saved_before_the_walkers_reports_all_residents(demo: Connection) -> None:
    city = get_city(demo, "guixi")
    run = run_plan(demo, city, PlanParams(service_type=CANTEEN, p=1, minutes=MINUTES,
                                          save=True))
    s = get_scenario(demo, run.scenario_id or 0, city_id=city.id)
    legacy = {k: v for k, v in s.params.items() if k != "walkers"}
    demo.execute(text("UPDATE analysis_run SET params = CAST(:p AS json) WHERE id = :r"),
                 {"p": json.dumps(legacy), "r": s.run_id})
    old = get_scenario(demo, s.id, city_id=city.id)
    data = scenario_report(demo, city, old)
    assert data.demand is not None
    assert data.demand.statement("zh") == "全部居民，步行75米/分钟"
    assert "全部居民，步行75米/分钟" in render_html(data)
