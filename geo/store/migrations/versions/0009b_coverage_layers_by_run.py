"""Coverage layers of any run: the map can draw the run of a moment.

Revision ID: 0009b
Revises: 0008h
Create Date: 2026-12-01

The ``coverage_*_latest`` views show each city's newest all-day coverage run. The views
``*_by_run`` hold the same columns for the rows of every coverage run (``run_id``), so
that tiles and OGC features of a coverage layer can show the run of a moment
(``?at=Mo 22:00``): the run :func:`geo.store.coverage.latest_run` picks for it, the one
the tables and the panel use. Each view reads the tables only (no other view), so that
views can be dropped and created again in any order.
"""

from alembic import op

revision = "0009b"
down_revision = "0008h"
branch_labels = None
depends_on = None

#: view → its SELECT over every coverage run (the columns of the ``_latest`` view).
VIEWS = {
    "coverage_compound_by_run": """
        SELECT t.id, t.city_id, t.run_id, t.compound_id, c.name, t.service_type,
               t.nearest_id, t.nearest_m, t.nearest_min, t.second_id, t.second_m,
               t.second_min, t.snapped, c.residents, c.households, c.geom
        FROM coverage_compound t JOIN compound c ON c.id = t.compound_id""",
    "coverage_grid_by_run": """
        SELECT t.id, t.city_id, t.run_id, t.unit_id AS grid_id, g.name, t.service_type,
               t.minutes, t.budget_m, t.compounds, t.compounds_in, t.compounds_out,
               t.compounds_unknown, t.residents, t.households, t.residents_in,
               t.residents_out, t.residents_unknown, t.share_covered, g.geom,
               t.target_group, t.speed_m_per_min, t.target, t.target_in, t.target_out,
               t.target_unknown, t.compounds_target_unknown, t.target_share_covered
        FROM coverage_unit t JOIN grid g ON g.id = t.unit_id WHERE t.unit_kind = 'grid'""",
    "coverage_completeness_by_run": """
        SELECT t.id, t.city_id, t.run_id, t.compound_id, c.name, t.n_required, t.n_within,
               t.score, t.missing, c.residents, c.geom
        FROM coverage_completeness t JOIN compound c ON c.id = t.compound_id""",
    "service_circle_by_run": """
        SELECT t.id, t.city_id, t.run_id, t.service_type, t.minutes, t.budget_m,
               t.service_point_id, p.name, t.street_m, t.geom
        FROM service_circle t JOIN service_point p ON p.id = t.service_point_id""",
    "service_circle_union_by_run": """
        SELECT t.id, t.city_id, t.run_id, t.service_type, t.minutes, t.budget_m, t.n_points,
               t.geom
        FROM service_circle_union t""",
    "coverage_gap_by_run": """
        SELECT t.id, t.city_id, t.run_id, t.service_type, t.minutes, t.budget_m,
               t.compound_id, c.name, t.nearest_min, t.residents, t.households,
               t.gap_area_m2, t.geom, t.target_group, t.speed_m_per_min, t.target
        FROM coverage_gap t JOIN compound c ON c.id = t.compound_id""",
}


def upgrade() -> None:
    for view, select in VIEWS.items():
        op.execute(f"CREATE VIEW {view} AS {select}")


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
