"""Settings are read from SERVICECIRCLE_* variables handed in explicitly."""

from __future__ import annotations

from pathlib import Path

from geo.settings import Settings


def test_defaults_use_the_embedded_cluster() -> None:
    s = Settings.from_env({})
    assert s.embedded
    assert s.url() == "postgresql+psycopg://servicecircle@127.0.0.1:55432/servicecircle"


def test_environment_overrides_typed_values() -> None:
    s = Settings.from_env({"SERVICECIRCLE_PG_PORT": "6000", "SERVICECIRCLE_HOME": "/x",
                           "SERVICECIRCLE_WALK_SPEED_M_PER_MIN": "80"})
    assert (s.pg_port, s.home, s.walk_speed_m_per_min) == (6000, Path("/x"), 80.0)


def test_database_url_selects_that_server_and_its_database() -> None:
    s = Settings.from_env({"SERVICECIRCLE_DATABASE_URL": "postgresql://u:p@db:5433/city?sslmode=require"})
    assert not s.embedded
    assert s.database == "city"
    assert s.url() == "postgresql+psycopg://u:p@db:5433/city?sslmode=require"


def test_db_name_replaces_the_database_of_the_url() -> None:
    s = Settings.from_env({"SERVICECIRCLE_DATABASE_URL": "postgresql://u@db/city",
                           "SERVICECIRCLE_DB_NAME": "test_1"})
    assert s.database == "test_1"
    assert s.url() == "postgresql+psycopg://u@db/test_1"
    assert s.url("postgres") == "postgresql+psycopg://u@db/postgres"
