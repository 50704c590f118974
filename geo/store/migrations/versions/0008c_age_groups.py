"""Residents by age group per compound; coverage counted in the people of a target group.

Revision ID: 0008c
Revises: 0007b, 0008b
Create Date: 2026-12-01

- ``compound.age_0_14``, ``compound.age_15_59``: residents aged 0–14 and 15–59 (NULL when
  unknown); ``compound.elderly`` is the 60+ group. The given groups never exceed the
  residents.
- ``coverage_compound``, ``coverage_unit``, ``coverage_gap``: the service type's target
  group (:class:`geo.domain.PopulationGroup`) and walking speed (m/min) of the run; the unit
  tables count the target group's people inside / outside / not computable
  (``target_*``, compounds whose group size is unknown counted in
  ``compounds_target_unknown``), the gaps the target group's people outside (``target``,
  NULL when the compound's group size is unknown).
- views ``coverage_gap_latest`` and ``coverage_grid_latest`` end with those columns.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008c"
down_revision = ("0007b", "0008b")  # the coverage views and counts of 0007b are extended here
branch_labels = None
depends_on = None

GROUPS = "('all', 'age_0_14', 'age_15_59', 'age_60_plus')"
TARGET = ("target_in", "target_out", "target_unknown")

GRID_VIEW = """
    CREATE OR REPLACE VIEW coverage_grid_latest AS
    SELECT t.id, t.city_id, t.run_id, t.unit_id AS grid_id, g.name, t.service_type,
           t.minutes, t.budget_m, t.compounds, t.compounds_in, t.compounds_out,
           t.compounds_unknown, t.residents, t.households,
           t.residents_in, t.residents_out, t.residents_unknown, t.share_covered, g.geom{extra}
    FROM coverage_unit t JOIN coverage_run_latest r ON r.id = t.run_id
    JOIN grid g ON g.id = t.unit_id WHERE t.unit_kind = 'grid'
"""
GAP_VIEW = """
    CREATE OR REPLACE VIEW coverage_gap_latest AS
    SELECT t.id, t.city_id, t.run_id, t.service_type, t.minutes, t.budget_m, t.compound_id,
           c.name, t.nearest_min, t.residents, t.households, t.gap_area_m2, t.geom{extra}
    FROM coverage_gap t JOIN coverage_run_latest r ON r.id = t.run_id
    JOIN compound c ON c.id = t.compound_id
"""


def _group(table: str) -> None:
    op.add_column(table, sa.Column("target_group", sa.Text))
    op.add_column(table, sa.Column("speed_m_per_min", sa.Float))
    op.create_check_constraint(f"{table}_target_group_check", table,
                               f"target_group IS NULL OR target_group IN {GROUPS}")


def upgrade() -> None:
    op.add_column("compound", sa.Column("age_0_14", sa.Integer))
    op.add_column("compound", sa.Column("age_15_59", sa.Integer))
    op.create_check_constraint(
        "compound_age_groups_check", "compound",
        "(age_0_14 IS NULL OR age_0_14 >= 0) AND (age_15_59 IS NULL OR age_15_59 >= 0) AND "
        "COALESCE(age_0_14, 0) + COALESCE(age_15_59, 0) + COALESCE(elderly, 0) <= residents")
    for table in ("coverage_compound", "coverage_unit", "coverage_gap"):
        _group(table)
    op.add_column("coverage_unit", sa.Column("target", sa.BigInteger))
    for col in TARGET:
        op.add_column("coverage_unit", sa.Column(col, sa.BigInteger))
    op.add_column("coverage_unit", sa.Column("compounds_target_unknown", sa.Integer))
    op.add_column("coverage_unit", sa.Column("target_share_covered", sa.Float))
    op.add_column("coverage_gap", sa.Column("target", sa.BigInteger))
    op.execute(GRID_VIEW.format(extra=", t.target_group, t.speed_m_per_min, t.target, "
                                "t.target_in, t.target_out, t.target_unknown, "
                                "t.compounds_target_unknown, t.target_share_covered"))
    op.execute(GAP_VIEW.format(extra=", t.target_group, t.speed_m_per_min, t.target"))


def downgrade() -> None:
    op.execute("DROP VIEW coverage_gap_latest")
    op.execute("DROP VIEW coverage_grid_latest")
    op.execute(GRID_VIEW.format(extra="").replace("OR REPLACE ", ""))
    op.execute(GAP_VIEW.format(extra="").replace("OR REPLACE ", ""))
    op.drop_column("coverage_gap", "target")
    for col in ("target", *TARGET, "compounds_target_unknown", "target_share_covered"):
        op.drop_column("coverage_unit", col)
    for table in ("coverage_compound", "coverage_unit", "coverage_gap"):
        op.drop_constraint(f"{table}_target_group_check", table)
        op.drop_column(table, "speed_m_per_min")
        op.drop_column(table, "target_group")
    op.drop_constraint("compound_age_groups_check", "compound")
    op.drop_column("compound", "age_15_59")
    op.drop_column("compound", "age_0_14")
