"""Migrations go up and down cleanly, and the schema enforces its own rules."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geo.store import migrate

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
