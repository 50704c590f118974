"""Courier-station reach: demand inputs and per-run reach of stations, compounds, grids.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22

Inputs: ``courier_demand_point`` (imported rider-demand points with a weight, e.g. orders
a day) and ``courier_compound_demand`` (imported per-compound parcel/order estimates).

Results: every row belongs to an ``analysis_run`` (kind ``courier_reach``; params hold
``service_type``, ``mode``, ``budget_m``, ``minutes``, ``weight``) and goes with it (ON
DELETE CASCADE): per station (with its street-following catchment polygon), per
compound (how many stations reach it; ``best_m`` is ``Infinity`` when none within the
budget and NULL when the compound is farther than the snap limit from every street), per
grid (apportioned by ``grid_compound.resident_share``) and per overlapping station pair.
The ``courier_*_latest`` views show the newest run of each city and service type for map
layers. Geometries are EPSG:4326 with GiST indexes; a statement trigger bumps
``layer_version`` per table, like 0001.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ["courier_demand_point", "courier_compound_demand", "courier_station",
          "courier_compound", "courier_grid", "courier_overlap"]
VIEWS = ["courier_overlap_latest", "courier_grid_latest", "courier_compound_latest",
         "courier_catchment_latest", "courier_station_latest", "courier_run_latest"]


def _run_fk() -> sa.Column:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("analysis_run.id", ondelete="CASCADE"),
                     nullable=False)


def _fk(name: str, table: str) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
                     nullable=False)


def _valid(table: str, column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IS NULL OR (ST_IsValid({column}) AND NOT "
                              f"ST_IsEmpty({column}))", name=f"{table}_{column}_valid")


def upgrade() -> None:
    op.create_table(
        "courier_demand_point",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default="import"),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        _valid("courier_demand_point", "geom"),
        sa.UniqueConstraint("city_id", "external_id",
                            name="courier_demand_point_city_external_id_key"),
        sa.CheckConstraint("weight >= 0", name="courier_demand_point_weight_check"),
    )
    op.create_table(
        "courier_compound_demand",
        sa.Column("compound_id", sa.Integer, sa.ForeignKey("compound.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("demand", sa.Float, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default="import"),
        sa.CheckConstraint("demand >= 0", name="courier_compound_demand_check"),
    )
    op.create_table(
        "courier_station",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _run_fk(),
        _fk("service_point_id", "service_point"),
        sa.Column("snapped", sa.Boolean, nullable=False),
        sa.Column("compounds", sa.Integer, nullable=False),
        sa.Column("residents", sa.Float, nullable=False),
        sa.Column("households", sa.Float, nullable=False),
        sa.Column("grids", sa.Integer, nullable=False),
        sa.Column("demand", sa.Float, nullable=False),
        sa.Column("catchment_street_m", sa.Float),
        sa.Column("catchment", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
        _valid("courier_station", "catchment"),
        sa.UniqueConstraint("run_id", "service_point_id", name="courier_station_run_point_key"),
        sa.CheckConstraint("compounds >= 0 AND grids >= 0 AND residents >= 0 AND "
                           "households >= 0 AND demand >= 0", name="courier_station_count_check"),
    )
    op.create_table(
        "courier_compound",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _run_fk(),
        _fk("compound_id", "compound"),
        sa.Column("snapped", sa.Boolean, nullable=False),
        sa.Column("n_stations", sa.Integer, nullable=False),
        sa.Column("station_ids", sa.ARRAY(sa.Integer), nullable=False, server_default="{}"),
        sa.Column("best_station_id", sa.Integer,
                  sa.ForeignKey("service_point.id", ondelete="SET NULL")),
        sa.Column("best_m", sa.Float),
        sa.Column("reached", sa.Boolean),
        sa.Column("demand", sa.Float),
        sa.UniqueConstraint("run_id", "compound_id", name="courier_compound_run_compound_key"),
        sa.CheckConstraint("n_stations >= 0", name="courier_compound_count_check"),
        sa.CheckConstraint("(reached IS NULL) = (NOT snapped)", name="courier_compound_reached_check"),
    )
    op.create_table(
        "courier_grid",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _run_fk(),
        _fk("grid_id", "grid"),
        sa.Column("residents", sa.Float, nullable=False),
        sa.Column("residents_reached", sa.Float, nullable=False),
        sa.Column("residents_unknown", sa.Float, nullable=False),
        sa.Column("share_reached", sa.Float),
        sa.Column("compounds", sa.Integer, nullable=False),
        sa.Column("compounds_reached", sa.Integer, nullable=False),
        sa.Column("n_stations", sa.Integer, nullable=False),
        sa.Column("reached", sa.Boolean, nullable=False),
        sa.UniqueConstraint("run_id", "grid_id", name="courier_grid_run_grid_key"),
        sa.CheckConstraint("share_reached IS NULL OR (share_reached >= 0 AND "
                           "share_reached <= 1.000001)", name="courier_grid_share_check"),
    )
    op.create_table(
        "courier_overlap",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _run_fk(),
        _fk("station_a", "service_point"),
        _fk("station_b", "service_point"),
        sa.Column("compounds", sa.Integer, nullable=False),
        sa.Column("residents", sa.Float, nullable=False),
        sa.Column("demand", sa.Float, nullable=False),
        sa.Column("share_a", sa.Float),
        sa.Column("share_b", sa.Float),
        sa.Column("share", sa.Float),
        sa.Column("jaccard", sa.Float),
        sa.Column("beyond", sa.Boolean, nullable=False),
        sa.UniqueConstraint("run_id", "station_a", "station_b", name="courier_overlap_pair_key"),
        sa.CheckConstraint("station_a <> station_b", name="courier_overlap_distinct_check"),
    )
    op.create_index("courier_demand_point_geom_idx", "courier_demand_point", ["geom"],
                    postgresql_using="gist")
    op.create_index("courier_station_catchment_idx", "courier_station", ["catchment"],
                    postgresql_using="gist")
    op.create_index("courier_compound_compound_idx", "courier_compound", ["compound_id"])
    op.create_index("courier_grid_grid_idx", "courier_grid", ["grid_id"])
    track_versions(TABLES)

    op.execute("""
        CREATE VIEW courier_run_latest AS
        SELECT DISTINCT ON (city_id, params->>'service_type')
               id AS run_id, city_id, params->>'service_type' AS service_type,
               params->>'mode' AS mode, (params->>'budget_m')::float AS budget_m,
               (params->>'minutes')::float AS minutes, params->>'weight' AS weight,
               created_at
        FROM analysis_run WHERE kind = 'courier_reach'
        ORDER BY city_id, params->>'service_type', created_at DESC, id DESC
    """)
    op.execute("""
        CREATE VIEW courier_station_latest AS
        SELECT s.id, r.city_id, s.run_id, r.service_type, r.mode, r.budget_m, r.minutes,
               p.id AS service_point_id, p.external_id, p.name, s.snapped, s.compounds,
               s.residents, s.households, s.grids, s.demand, s.catchment_street_m, p.geom
        FROM courier_station s JOIN courier_run_latest r ON r.run_id = s.run_id
        JOIN service_point p ON p.id = s.service_point_id
    """)
    op.execute("""
        CREATE VIEW courier_catchment_latest AS
        SELECT s.id, r.city_id, s.run_id, r.service_type, r.mode, r.budget_m, r.minutes,
               p.id AS service_point_id, p.external_id, p.name, s.compounds, s.residents,
               s.households, s.grids, s.demand, s.catchment_street_m, s.catchment AS geom
        FROM courier_station s JOIN courier_run_latest r ON r.run_id = s.run_id
        JOIN service_point p ON p.id = s.service_point_id
        WHERE s.catchment IS NOT NULL
    """)
    op.execute("""
        CREATE VIEW courier_compound_latest AS
        SELECT c.id, r.city_id, c.run_id, r.service_type, r.mode, r.budget_m,
               k.id AS compound_id, k.external_id, k.name, k.residents, k.households,
               c.snapped, c.n_stations, c.best_m, c.reached, c.demand, k.geom
        FROM courier_compound c JOIN courier_run_latest r ON r.run_id = c.run_id
        JOIN compound k ON k.id = c.compound_id
    """)
    op.execute("""
        CREATE VIEW courier_grid_latest AS
        SELECT c.id, r.city_id, c.run_id, r.service_type, r.mode, r.budget_m,
               g.id AS grid_id, g.external_id, g.name, c.residents, c.residents_reached,
               c.residents_unknown, c.share_reached, c.compounds, c.compounds_reached,
               c.n_stations, c.reached, g.geom
        FROM courier_grid c JOIN courier_run_latest r ON r.run_id = c.run_id
        JOIN grid g ON g.id = c.grid_id
    """)
    op.execute("""
        CREATE VIEW courier_overlap_latest AS
        SELECT o.id, r.city_id, o.run_id, r.service_type, r.mode, r.budget_m,
               a.external_id AS station_a, b.external_id AS station_b,
               a.name || ' — ' || b.name AS name, o.compounds, o.residents, o.demand,
               o.share_a, o.share_b, o.share, o.jaccard, o.beyond,
               ST_MakeLine(a.geom, b.geom) AS geom
        FROM courier_overlap o JOIN courier_run_latest r ON r.run_id = o.run_id
        JOIN service_point a ON a.id = o.station_a
        JOIN service_point b ON b.id = o.station_b
    """)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    untrack_versions(TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
