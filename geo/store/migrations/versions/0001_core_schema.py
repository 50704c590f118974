"""Core schema: cities, governance units, service points, cases, street network, keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Geometries are EPSG:4326 with GiST indexes. The database itself rejects invalid or empty
geometries, coordinates outside lon/lat range, and unknown service types / case
categories (foreign keys to the lookup tables seeded here). A statement-level trigger
bumps ``layer_version`` for every changed table so that caches can be invalidated.
``analysis_run`` records every analysis (kind, parameters, the ``layer_version`` figures
of its inputs, time); result tables of later migrations reference it.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SERVICE_TYPES = [
    ("party_mass_centre", "党群服务中心", "Party-mass service centre"),
    ("red_station", "红色驿站", "Red station"),
    ("grid_station", "网格服务站", "Grid service station"),
    ("convenience_point", "红色便民点", "Convenience point"),
    ("courier_station", "小哥驿站", "Courier rest station"),
    ("parcel_station", "快递驿站", "Parcel station"),
    ("elderly_canteen", "孝老食堂", "Elderly canteen"),
    ("elderly_daycare", "日间照料中心", "Elderly day care"),
    ("after_school", "六点半课堂", "After-school room"),
]
CASE_CATEGORIES = [
    ("safety_hazard", "安全隐患", "Safety hazard"),
    ("sanitation", "环境卫生", "Sanitation"),
    ("illegal_construction", "私搭乱建", "Illegal construction"),
    ("dispute", "矛盾纠纷", "Dispute"),
    ("livelihood", "民生诉求", "Livelihood request"),
    ("clutter", "乱堆乱放", "Clutter"),
    ("public_order", "治安稳定", "Public order"),
]
VERSIONED = [
    "city", "street", "community", "grid", "compound", "grid_compound", "service_point",
    "grid_case", "street_node", "street_edge", "analysis_run",
]


def geom(kind: str, nullable: bool = False) -> sa.Column:
    return sa.Column("geom", Geometry(kind, srid=4326, spatial_index=False), nullable=nullable)


def valid(table: str, column: str = "geom") -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"ST_IsValid({column}) AND NOT ST_IsEmpty({column}) "
        f"AND ST_XMin({column}) >= -180 AND ST_XMax({column}) <= 180 "
        f"AND ST_YMin({column}) >= -90 AND ST_YMax({column}) <= 90",
        name=f"{table}_{column}_valid",
    )


def city_fk() -> sa.Column:
    return sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                     nullable=False)


def unit_table(name: str, *extra: sa.Column | sa.Constraint) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer, primary_key=True),
        city_fk(),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        *extra,
        sa.Column("source", sa.Text, nullable=False, server_default="import"),
        geom("MULTIPOLYGON"),
        valid(name),
        sa.UniqueConstraint("city_id", "external_id", name=f"{name}_city_external_id_key"),
        sa.CheckConstraint("source IN ('osm', 'generated', 'import')", name=f"{name}_source_check"),
    )
    op.create_index(f"{name}_geom_idx", name, ["geom"], postgresql_using="gist")


def upgrade() -> None:
    op.create_table(
        "city",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("metric_epsg", sa.Integer, nullable=False),
        sa.Column("attribution", sa.Text, nullable=False,
                  server_default="© OpenStreetMap contributors"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("bounds", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
        valid("city", "bounds"),
        sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9_-]*$'", name="city_code_check"),
    )
    unit_table("street")
    unit_table("community", sa.Column("street_id", sa.Integer,
                                       sa.ForeignKey("street.id", ondelete="SET NULL")))
    unit_table("grid", sa.Column("community_id", sa.Integer,
                                 sa.ForeignKey("community.id", ondelete="SET NULL")))
    unit_table(
        "compound",
        sa.Column("community_id", sa.Integer, sa.ForeignKey("community.id", ondelete="SET NULL")),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("elderly", sa.Integer),
        sa.Column("property_management", sa.Text, nullable=False, server_default="unknown"),
        sa.Column("gates", Geometry("MULTIPOINT", srid=4326, spatial_index=False)),
        sa.CheckConstraint("households >= 0 AND residents >= 0 AND (elderly IS NULL OR "
                           "(elderly >= 0 AND elderly <= residents))",
                           name="compound_counts_check"),
        sa.CheckConstraint("property_management IN ('managed', 'unmanaged', 'unknown')",
                           name="compound_property_management_check"),
        sa.CheckConstraint("gates IS NULL OR (ST_IsValid(gates) AND NOT ST_IsEmpty(gates))",
                           name="compound_gates_valid"),
    )
    op.create_table(
        "grid_compound",
        sa.Column("grid_id", sa.Integer, sa.ForeignKey("grid.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("compound_id", sa.Integer, sa.ForeignKey("compound.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("shared_area_m2", sa.Float, nullable=False),
        sa.Column("resident_share", sa.Float, nullable=False),
        sa.CheckConstraint("shared_area_m2 >= 0", name="grid_compound_area_check"),
        sa.CheckConstraint("resident_share >= 0 AND resident_share <= 1",
                           name="grid_compound_share_check"),
    )
    op.create_index("grid_compound_compound_idx", "grid_compound", ["compound_id"])

    lookup = op.create_table(
        "service_type",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("builtin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("code ~ '^[a-z][a-z0-9_]*$'", name="service_type_code_check"),
    )
    op.bulk_insert(lookup, [{"code": c, "name_zh": z, "name_en": e, "builtin": True}
                            for c, z, e in SERVICE_TYPES])
    op.create_table(
        "service_point",
        sa.Column("id", sa.Integer, primary_key=True),
        city_fk(),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, sa.ForeignKey("service_type.code"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("opening_hours", sa.Text),
        sa.Column("services", sa.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("capacity", sa.Integer),
        sa.Column("floor_area_m2", sa.Float),
        sa.Column("source", sa.Text, nullable=False, server_default="import"),
        geom("POINT"),
        valid("service_point"),
        sa.UniqueConstraint("city_id", "external_id", name="service_point_city_external_id_key"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="service_point_capacity_check"),
        sa.CheckConstraint("floor_area_m2 IS NULL OR floor_area_m2 > 0",
                           name="service_point_area_check"),
        sa.CheckConstraint("source IN ('osm', 'generated', 'import')",
                           name="service_point_source_check"),
    )
    op.create_index("service_point_geom_idx", "service_point", ["geom"], postgresql_using="gist")
    op.create_index("service_point_city_type_idx", "service_point", ["city_id", "type"])

    cats = op.create_table(
        "case_category",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
    )
    op.bulk_insert(cats, [{"code": c, "name_zh": z, "name_en": e} for c, z, e in CASE_CATEGORIES])
    op.create_table(
        "grid_case",
        sa.Column("id", sa.BigInteger, primary_key=True),
        city_fk(),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("category", sa.Text, sa.ForeignKey("case_category.code"), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("satisfaction", sa.SmallInteger),
        sa.Column("handling_unit", sa.Text),
        sa.Column("channel", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("source", sa.Text, nullable=False, server_default="import"),
        geom("POINT"),
        valid("grid_case"),
        sa.UniqueConstraint("city_id", "external_id", name="grid_case_city_external_id_key"),
        sa.CheckConstraint("status IN ('reported', 'dispatched', 'handling', 'closed')",
                           name="grid_case_status_check"),
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)",
                           name="grid_case_closed_check"),
        sa.CheckConstraint("closed_at IS NULL OR closed_at >= reported_at",
                           name="grid_case_closed_after_reported"),
        sa.CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
                           name="grid_case_satisfaction_check"),
        sa.CheckConstraint("source IN ('osm', 'generated', 'import')", name="grid_case_source_check"),
    )
    op.create_index("grid_case_geom_idx", "grid_case", ["geom"], postgresql_using="gist")
    op.create_index("grid_case_city_cat_time_idx", "grid_case",
                    ["city_id", "category", "reported_at"])

    op.create_table(
        "street_node",
        city_fk(),
        sa.Column("node_id", sa.BigInteger, nullable=False),
        sa.Column("osm_id", sa.BigInteger),
        geom("POINT"),
        sa.PrimaryKeyConstraint("city_id", "node_id"),
    )
    op.create_index("street_node_geom_idx", "street_node", ["geom"], postgresql_using="gist")
    op.create_table(
        "street_edge",
        city_fk(),
        sa.Column("edge_id", sa.BigInteger, nullable=False),
        sa.Column("u", sa.BigInteger, nullable=False),
        sa.Column("v", sa.BigInteger, nullable=False),
        sa.Column("osm_way_id", sa.BigInteger),
        sa.Column("length_m", sa.Float, nullable=False),
        sa.Column("highway", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("walk", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("ride", sa.Boolean, nullable=False, server_default=sa.true()),
        geom("LINESTRING"),
        valid("street_edge"),
        sa.PrimaryKeyConstraint("city_id", "edge_id"),
        sa.ForeignKeyConstraint(["city_id", "u"], ["street_node.city_id", "street_node.node_id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["city_id", "v"], ["street_node.city_id", "street_node.node_id"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("length_m > 0", name="street_edge_length_check"),
        sa.CheckConstraint("walk OR ride", name="street_edge_mode_check"),
    )
    op.create_index("street_edge_geom_idx", "street_edge", ["geom"], postgresql_using="gist")

    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("key_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("role IN ('viewer', 'analyst', 'admin')", name="api_key_role_check"),
    )

    op.create_table(
        "analysis_run",
        sa.Column("id", sa.Integer, primary_key=True),
        city_fk(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("data_version", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("summary", sa.JSON),
    )
    op.create_index("analysis_run_city_kind_idx", "analysis_run", ["city_id", "kind", "created_at"])

    op.create_table(
        "layer_version",
        sa.Column("table_name", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.execute("""
        CREATE FUNCTION bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO layer_version (table_name, version, changed_at)
            VALUES (TG_TABLE_NAME, 1, now())
            ON CONFLICT (table_name)
            DO UPDATE SET version = layer_version.version + 1, changed_at = now();
            RETURN NULL;
        END $$
    """)
    track_versions(VERSIONED)


def downgrade() -> None:
    untrack_versions(VERSIONED)
    op.execute("DROP FUNCTION IF EXISTS bump_layer_version()")
    for table in ["layer_version", "analysis_run", "api_key", "street_edge", "street_node", "grid_case",
                  "case_category", "service_point", "service_type", "grid_compound", "compound",
                  "grid", "community", "street", "city"]:
        op.drop_table(table)
