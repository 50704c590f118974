"""Loading the demo cities into PostGIS: counts, grid–compound relations, idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo.demo import load_demo
from geo.domain import ServiceType

TABLES = ("street", "community", "grid", "compound", "service_point", "grid_case",
          "street_node", "street_edge")


def count(conn: Connection, table: str, code: str) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {table} t JOIN city c ON c.id = t.city_id "
                             "WHERE c.code = :code"), {"code": code}).scalar_one()


def checksums(conn: Connection) -> dict[str, str]:
    """md5 over every row (ids, attributes, geometry) of each table, ordered by key."""
    out = {}
    for t in TABLES:
        key = "city_id, node_id" if t == "street_node" else (
            "city_id, edge_id" if t == "street_edge" else "id")
        out[t] = conn.execute(text(
            f"SELECT md5(string_agg(x::text, '|' ORDER BY {key})) FROM {t} x")).scalar_one()
    out["grid_compound"] = conn.execute(text(
        "SELECT md5(string_agg(x::text, '|' ORDER BY grid_id, compound_id)) "
        "FROM grid_compound x")).scalar_one()
    out["city"] = conn.execute(text(
        "SELECT md5(string_agg(id || code || ST_AsText(bounds) || metric_epsg, '|' ORDER BY id)) "
        "FROM city")).scalar_one()
    return out



def test_guixi_counts_in_required_ranges(demo):
    assert count(demo, "community", "guixi") == 16
    assert 80 <= count(demo, "grid", "guixi") <= 150
    assert 300 <= count(demo, "compound", "guixi") <= 800
    assert count(demo, "grid_case", "guixi") >= 20_000
    assert count(demo, "street_edge", "guixi") > 400


def test_cases_span_twelve_months(demo):
    months = demo.execute(text(
        "SELECT count(DISTINCT date_trunc('month', reported_at AT TIME ZONE 'Asia/Shanghai')) "
        "FROM grid_case g JOIN city c ON c.id = g.city_id WHERE c.code = 'guixi'")).scalar_one()
    assert months == 12


@pytest.mark.parametrize("code", ["guixi", "wudaokou"])
def test_every_layer_non_empty(demo, code):
    assert all(count(demo, t, code) > 0 for t in TABLES)


def test_every_service_type_present(demo):
    types = set(demo.execute(text(
        "SELECT DISTINCT type FROM service_point s JOIN city c ON c.id = s.city_id "
        "WHERE c.code = 'guixi'")).scalars())
    assert types == {str(t) for t in ServiceType}


def test_all_three_grid_compound_relations(demo):
    rel = demo.execute(text("""
        WITH x AS (
            SELECT gc.*, ST_Area(g.geom::geography) AS grid_a, ST_Area(k.geom::geography) AS comp_a
            FROM grid_compound gc JOIN grid g ON g.id = gc.grid_id
            JOIN compound k ON k.id = gc.compound_id JOIN city c ON c.id = g.city_id
            WHERE c.code = 'guixi')
        SELECT
          (SELECT count(*) FROM x WHERE shared_area_m2 > 0.99 * grid_a
                                    AND shared_area_m2 > 0.99 * comp_a) AS equal,
          (SELECT count(*) FROM (SELECT grid_id FROM x WHERE resident_share > 0.99
                                 GROUP BY grid_id HAVING count(*) >= 2) s) AS larger,
          (SELECT count(*) FROM (SELECT compound_id FROM x WHERE resident_share > 0.05
                                 GROUP BY compound_id HAVING count(*) >= 2) s) AS smaller
        """)).one()
    assert rel.equal >= 1 and rel.larger >= 10 and rel.smaller >= 10


def test_parents_resolved(demo):
    orphans = demo.execute(text("""
        SELECT (SELECT count(*) FROM community WHERE street_id IS NULL)
             + (SELECT count(*) FROM grid WHERE community_id IS NULL)
             + (SELECT count(*) FROM compound WHERE community_id IS NULL)""")).scalar_one()
    assert orphans == 0


def test_sources_recorded(demo):
    rows = dict(demo.execute(text(
        "SELECT k.source, count(*) FROM compound k JOIN city c ON c.id = k.city_id "
        "WHERE c.code = 'wudaokou' GROUP BY k.source")).all())
    assert rows == {"osm": 6}
    st = demo.execute(text("SELECT source FROM street WHERE name = '东门街道'")).scalar_one()
    assert st == "osm"


def test_loading_twice_gives_the_same_database(demo):
    before = checksums(demo)
    counts = load_demo(demo)
    assert checksums(demo) == before
    assert counts["guixi"]["grid_case"] == count(demo, "grid_case", "guixi")
    assert counts["wudaokou"]["compound"] == 6


def test_load_reports_progress(demo):
    seen: list[tuple[int, int]] = []
    load_demo(demo, progress=lambda message, done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] == len(seen)


def test_reload_removes_stale_demo_rows_but_keeps_imports(demo):
    city_id = demo.execute(text("SELECT id FROM city WHERE code = 'guixi'")).scalar_one()
    for ext, source in (("GX-OLD-1", "generated"), ("MY-1", "import")):
        demo.execute(text(
            "INSERT INTO service_point (city_id, external_id, type, name, source, geom) "
            "VALUES (:c, :e, 'red_station', '旧站', :s, ST_SetSRID(ST_MakePoint(117.22, 28.30), 4326))"),
            {"c": city_id, "e": ext, "s": source})
    load_demo(demo)
    left = set(demo.execute(text(
        "SELECT external_id FROM service_point WHERE city_id = :c AND external_id IN "
        "('GX-OLD-1', 'MY-1')"), {"c": city_id}).scalars())
    assert left == {"MY-1"}
