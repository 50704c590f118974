"""Grid-case hot-spot results: H3 cells with Gi*, kernel density, per-grid closure figures.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22

Each row belongs to an ``analysis_run`` (kind ``case_hotspots``) and goes with it
(ON DELETE CASCADE). The ``*_latest`` views show the newest run of every city for map
layers; their ``*_public`` columns are NULL where a unit is suppressed: it holds fewer cases
than the run's ``min_public_case_count`` (stored in the run's params) or was suppressed
as a secondary unit when the run was stored (column ``suppressed``), so public layers
never show them and their sum cannot be recovered by subtraction.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ["case_hex", "case_kde", "case_grid"]
VIEWS = ["case_hex_latest", "case_kde_latest", "case_grid_latest", "case_run_latest"]


def _run_fk() -> sa.Column:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_run.id", ondelete="CASCADE"),
                     nullable=False)


def _hexagon(table: str) -> tuple[sa.Column, sa.CheckConstraint]:
    return (sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False),
                      nullable=False),
            sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)",
                               name=f"{table}_geom_valid"))


def upgrade() -> None:
    op.create_table(
        "case_hex",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _run_fk(),
        sa.Column("h3", sa.Text, nullable=False),
        sa.Column("n_cases", sa.Integer, nullable=False),
        sa.Column("gi_z", sa.Float),
        sa.Column("p", sa.Float),
        sa.Column("q", sa.Float),
        sa.Column("bin", sa.SmallInteger, nullable=False),
        sa.Column("suppressed", sa.Boolean, nullable=False, server_default=sa.false()),
        *_hexagon("case_hex"),
        sa.UniqueConstraint("run_id", "h3", name="case_hex_run_h3_key"),
        sa.CheckConstraint("n_cases >= 0", name="case_hex_count_check"),
        sa.CheckConstraint("bin BETWEEN -3 AND 3", name="case_hex_bin_check"),
        sa.CheckConstraint("(p IS NULL OR (p >= 0 AND p <= 1)) AND (q IS NULL OR (q >= 0 AND q <= 1))",
                           name="case_hex_p_check"),
    )
    op.create_table(
        "case_kde",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _run_fk(),
        sa.Column("h3", sa.Text, nullable=False),
        sa.Column("density_per_km2", sa.Float, nullable=False),
        sa.Column("n_near", sa.Integer, nullable=False),
        *_hexagon("case_kde"),
        sa.UniqueConstraint("run_id", "h3", name="case_kde_run_h3_key"),
        sa.CheckConstraint("density_per_km2 >= 0 AND n_near >= 0", name="case_kde_value_check"),
    )
    op.create_table(
        "case_grid",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _run_fk(),
        sa.Column("grid_id", sa.Integer, sa.ForeignKey("grid.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("residents", sa.Float),
        sa.Column("n_cases", sa.Integer, nullable=False),
        sa.Column("per_1000_residents", sa.Float),
        sa.Column("n_closed", sa.Integer, nullable=False),
        sa.Column("closure_rate", sa.Float),
        sa.Column("median_closure_h", sa.Float),
        sa.Column("p90_closure_h", sa.Float),
        sa.Column("n_open", sa.Integer, nullable=False),
        sa.Column("n_overdue", sa.Integer, nullable=False),
        sa.Column("mean_satisfaction", sa.Float),
        sa.Column("suppressed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("run_id", "grid_id", name="case_grid_run_grid_key"),
        sa.CheckConstraint("n_cases >= 0 AND n_closed >= 0 AND n_open >= 0 AND n_overdue >= 0",
                           name="case_grid_count_check"),
        sa.CheckConstraint("closure_rate IS NULL OR (closure_rate >= 0 AND closure_rate <= 1)",
                           name="case_grid_rate_check"),
    )
    op.create_index("case_hex_geom_idx", "case_hex", ["geom"], postgresql_using="gist")
    op.create_index("case_kde_geom_idx", "case_kde", ["geom"], postgresql_using="gist")
    op.create_index("case_grid_grid_idx", "case_grid", ["grid_id"])
    track_versions(TABLES)

    op.execute("""
        CREATE VIEW case_run_latest AS
        SELECT DISTINCT ON (city_id) id AS run_id, city_id, created_at, params,
               COALESCE((params->>'min_public_case_count')::int, 5) AS min_public_case_count
        FROM analysis_run WHERE kind = 'case_hotspots'
        ORDER BY city_id, created_at DESC, id DESC
    """)
    op.execute("""
        CREATE VIEW case_hex_latest AS
        SELECT h.id, r.city_id, h.run_id, h.h3, h.h3 AS name, h.n_cases,
               CASE WHEN NOT h.suppressed AND h.n_cases >= r.min_public_case_count
                    THEN h.n_cases END AS n_public,
               (h.suppressed OR (h.n_cases > 0 AND h.n_cases < r.min_public_case_count))
                   AS suppressed,
               h.gi_z, h.p, h.q, h.bin, h.geom
        FROM case_hex h JOIN case_run_latest r ON r.run_id = h.run_id
    """)
    op.execute("""
        CREATE VIEW case_kde_latest AS
        SELECT k.id, r.city_id, k.run_id, k.h3, k.h3 AS name, k.density_per_km2, k.n_near,
               CASE WHEN k.n_near >= r.min_public_case_count THEN k.density_per_km2 END
                   AS density_public,
               k.geom
        FROM case_kde k JOIN case_run_latest r ON r.run_id = k.run_id
    """)
    op.execute("""
        CREATE VIEW case_grid_latest AS
        SELECT c.id, r.city_id, c.run_id, c.grid_id, g.external_id, g.name, c.residents,
               c.n_cases, c.per_1000_residents, c.n_closed, c.closure_rate,
               c.median_closure_h, c.p90_closure_h, c.n_open, c.n_overdue, c.mean_satisfaction,
               p.hidden AS suppressed,
               CASE WHEN NOT p.hidden THEN c.n_cases END AS n_public,
               CASE WHEN NOT p.hidden THEN c.closure_rate END AS closure_rate_public,
               CASE WHEN NOT p.hidden THEN c.median_closure_h END AS median_closure_h_public,
               g.geom
        FROM case_grid c JOIN case_run_latest r ON r.run_id = c.run_id
        JOIN grid g ON g.id = c.grid_id
        CROSS JOIN LATERAL (SELECT c.suppressed OR (c.n_cases > 0
                                   AND c.n_cases < r.min_public_case_count) AS hidden) p
    """)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    untrack_versions(TABLES)
    for table in TABLES:
        op.drop_table(table)
