import pytest
from sqlalchemy import Connection, Engine, text

from geo.errors import InvalidInputError, NotFoundError
from geo.runs import CoverageParams, run_coverage
from geo.store.cities import get_city
from geo.store.coverage import compound_rows, latest_run, unit_rows


@pytest.fixture(scope="module")
def guixi_run(demo_engine: Engine) -> int:
    with demo_engine.begin() as conn:
        return run_coverage(conn, "guixi", CoverageParams(minutes=[5, 10, 15])).run_id


def test_run_is_recorded_with_params_and_data_version(demo_engine: Engine, guixi_run: int) -> None:
    with demo_engine.connect() as conn:
        city = get_city(conn, "guixi")
        run = latest_run(conn, city.id)
        assert run["id"] == guixi_run
        assert run["params"]["minutes"] == [5, 10, 15]
        assert run["params"]["speed_m_per_min"] == 75.0
        assert "compound" in run["data_version"] and "street_edge" in run["data_version"]


def test_grid_people_add_up_to_the_compounds(demo_engine: Engine, guixi_run: int) -> None:
    with demo_engine.connect() as conn:
        city = get_city(conn, "guixi")
        rows = unit_rows(conn, city.id, unit_kind="grid", service_type="red_station", minutes=15)
        total = conn.execute(text(
            "SELECT sum(c.residents * gc.resident_share) FROM grid_compound gc "
            "JOIN compound c ON c.id = gc.compound_id WHERE c.city_id = :c"),
            {"c": city.id}).scalar_one()
        assert sum(r["residents"] for r in rows) == pytest.approx(float(total), rel=1e-9)
        for r in rows:
            assert r["residents_in"] + r["residents_out"] + r["residents_unknown"] == \
                pytest.approx(r["residents"])


def test_compound_rows_match_stored_minutes(demo_engine: Engine, guixi_run: int) -> None:
    with demo_engine.connect() as conn:
        city = get_city(conn, "guixi")
        rows = compound_rows(conn, city.id, service_type="party_mass_centre")
        assert rows and all(r["service_type"] == "party_mass_centre" for r in rows)
        reach = [r for r in rows if r["reachable"]]
        assert reach
        for r in reach:
            assert r["nearest_min"] == pytest.approx(r["nearest_m"] / 75.0)
            assert r["second_m"] is None or r["second_m"] >= r["nearest_m"]


def test_circles_and_gaps_are_stored_in_4326(demo_engine: Engine, guixi_run: int) -> None:
    with demo_engine.connect() as conn:
        n, srid = conn.execute(text(
            "SELECT count(*), min(ST_SRID(geom)) FROM service_circle WHERE run_id = :r"),
            {"r": guixi_run}).one()
        assert n > 0 and srid == 4326
        views = conn.execute(text(
            "SELECT count(*) FROM service_circle_union_latest WHERE run_id = :r"),
            {"r": guixi_run}).scalar_one()
        assert views > 0
        gaps = conn.execute(text(
            "SELECT count(*) FROM coverage_gap WHERE run_id = :r AND gap_share > 0"),
            {"r": guixi_run}).scalar_one()
        assert gaps > 0


def test_deleting_the_run_deletes_its_rows(engine: Engine, guixi_run: int) -> None:
    with engine.connect() as conn:
        trans = conn.begin()
        conn.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": guixi_run})
        left = conn.execute(text("SELECT count(*) FROM coverage_compound WHERE run_id = :r"),
                            {"r": guixi_run}).scalar_one()
        trans.rollback()
    assert left == 0


def test_result_tables_bump_layer_version(engine: Engine, guixi_run: int) -> None:
    with engine.connect() as conn:
        v = conn.execute(text("SELECT version FROM layer_version "
                              "WHERE table_name = 'service_circle'")).scalar_one()
        assert v >= 2


def test_unknown_unit_is_rejected(demo_engine: Engine, guixi_run: int) -> None:
    with demo_engine.connect() as conn, pytest.raises(InvalidInputError):
        unit_rows(conn, get_city(conn, "guixi").id, unit_kind="village")


def test_city_without_run_says_so(conn: Connection) -> None:
    from shapely.geometry import box

    from geo.store.cities import create_city

    c = create_city(conn, "empty-town", name_zh="空城", name_en="Empty",
                    bounds=box(117, 28, 117.1, 28.1))
    with pytest.raises(NotFoundError):
        latest_run(conn, c.id)
