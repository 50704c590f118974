"""The siting run layer hands the report the labels a service type has in the database.

A type added with ``servicecircle types add`` has no entry in :mod:`geo.domain`; its zh/en
labels live in the lookup table only, so the report of a plan or of a saved scenario of
that type must receive them from the run layer (before, it printed the code).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine

from geo.errors import InvalidInputError
from geo.runs import PlanParams, plan_report, run_plan, scenario_report
from geo.siting.report import render_html
from geo.store.cities import get_city
from geo.store.imports import add_service_type
from geo.store.siting import get_scenario

CODE, ZH, EN = "youth_station", "青年驿站", "Youth station"


@pytest.fixture
def demo(demo_engine: Engine) -> Iterator[Connection]:
    """The demo cities with the type ``youth_station`` added (rolled back after)."""
    with demo_engine.connect() as c:
        trans = c.begin()
        try:
            add_service_type(c, CODE, name_zh=ZH, name_en=EN)
            yield c
        finally:
            trans.rollback()


def _header(html: str) -> str:
    return html.split("<table", 1)[0]  # title, figures and legend: not the sites table


def test_a_plan_of_an_added_type_reports_its_stored_labels(demo: Connection) -> None:
    run = run_plan(demo, "guixi", PlanParams(service_type=CODE, p=2))
    assert run.type_labels == (ZH, EN)
    data = plan_report(run)
    assert data.type_labels == (ZH, EN)
    head = _header(render_html(data))
    assert f"{ZH} {EN}" in head
    assert CODE not in head


def test_a_saved_scenario_of_an_added_type_reports_its_stored_labels(demo: Connection) -> None:
    run = run_plan(demo, "guixi", PlanParams(service_type=CODE, p=2, save=True, name="青年"))
    assert run.scenario_id is not None
    city = get_city(demo, "guixi")
    data = scenario_report(demo, city, get_scenario(demo, run.scenario_id, city_id=city.id))
    assert data.type_labels == (ZH, EN)
    head = _header(render_html(data))
    assert f"{ZH} {EN}" in head and CODE not in head


def test_a_built_in_type_reports_the_vocabulary_labels(demo: Connection) -> None:
    run = run_plan(demo, "guixi", PlanParams(service_type="red_station", p=1))
    assert run.type_labels == ("红色驿站", "Red station")
    assert "红色驿站" in run.title


def test_an_unknown_type_is_refused_before_any_work(demo: Connection) -> None:
    with pytest.raises(InvalidInputError, match="unknown service type"):
        run_plan(demo, "guixi", PlanParams(service_type="no_such_type", p=1))
