"""Settings are read from SERVICECIRCLE_* variables handed in explicitly."""

from __future__ import annotations

from pathlib import Path

from geo.settings import Settings, mask_password


def test_defaults_use_the_embedded_cluster() -> None:
    s = Settings.from_env({})
    assert s.embedded
    assert s.url().startswith("postgresql+psycopg://servicecircle@127.0.0.1:55432/servicecircle?")


def test_embedded_url_names_the_password_file_not_a_password() -> None:
    s = Settings.from_env({"SERVICECIRCLE_HOME": "/srv/sc home", "SERVICECIRCLE_PG_PORT": "6000"})
    assert s.passfile == Path("/srv/sc home/secrets/pgpass")
    assert s.url("other") == ("postgresql+psycopg://servicecircle@127.0.0.1:6000/other"
                              "?passfile=%2Fsrv%2Fsc%20home%2Fsecrets%2Fpgpass")
    assert s.display_url() == ("postgresql+psycopg://servicecircle@127.0.0.1:6000/servicecircle"
                               "?passfile=/srv/sc home/secrets/pgpass")
    assert s.db_admin_user != s.db_user


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


def test_embedded_url_passed_as_database_url_keeps_its_database_and_passfile() -> None:
    embedded = Settings.from_env({"SERVICECIRCLE_HOME": "/x", "SERVICECIRCLE_DB_NAME": "t_1"})
    s = Settings.from_env({"SERVICECIRCLE_DATABASE_URL": embedded.url()})
    assert s.database == "t_1"
    assert s.url("t_2") == embedded.url("t_2")


def test_display_url_masks_passwords() -> None:
    s = Settings.from_env({"SERVICECIRCLE_DATABASE_URL": "postgresql://u:s3cr%40t@db:5433/city"})
    assert s.display_url() == "postgresql+psycopg://u:***@db:5433/city"
    assert "s3cr" not in s.display_url("other")
    assert mask_password("postgresql://u:p@ss@db/x?password=zz&sslmode=require") == (
        "postgresql://u:***@db/x?password=***&sslmode=require")
    assert mask_password("postgresql://u@db/x") == "postgresql://u@db/x"
