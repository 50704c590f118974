"""Migrations go up and down cleanly, and the schema enforces its own rules."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geo.store import migrate
from geo.store.cities import create_city

CITY = (
    "INSERT INTO city (code, name_zh, name_en, metric_epsg, bounds) VALUES "
    "('t', '测试', 'Test', 32650, ST_MakeEnvelope(117, 28, 118, 29, 4326)) RETURNING id"
)


def test_downgrade_to_base_then_upgrade_to_head(conn: Connection) -> None:
    migrate.downgrade(conn, "base")
    assert migrate.current_revisions(conn) == ()
    assert conn.execute(text("SELECT to_regclass('public.city')")).scalar() is None
    migrate.upgrade(conn)
    assert migrate.current_revisions(conn) == migrate.script_heads()
    assert len(migrate.script_heads()) >= 1
    assert conn.execute(text("SELECT count(*) FROM case_category")).scalar() == 7


def test_database_rejects_invalid_polygon(conn: Connection) -> None:
    city = conn.execute(text(CITY)).scalar()
    bowtie = "MULTIPOLYGON(((117 28, 117.1 28.1, 117.1 28, 117 28.1, 117 28)))"
    with pytest.raises(IntegrityError, match="street_geom_valid"):
        conn.execute(text("INSERT INTO street (city_id, external_id, name, geom) "
                          "VALUES (:c, 's1', 'x', ST_GeomFromText(:g, 4326))"),
                     {"c": city, "g": bowtie})


def test_database_rejects_unknown_case_category(conn: Connection) -> None:
    city = conn.execute(text(CITY)).scalar()
    with pytest.raises(IntegrityError, match="grid_case_category_fkey"):
        conn.execute(text(
            "INSERT INTO grid_case (city_id, external_id, category, reported_at, status, geom) "
            "VALUES (:c, 'k1', 'noise', now(), 'reported', ST_Point(117.5, 28.5, 4326))"),
            {"c": city})


def test_database_rejects_unknown_service_type(conn: Connection) -> None:
    city = conn.execute(text(CITY)).scalar()
    with pytest.raises(IntegrityError, match="service_point_type_fkey"):
        conn.execute(text(
            "INSERT INTO service_point (city_id, external_id, type, name, geom) "
            "VALUES (:c, 'p1', 'spaceport', 'x', ST_Point(117.5, 28.5, 4326))"), {"c": city})


def test_database_rejects_closed_before_reported(conn: Connection) -> None:
    city = conn.execute(text(CITY)).scalar()
    with pytest.raises(IntegrityError, match="grid_case_closed_after_reported"):
        conn.execute(text(
            "INSERT INTO grid_case (city_id, external_id, category, reported_at, closed_at, "
            "status, geom) VALUES (:c, 'k1', 'sanitation', '2026-01-02', '2026-01-01', "
            "'closed', ST_Point(117.5, 28.5, 4326))"), {"c": city})


def test_data_change_bumps_layer_version(conn: Connection) -> None:
    before = conn.execute(text("SELECT version FROM layer_version WHERE table_name='city'")).scalar()
    conn.execute(text(CITY))
    after = conn.execute(text("SELECT version FROM layer_version WHERE table_name='city'")).scalar()
    assert after == before + 1


#: Partitioned by migration 0009a; ``ADDED`` got their ``city_id`` column there.
PARTITIONED_0009A = (
    "compound", "grid_compound", "courier_compound_demand", "coverage_compound", "coverage_unit",
    "coverage_completeness", "service_circle", "service_circle_union", "coverage_gap",
    "case_hex", "case_kde", "case_grid", "courier_station", "courier_compound", "courier_grid",
    "courier_overlap", "regrid_grid")
ADDED = ("grid_compound", "courier_compound_demand", "case_hex", "case_kde", "case_grid",
         "courier_station", "courier_compound", "courier_grid", "courier_overlap")


def _views(conn: Connection) -> list[str]:
    """The schema's views (not the extensions' such as ``geometry_columns``)."""
    return list(conn.execute(text(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'v' "
        "AND c.relnamespace = 'public'::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1")).scalars())


def _digest(conn: Connection, relation: str) -> tuple[int, str]:
    """Row count and md5 of the sorted rows of ``relation``, without the added ``city_id``."""
    cols = [c for c in conn.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:r AS regclass) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"r": relation}).scalars()
        if not (c == "city_id" and relation in ADDED)]
    n, md5 = conn.execute(text(
        f"SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) "
        f"FROM (SELECT {', '.join(cols)} FROM {relation}) r")).one()
    return int(n), str(md5)


def _schema(conn: Connection) -> dict[str, Any]:
    """Kind, columns, constraints, indexes, triggers, owned sequences and grants of the
    tables of 0009a, and the definitions and grants of every view."""
    out: dict[str, Any] = {}
    for t in PARTITIONED_0009A:
        p = {"t": t}
        out[t] = (
            tuple(conn.execute(text("SELECT relkind, relacl::text FROM pg_class WHERE oid = "
                              "CAST(:t AS regclass)"), p).one()),
            conn.execute(text(
                "SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
                "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d "
                "ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = "
                "CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum"), p).all(),
            conn.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                "CAST(:t AS regclass) AND conparentid = 0 ORDER BY 1"), p).all(),
            conn.execute(text(
                "SELECT replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ') FROM pg_index "
                "WHERE indrelid = CAST(:t AS regclass) ORDER BY 1"), p).scalars().all(),
            conn.execute(text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = "
                "CAST(:t AS regclass) AND NOT tgisinternal AND tgparentid = 0 ORDER BY 1"),
                p).scalars().all(),
            conn.execute(text("SELECT pg_get_serial_sequence(:t, a.attname) FROM pg_attribute a "
                              "WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 "
                              "AND NOT a.attisdropped ORDER BY a.attnum"), p).scalars().all())
    for v in _views(conn):
        out[v] = tuple(conn.execute(text("SELECT pg_get_viewdef(CAST(:v AS regclass)), relacl::text "
                                   "FROM pg_class WHERE oid = CAST(:v AS regclass)"),
                              {"v": v}).one())
    return out


def _constraint(schema: dict[str, Any], table: str, name: str) -> str:
    return dict(schema[table][2])[name]


def test_partitioning_compounds_and_results_keeps_data_both_ways(
        results: tuple[Connection, int]) -> None:
    conn, city = results
    conn.execute(text("GRANT SELECT ON compound, coverage_compound_latest TO PUBLIC"))
    # a deleted city leaves its partitions, and their keys, behind
    gone_city = create_city(conn, "pgone", name_zh="已删", name_en="Gone",
                            bounds=box(117.0, 28.0, 117.01, 28.01)).id
    conn.execute(text("DELETE FROM city WHERE id = :c"), {"c": gone_city})
    assert conn.execute(text("SELECT count(*) FROM pg_constraint WHERE conname = :n"), {
        "n": f"coverage_gap_c{gone_city}_compound_fkey"}).scalar_one() == 1
    relations = [*PARTITIONED_0009A, *_views(conn)]
    data = {r: _digest(conn, r) for r in relations}
    assert all(data[t][0] > 0 for t in PARTITIONED_0009A), data  # every table holds rows
    head = _schema(conn)

    migrate.downgrade(conn, "0008h")  # 0009b (the views of every run) goes down too
    gone = set(relations) - {*PARTITIONED_0009A, *_views(conn)}
    assert gone == {f"{t}_by_run" for t in ("coverage_compound", "coverage_grid",
                                            "coverage_completeness", "coverage_gap",
                                            "service_circle", "service_circle_union")}
    relations = [r for r in relations if r not in gone]
    data = {r: data[r] for r in relations}
    plain = _schema(conn)
    assert {t: plain[t][0][0] for t in PARTITIONED_0009A} == dict.fromkeys(PARTITIONED_0009A,
                                                                             "r")
    for t in ADDED:
        assert "city_id" not in {c[0] for c in plain[t][1]}, t
    assert _constraint(plain, "coverage_compound", "coverage_compound_compound_id_fkey") == \
        "FOREIGN KEY (compound_id) REFERENCES compound(id) ON DELETE CASCADE"
    assert _constraint(plain, "case_hex", "case_hex_run_id_fkey") == \
        "FOREIGN KEY (run_id) REFERENCES analysis_run(id) ON DELETE CASCADE"
    assert _constraint(plain, "case_hex", "case_hex_run_h3_key") == "UNIQUE (run_id, h3)"
    assert _constraint(plain, "compound", "compound_pkey") == "PRIMARY KEY (id)"
    assert _constraint(plain, "grid_compound", "grid_compound_pkey") == \
        "PRIMARY KEY (grid_id, compound_id)"
    assert "city_id = " not in plain["case_hex_latest"][0]
    assert conn.execute(text("SELECT count(*) FROM pg_constraint WHERE conname = "
                             "'analysis_run_id_city_key'")).scalar_one() == 0
    assert {r: _digest(conn, r) for r in relations} == data

    migrate.upgrade(conn)
    assert _schema(conn) == head
    # compounds' links point at their city's compound partition, not at the parent
    assert "coverage_compound_compound_id_fkey" not in dict(head["coverage_compound"][2])
    assert conn.execute(text(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
        {"n": f"coverage_compound_c{city}_compound_fkey"}).scalar_one() == (
        f"FOREIGN KEY (compound_id, city_id) REFERENCES compound_c{city}(id, city_id) "
        "ON DELETE CASCADE")
    assert _constraint(head, "case_hex", "case_hex_run_h3_key") == "UNIQUE (run_id, h3, city_id)"
    assert "compound_id_seq" in str(head["compound"][5][0])
    assert "h.city_id" in head["case_hex_latest"][0]  # joins match the city: one partition
    assert {r: _digest(conn, r) for r in relations} == data
    migrate.downgrade(conn, "0008h")
    assert _schema(conn) == plain
    migrate.upgrade(conn)
    # the version triggers work on the partitioned tables
    before = conn.execute(text("SELECT version FROM layer_version WHERE table_name = 'compound'")
                          ).scalar_one()
    conn.execute(text("UPDATE compound SET name = name WHERE city_id = :c"), {"c": city})
    assert conn.execute(text("SELECT version FROM layer_version WHERE table_name = 'compound'")
                        ).scalar_one() == before + 1


def _compression(conn: Connection, table: str) -> str:
    return str(conn.execute(text(
        "SELECT attcompression FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
        "AND attname = 'geom'"), {"t": table}).scalar_one())


def test_results_keep_one_key_to_their_city_and_compress_geometries_with_lz4(
        results: tuple[Connection, int]) -> None:
    """0010a: a result row reaches its city through its run only (deleting the city still
    deletes it); result geometries are lz4, in every partition and a new city's; down and
    up again."""
    conn, city = results
    run_rows = "SELECT count(*) FROM coverage_gap WHERE city_id = :c"

    def city_keys() -> set[str]:
        return set(conn.execute(text(
            "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND "
            "confrelid = 'city'::regclass AND conparentid = 0")).scalars())

    assert not {"coverage_gap", "service_circle", "regrid_grid"} & city_keys()
    assert {"analysis_run", "compound", "siting_scenario"} <= city_keys()
    new = create_city(conn, "plz4", name_zh="新城", name_en="New",
                      bounds=box(117.0, 28.0, 117.01, 28.01)).id
    for t in ("service_circle", f"service_circle_c{city}", f"coverage_gap_c{city}",
              f"case_hex_c{city}", f"service_circle_union_c{new}"):
        assert _compression(conn, t) == "l", t

    migrate.downgrade(conn, "0009a")
    assert {"coverage_gap", "service_circle", "regrid_grid"} <= city_keys()
    assert _compression(conn, f"service_circle_c{city}") == ""
    migrate.upgrade(conn)
    assert _compression(conn, f"service_circle_c{city}") == "l"
    assert conn.execute(text(run_rows), {"c": city}).scalar_one() > 0
    conn.execute(text("DELETE FROM city WHERE id = :c"), {"c": city})
    assert conn.execute(text(run_rows), {"c": city}).scalar_one() == 0
