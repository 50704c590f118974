"""Saved re-gridding proposals: one ``analysis_run`` (kind ``regrid``) and its grids.

Revision ID: 0008h
Revises: 0008c, 0008e
Create Date: 2026-12-01

``regrid_grid`` holds the proposed grids of a saved proposal (``analyze regrid --save``,
``POST …/grids/regrid`` with ``save``): the community, the proposal number, households,
residents and compounds, whether the households are within the proposal's range
``[lower, upper]``, and the polygon (EPSG:4326 MultiPolygon, GiST index). Rows go with
their run (ON DELETE CASCADE). The view ``regrid_grid_latest`` shows the grids of each
city's newest saved proposal for the map (layer ``grid_proposal``). A statement trigger
bumps ``layer_version``, like 0001.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0008h"
down_revision = ("0008c", "0008e")
branch_labels = None
depends_on = None

TABLES = ["regrid_grid"]


def upgrade() -> None:
    op.create_table(
        "regrid_grid",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_run.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("community", sa.Text, nullable=False),
        sa.Column("proposal", sa.Integer, nullable=False),
        sa.Column("households", sa.Float, nullable=False),
        sa.Column("residents", sa.Float, nullable=False),
        sa.Column("compounds", sa.Integer, nullable=False),
        sa.Column("in_range", sa.Boolean, nullable=False),
        sa.Column("lower", sa.Float, nullable=False),
        sa.Column("upper", sa.Float, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False),
                  nullable=False),
        sa.UniqueConstraint("run_id", "proposal", name="regrid_grid_run_proposal_key"),
        sa.CheckConstraint("proposal >= 1", name="regrid_grid_proposal_check"),
        sa.CheckConstraint("households >= 0 AND residents >= 0 AND compounds >= 1",
                           name="regrid_grid_counts_check"),
        sa.CheckConstraint("0 < lower AND lower <= upper", name="regrid_grid_range_check"),
        sa.CheckConstraint("in_range = (households BETWEEN lower AND upper)",
                           name="regrid_grid_in_range_check"),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)",
                           name="regrid_grid_geom_valid"),
    )
    op.create_index("regrid_grid_geom_idx", "regrid_grid", ["geom"], postgresql_using="gist")
    op.create_index("regrid_grid_run_idx", "regrid_grid", ["run_id"])
    op.execute("""
        CREATE VIEW regrid_grid_latest AS
        SELECT t.id, t.city_id, t.run_id, t.community, t.proposal,
               concat(t.community, ' · ', t.proposal) AS name, t.households, t.residents,
               t.compounds, t.in_range, t.lower, t.upper, t.geom
        FROM regrid_grid t
        WHERE t.run_id = (SELECT max(r.id) FROM analysis_run r
                          WHERE r.city_id = t.city_id AND r.kind = 'regrid')
    """)
    track_versions(TABLES)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS regrid_grid_latest")
    untrack_versions(TABLES)
    op.execute("DELETE FROM analysis_run WHERE kind = 'regrid'")
    op.drop_table("regrid_grid")
