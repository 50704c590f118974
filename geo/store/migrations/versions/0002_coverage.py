"""Coverage results: nearest service per compound, service circles, gaps, unit coverage.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Every row belongs to an ``analysis_run`` (kind ``coverage``) and goes with it (ON DELETE
CASCADE). Costs are network metres and minutes; ``Infinity`` means unreachable along the
streets and NULL means the compound is farther than the snap limit from every street.
``coverage_unit`` holds people inside/outside per grid (apportioned by
``grid_compound.resident_share``), community and street for each type and threshold.
Views ``*_latest`` show each city's newest coverage run for map layers. Geometries are
EPSG:4326 with GiST indexes; a statement trigger bumps ``layer_version`` per table.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ["coverage_compound", "coverage_unit", "coverage_completeness", "service_circle",
          "service_circle_union", "coverage_gap"]
VIEWS = ["coverage_compound_latest", "coverage_grid_latest", "coverage_completeness_latest",
         "service_circle_latest", "service_circle_union_latest", "coverage_gap_latest",
         "coverage_run_latest"]


def _run() -> list[sa.Column]:
    return [sa.Column("id", sa.BigInteger, primary_key=True),
            sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_run.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                      nullable=False)]


def _level() -> list[sa.Column]:
    return [sa.Column("service_type", sa.Text, nullable=False),
            sa.Column("minutes", sa.Float),  # NULL for thresholds given in metres
            sa.Column("budget_m", sa.Float, nullable=False)]


def _geom(table: str, kind: str = "MULTIPOLYGON") -> tuple[sa.Column, sa.CheckConstraint]:
    return (sa.Column("geom", Geometry(kind, srid=4326, spatial_index=False), nullable=False),
            sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)",
                               name=f"{table}_geom_valid"))


def _people() -> list[sa.Column]:
    return [sa.Column(f"{p}_{k}", sa.Float, nullable=False, server_default="0")
            for p in ("residents", "households") for k in ("in", "out", "unknown")]


def upgrade() -> None:
    op.create_table(
        "coverage_compound", *_run(),
        sa.Column("compound_id", sa.Integer, sa.ForeignKey("compound.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("service_type", sa.Text, nullable=False),
        sa.Column("nearest_id", sa.Integer,
                  sa.ForeignKey("service_point.id", ondelete="SET NULL")),
        sa.Column("nearest_m", sa.Float), sa.Column("nearest_min", sa.Float),
        sa.Column("second_id", sa.Integer,
                  sa.ForeignKey("service_point.id", ondelete="SET NULL")),
        sa.Column("second_m", sa.Float), sa.Column("second_min", sa.Float),
        sa.Column("snapped", sa.Boolean, nullable=False),
        sa.UniqueConstraint("run_id", "compound_id", "service_type",
                            name="coverage_compound_run_key"),
    )
    op.create_index("coverage_compound_run_idx", "coverage_compound", ["run_id", "service_type"])
    op.create_table(
        "coverage_unit", *_run(),
        sa.Column("unit_kind", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Integer, nullable=False),
        *_level(),
        sa.Column("compounds", sa.Integer, nullable=False),
        sa.Column("residents", sa.Float, nullable=False),
        sa.Column("households", sa.Float, nullable=False),
        *_people(),
        sa.Column("share_covered", sa.Float),
        sa.CheckConstraint("unit_kind IN ('grid', 'community', 'street')",
                           name="coverage_unit_kind_check"),
    )
    op.create_index("coverage_unit_run_idx", "coverage_unit",
                    ["run_id", "unit_kind", "service_type", "budget_m"])
    op.create_table(
        "coverage_completeness", *_run(),
        sa.Column("compound_id", sa.Integer, sa.ForeignKey("compound.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("n_required", sa.Integer, nullable=False),
        sa.Column("n_within", sa.Integer, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("missing", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("coverage_completeness_run_idx", "coverage_completeness", ["run_id"])
    op.create_table(
        "service_circle", *_run(),
        sa.Column("service_point_id", sa.Integer,
                  sa.ForeignKey("service_point.id", ondelete="CASCADE"), nullable=False),
        *_level(),
        sa.Column("street_m", sa.Float, nullable=False),
        *_geom("service_circle"),
    )
    op.create_table(
        "service_circle_union", *_run(), *_level(),
        sa.Column("n_points", sa.Integer, nullable=False),
        *_geom("service_circle_union"),
    )
    op.create_table(
        "coverage_gap", *_run(),
        sa.Column("compound_id", sa.Integer, sa.ForeignKey("compound.id", ondelete="CASCADE"),
                  nullable=False),
        *_level(),
        sa.Column("gap_area_m2", sa.Float, nullable=False),
        sa.Column("gap_share", sa.Float, nullable=False),
        sa.Column("residents_gap_est", sa.Float, nullable=False),
        *_geom("coverage_gap"),
    )
    for table in ("service_circle", "service_circle_union", "coverage_gap"):
        op.create_index(f"{table}_geom_idx", table, ["geom"], postgresql_using="gist")
        op.create_index(f"{table}_run_idx", table, ["run_id", "service_type", "budget_m"])
    op.execute("""
        CREATE VIEW coverage_run_latest AS
        SELECT DISTINCT ON (city_id) id, city_id, params, data_version, created_at, summary
        FROM analysis_run WHERE kind = 'coverage'
        ORDER BY city_id, created_at DESC, id DESC
    """)
    op.execute("""
        CREATE VIEW coverage_compound_latest AS
        SELECT t.id, t.city_id, t.run_id, t.compound_id, c.name, t.service_type,
               t.nearest_id, t.nearest_m, t.nearest_min, t.second_id, t.second_m,
               t.second_min, t.snapped, c.residents, c.households, c.geom
        FROM coverage_compound t JOIN coverage_run_latest r ON r.id = t.run_id
        JOIN compound c ON c.id = t.compound_id
    """)
    op.execute("""
        CREATE VIEW coverage_grid_latest AS
        SELECT t.id, t.city_id, t.run_id, t.unit_id AS grid_id, g.name, t.service_type,
               t.minutes, t.budget_m, t.compounds, t.residents, t.households,
               t.residents_in, t.residents_out, t.residents_unknown, t.share_covered, g.geom
        FROM coverage_unit t JOIN coverage_run_latest r ON r.id = t.run_id
        JOIN grid g ON g.id = t.unit_id WHERE t.unit_kind = 'grid'
    """)
    op.execute("""
        CREATE VIEW coverage_completeness_latest AS
        SELECT t.id, t.city_id, t.run_id, t.compound_id, c.name, t.n_required, t.n_within,
               t.score, t.missing, c.residents, c.geom
        FROM coverage_completeness t JOIN coverage_run_latest r ON r.id = t.run_id
        JOIN compound c ON c.id = t.compound_id
    """)
    for table, extra in (("service_circle", "t.service_point_id, p.name, t.street_m, "),
                         ("service_circle_union", "t.n_points, "),
                         ("coverage_gap", ("t.compound_id, t.gap_area_m2, t.gap_share, "
                                           "t.residents_gap_est, "))):
        join = ("JOIN service_point p ON p.id = t.service_point_id"
                if table == "service_circle" else "")
        op.execute(f"""
            CREATE VIEW {table}_latest AS
            SELECT t.id, t.city_id, t.run_id, t.service_type, t.minutes, t.budget_m, {extra}
                   t.geom
            FROM {table} t JOIN coverage_run_latest r ON r.id = t.run_id {join}
        """)
    track_versions(TABLES)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    untrack_versions(TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
