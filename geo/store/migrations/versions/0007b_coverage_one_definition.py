"""Coverage stored by the one definition: whole people, gaps carrying their people, city totals.

Revision ID: 0007b
Revises: 0002, 0006
Create Date: 2026-12-01

The coverage definition of :mod:`geo.coverage.analysis`: gaps are the compounds outside a
circle, each carrying its residents and households outside (``coverage_gap.residents``,
``households``, ``nearest_min``) instead of an area-apportioned estimate
(``residents_gap_est``, ``gap_share`` dropped); counts of people in ``coverage_unit`` are
whole numbers (BIGINT; grids apportioned by the largest-remainder method) with the
compounds inside / outside / unknown per unit; ``unit_kind = 'city'`` holds a run's city
totals. Coverage runs stored before this revision followed another definition of
circles and gaps and are removed (``servicecircle analyze coverage`` computes them again).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007b"
down_revision = ("0002", "0006")  # the coverage tables (0002), after the newest (0006)
branch_labels = None
depends_on = None

PEOPLE = [f"{p}_{k}" for p in ("residents", "households") for k in ("in", "out", "unknown")]
COUNTS = ["compounds_in", "compounds_out", "compounds_unknown"]

GRID_VIEW = """
    CREATE VIEW coverage_grid_latest AS
    SELECT t.id, t.city_id, t.run_id, t.unit_id AS grid_id, g.name, t.service_type,
           t.minutes, t.budget_m, t.compounds, {counts}t.residents, t.households,
           t.residents_in, t.residents_out, t.residents_unknown, t.share_covered, g.geom
    FROM coverage_unit t JOIN coverage_run_latest r ON r.id = t.run_id
    JOIN grid g ON g.id = t.unit_id WHERE t.unit_kind = 'grid'
"""
GAP_VIEW = """
    CREATE VIEW coverage_gap_latest AS
    SELECT t.id, t.city_id, t.run_id, t.service_type, t.minutes, t.budget_m, t.compound_id,
           {extra}, t.geom
    FROM coverage_gap t JOIN coverage_run_latest r ON r.id = t.run_id {join}
"""


def upgrade() -> None:
    op.execute("DROP VIEW coverage_grid_latest")
    op.execute("DROP VIEW coverage_gap_latest")
    op.execute("DELETE FROM analysis_run WHERE kind = 'coverage'")
    for col in ("residents", "households", *PEOPLE):
        op.alter_column("coverage_unit", col, type_=sa.BigInteger,
                        postgresql_using=f"round({col})::bigint")
    for col in COUNTS:
        op.add_column("coverage_unit", sa.Column(col, sa.Integer, nullable=False,
                                                 server_default="0"))
    op.drop_constraint("coverage_unit_kind_check", "coverage_unit")
    op.create_check_constraint("coverage_unit_kind_check", "coverage_unit",
                               "unit_kind IN ('grid', 'community', 'street', 'city')")
    op.drop_column("coverage_gap", "gap_share")
    op.drop_column("coverage_gap", "residents_gap_est")
    op.add_column("coverage_gap", sa.Column("nearest_min", sa.Float))
    for col in ("residents", "households"):
        op.add_column("coverage_gap", sa.Column(col, sa.BigInteger, nullable=False,
                                                server_default="0"))
    op.execute(GRID_VIEW.format(counts="".join(f"t.{c}, " for c in COUNTS)))
    op.execute(GAP_VIEW.format(
        extra="c.name, t.nearest_min, t.residents, t.households, t.gap_area_m2",
        join="JOIN compound c ON c.id = t.compound_id"))


def downgrade() -> None:
    op.execute("DROP VIEW coverage_grid_latest")
    op.execute("DROP VIEW coverage_gap_latest")
    op.execute("DELETE FROM analysis_run WHERE kind = 'coverage'")
    for col in ("residents", "households", "nearest_min"):
        op.drop_column("coverage_gap", col)
    op.add_column("coverage_gap", sa.Column("gap_share", sa.Float, nullable=False,
                                            server_default="0"))
    op.add_column("coverage_gap", sa.Column("residents_gap_est", sa.Float, nullable=False,
                                            server_default="0"))
    op.drop_constraint("coverage_unit_kind_check", "coverage_unit")
    op.create_check_constraint("coverage_unit_kind_check", "coverage_unit",
                               "unit_kind IN ('grid', 'community', 'street')")
    for col in COUNTS:
        op.drop_column("coverage_unit", col)
    for col in ("residents", "households", *PEOPLE):
        op.alter_column("coverage_unit", col, type_=sa.Float)
    op.execute(GRID_VIEW.format(counts=""))
    op.execute(GAP_VIEW.format(
        extra="t.gap_area_m2, t.gap_share, t.residents_gap_est", join=""))
