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
        # whole people: each compound's share of grids, rounded half up, split exactly
        total = conn.execute(text(
            "SELECT sum(floor(c.residents * s.share + 0.5)) FROM (SELECT compound_id, "
            "sum(resident_share) AS share FROM grid_compound GROUP BY compound_id) s "
            "JOIN compound c ON c.id = s.compound_id WHERE c.city_id = :c"),
            {"c": city.id}).scalar_one()
        assert sum(r["residents"] for r in rows) == int(total)
        for r in rows:
            assert all(isinstance(r[k], int) for k in ("residents", "residents_in",
                                                        "residents_out", "households_out"))
            assert r["residents_in"] + r["residents_out"] + r["residents_unknown"] == \
                r["residents"]


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
            "SELECT count(*) FROM coverage_gap WHERE run_id = :r AND residents > 0"),
            {"r": guixi_run}).scalar_one()
        assert gaps > 0


def test_gaps_are_exactly_the_outside_compounds(demo_engine: Engine, guixi_run: int) -> None:
    with demo_engine.connect() as conn:
        wrong = conn.execute(text("""
            SELECT count(*) FROM coverage_gap g
            JOIN coverage_compound t ON t.run_id = g.run_id AND t.compound_id = g.compound_id
                 AND t.service_type = g.service_type
            WHERE g.run_id = :r AND (NOT t.snapped OR t.nearest_m <= g.budget_m)"""),
            {"r": guixi_run}).scalar_one()
        missing = conn.execute(text("""
            SELECT count(*) FROM coverage_compound t
            JOIN coverage_unit u ON u.run_id = t.run_id AND u.unit_kind = 'city'
                 AND u.service_type = t.service_type
            LEFT JOIN coverage_gap g ON g.run_id = t.run_id AND g.compound_id = t.compound_id
                 AND g.service_type = t.service_type AND g.budget_m = u.budget_m
            WHERE t.run_id = :r AND t.snapped AND NOT (t.nearest_m <= u.budget_m)
              AND g.id IS NULL"""), {"r": guixi_run}).scalar_one()
        assert wrong == 0 and missing == 0


def test_circles_hold_inside_compounds_and_no_gap(demo_engine: Engine, guixi_run: int) -> None:
    with demo_engine.connect() as conn:
        overlap, gap_area = conn.execute(text("""
            SELECT sum(ST_Area(ST_Intersection(g.geom, u.geom)::geography)),
                   sum(ST_Area(g.geom::geography))
            FROM coverage_gap g JOIN service_circle_union u ON u.run_id = g.run_id
                 AND u.service_type = g.service_type AND u.budget_m = g.budget_m
            WHERE g.run_id = :r"""), {"r": guixi_run}).one()
        assert gap_area > 0 and overlap < 1e-4 * gap_area
        outside_circle = conn.execute(text("""
            SELECT max(ST_Area(ST_Difference(c.geom, u.geom)::geography)
                       / ST_Area(c.geom::geography))
            FROM coverage_compound t JOIN compound c ON c.id = t.compound_id
            JOIN service_circle_union u ON u.run_id = t.run_id
                 AND u.service_type = t.service_type AND t.nearest_m <= u.budget_m
            WHERE t.run_id = :r AND t.snapped"""), {"r": guixi_run}).scalar_one()
        assert outside_circle is not None and outside_circle < 1e-4


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
