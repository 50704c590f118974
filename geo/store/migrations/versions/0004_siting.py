"""New-station siting: imported candidate sites, saved scenarios and their proposed sites.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22

``siting_candidate`` holds imported candidate sites of a city (vacant community rooms,
property offices, ...; optional cost and capacity). A ``siting_scenario`` belongs to an
``analysis_run`` (kind ``siting``) and goes with it (ON DELETE CASCADE); its proposed
sites are ``siting_site`` rows in rank order (user-proposed what-if sites have
``source = 'user'``); the view ``siting_site_latest`` shows the sites of each city's
newest scenario for the map. Geometries are EPSG:4326 points with GiST indexes; a statement
trigger bumps ``layer_version`` for each table, like 0001.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ["siting_candidate", "siting_scenario", "siting_site"]


def _point(table: str) -> tuple[sa.Column, sa.CheckConstraint]:
    return (sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
            sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom) AND ST_X(geom) "
                               "BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90",
                               name=f"{table}_geom_valid"))


def upgrade() -> None:
    op.create_table(
        "siting_candidate",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False, server_default="other"),
        sa.Column("cost", sa.Float),
        sa.Column("capacity", sa.Float),
        sa.Column("source", sa.Text, nullable=False, server_default="import"),
        *_point("siting_candidate"),
        sa.UniqueConstraint("city_id", "external_id", name="siting_candidate_city_external_id_key"),
        sa.CheckConstraint("cost IS NULL OR cost >= 0", name="siting_candidate_cost_check"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0",
                           name="siting_candidate_capacity_check"),
        sa.CheckConstraint("source IN ('osm', 'generated', 'import')",
                           name="siting_candidate_source_check"),
    )
    op.create_index("siting_candidate_geom_idx", "siting_candidate", ["geom"],
                    postgresql_using="gist")
    op.create_table(
        "siting_scenario",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_run.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("service_type", sa.Text, sa.ForeignKey("service_type.code"), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("minutes", sa.Float, nullable=False),
        sa.Column("weight", sa.Text, nullable=False, server_default="residents"),
        sa.Column("total_weight", sa.Float, nullable=False),
        sa.Column("before_weight", sa.Float, nullable=False),
        sa.Column("after_weight", sa.Float, nullable=False),
        sa.Column("objective", sa.Float),
        sa.Column("bound", sa.Float),
        sa.Column("gap", sa.Float),
        sa.Column("solver", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("model IN ('mclp', 'lscp', 'pmedian', 'whatif')",
                           name="siting_scenario_model_check"),
        sa.CheckConstraint("minutes > 0", name="siting_scenario_minutes_check"),
        sa.CheckConstraint("total_weight >= 0 AND before_weight >= 0 AND after_weight >= 0",
                           name="siting_scenario_weight_check"),
    )
    op.create_index("siting_scenario_city_idx", "siting_scenario", ["city_id", "created_at"])
    op.create_table(
        "siting_site",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("scenario_id", sa.Integer,
                  sa.ForeignKey("siting_scenario.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("candidate", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("gain", sa.Float, nullable=False),
        sa.Column("demand_inside", sa.Integer, nullable=False),
        sa.Column("cost", sa.Float),
        sa.Column("source", sa.Text, nullable=False, server_default="model"),
        *_point("siting_site"),
        sa.UniqueConstraint("scenario_id", "rank", name="siting_site_scenario_rank_key"),
        sa.CheckConstraint("rank >= 1", name="siting_site_rank_check"),
        sa.CheckConstraint("demand_inside >= 0", name="siting_site_demand_check"),
        sa.CheckConstraint("source IN ('model', 'user')", name="siting_site_source_check"),
    )
    op.create_index("siting_site_geom_idx", "siting_site", ["geom"], postgresql_using="gist")
    op.execute("""
        CREATE VIEW siting_site_latest AS
        SELECT t.id, s.city_id, s.id AS scenario_id, s.name AS scenario_name, s.service_type,
               s.minutes, t.rank, t.candidate, t.kind, t.name, t.gain, t.demand_inside, t.cost,
               t.source, t.geom
        FROM siting_site t JOIN siting_scenario s ON s.id = t.scenario_id
        WHERE s.id = (SELECT max(s2.id) FROM siting_scenario s2 WHERE s2.city_id = s.city_id)
    """)
    track_versions(TABLES)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS siting_site_latest")
    untrack_versions(TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
