"""Case layers show public columns computed by the one public rule, not by SQL.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30

Until now the ``case_*_latest`` views re-applied the small-count threshold in SQL on the
exact window of a run, so the public layers could be differenced (a daily run moved one
hexagon from 37 to 38) and showed closure rates of grids with one or two closed cases.
Runs now store their public figures (``n_public``, ``density_public``,
``closure_rate_public``, ``median_closure_h_public``, ``suppressed``), computed by
:mod:`geo.cases.public` with the rule of :mod:`geo.cases.privacy`, and the views only show them.
Runs stored before this revision publish nothing until they are computed again
(``servicecircle analyze cases``).
"""

from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

HEX_VIEW = """
    CREATE OR REPLACE VIEW case_hex_latest AS
    SELECT h.id, r.city_id, h.run_id, h.h3, h.h3 AS name, h.n_cases,
           {n_public} AS n_public, {suppressed} AS suppressed,
           h.gi_z, h.p, h.q, h.bin, h.geom
    FROM case_hex h JOIN case_run_latest r ON r.run_id = h.run_id
"""
KDE_VIEW = """
    CREATE OR REPLACE VIEW case_kde_latest AS
    SELECT k.id, r.city_id, k.run_id, k.h3, k.h3 AS name, k.density_per_km2, k.n_near,
           {density_public} AS density_public, k.geom
    FROM case_kde k JOIN case_run_latest r ON r.run_id = k.run_id
"""
GRID_VIEW = """
    CREATE OR REPLACE VIEW case_grid_latest AS
    SELECT c.id, r.city_id, c.run_id, c.grid_id, g.external_id, g.name, c.residents,
           c.n_cases, c.per_1000_residents, c.n_closed, c.closure_rate,
           c.median_closure_h, c.p90_closure_h, c.n_open, c.n_overdue, c.mean_satisfaction,
           {suppressed} AS suppressed, {n_public} AS n_public,
           {rate} AS closure_rate_public, {median} AS median_closure_h_public,
           g.geom
    FROM case_grid c JOIN case_run_latest r ON r.run_id = c.run_id
    JOIN grid g ON g.id = c.grid_id
"""


def upgrade() -> None:
    op.execute("ALTER TABLE case_hex ADD COLUMN n_public integer")
    op.execute("ALTER TABLE case_kde ADD COLUMN density_public double precision")
    op.execute("ALTER TABLE case_grid ADD COLUMN n_public integer, "
               "ADD COLUMN closure_rate_public double precision, "
               "ADD COLUMN median_closure_h_public double precision")
    # older runs were published by the SQL threshold alone: nothing of them stays public
    op.execute("UPDATE case_hex SET suppressed = true WHERE n_cases > 0")
    op.execute("UPDATE case_grid SET suppressed = true WHERE n_cases > 0")
    op.execute(HEX_VIEW.format(n_public="h.n_public", suppressed="h.suppressed"))
    op.execute(KDE_VIEW.format(density_public="k.density_public"))
    op.execute(GRID_VIEW.format(suppressed="c.suppressed", n_public="c.n_public",
                                rate="c.closure_rate_public",
                                median="c.median_closure_h_public"))


def downgrade() -> None:
    small_hex = "(h.n_cases > 0 AND h.n_cases < r.min_public_case_count)"
    op.execute(HEX_VIEW.format(
        n_public="CASE WHEN NOT h.suppressed AND h.n_cases >= r.min_public_case_count "
                 "THEN h.n_cases END",
        suppressed=f"(h.suppressed OR {small_hex})"))
    op.execute(KDE_VIEW.format(
        density_public="CASE WHEN k.n_near >= r.min_public_case_count "
                       "THEN k.density_per_km2 END"))
    hidden = "(c.suppressed OR (c.n_cases > 0 AND c.n_cases < r.min_public_case_count))"
    op.execute(GRID_VIEW.format(
        suppressed=hidden, n_public=f"CASE WHEN NOT {hidden} THEN c.n_cases END",
        rate=f"CASE WHEN NOT {hidden} THEN c.closure_rate END",
        median=f"CASE WHEN NOT {hidden} THEN c.median_closure_h END"))
    op.execute("ALTER TABLE case_grid DROP COLUMN n_public, DROP COLUMN closure_rate_public, "
               "DROP COLUMN median_closure_h_public")
    op.execute("ALTER TABLE case_kde DROP COLUMN density_public")
    op.execute("ALTER TABLE case_hex DROP COLUMN n_public")
