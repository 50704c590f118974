"""Walkability rules per edge, network figures per city, OSM gates and inferred compound gates.

Revision ID: 0007f
Revises: 0006, 0002
Create Date: 2026-12-01

- ``street_edge.walk_rule``: the rule of :data:`geo.network.walkable.WALK_RULES` that
  decided whether the edge is walkable (NULL for networks stored before).
- ``city.network_figures``: the honest figures of the city's walking network (nodes with
  walking edges only, parts, the largest part's share of the length, the other parts by
  name) and the kilometres each walkability rule added or removed, written by ``city add``
  and the demo loader.
- ``osm_gate``: gate and entrance nodes of the city's OpenStreetMap extract (evidence for
  gates of compounds imported later).
- ``compound.inferred_gates``: gates inferred from OSM (:mod:`geo.network.gates`); the
  user's ``gates`` always win.
- ``coverage_compound.origin_kind``: which access point coverage used (``gate``,
  ``inferred_gate`` or ``interior_point``).
- view ``compound_gate``: every gate (the user's and the inferred) as a point, with
  whether coverage uses it — the gate layer.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0007f"
down_revision = ("0006", "0002")  # 0002: coverage_compound
branch_labels = None
depends_on = None

GATE_VIEW = """
    CREATE VIEW compound_gate AS
    SELECT c.id::bigint * 4096 + d.path[1] * 2 AS id, c.city_id, c.id AS compound_id,
           c.external_id, c.name, 'gate'::text AS origin_kind, true AS used, d.geom
    FROM compound c, LATERAL ST_Dump(c.gates) d
    WHERE c.gates IS NOT NULL
    UNION ALL
    SELECT c.id::bigint * 4096 + d.path[1] * 2 + 1, c.city_id, c.id, c.external_id, c.name,
           'inferred_gate', c.gates IS NULL, d.geom
    FROM compound c, LATERAL ST_Dump(c.inferred_gates) d
    WHERE c.inferred_gates IS NOT NULL
"""


def upgrade() -> None:
    op.add_column("street_edge", sa.Column("walk_rule", sa.Text))
    op.add_column("city", sa.Column("network_figures", sa.JSON))
    op.add_column("compound", sa.Column(
        "inferred_gates", Geometry("MULTIPOINT", srid=4326, spatial_index=False)))
    op.create_check_constraint(
        "compound_inferred_gates_valid", "compound",
        "inferred_gates IS NULL OR (ST_IsValid(inferred_gates) AND NOT ST_IsEmpty(inferred_gates))")
    op.add_column("coverage_compound", sa.Column("origin_kind", sa.Text))
    op.create_check_constraint(
        "coverage_compound_origin_kind_check", "coverage_compound",
        "origin_kind IS NULL OR origin_kind IN ('gate', 'inferred_gate', 'interior_point')")
    op.create_table(
        "osm_gate",
        sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("osm_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("city_id", "osm_id"),
    )
    op.create_index("osm_gate_geom_idx", "osm_gate", ["geom"], postgresql_using="gist")
    track_versions(["osm_gate"])
    op.execute(GATE_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS compound_gate")
    untrack_versions(["osm_gate"])
    op.drop_table("osm_gate")
    op.drop_constraint("coverage_compound_origin_kind_check", "coverage_compound")
    op.drop_column("coverage_compound", "origin_kind")
    op.drop_constraint("compound_inferred_gates_valid", "compound")
    op.drop_column("compound", "inferred_gates")
    op.drop_column("city", "network_figures")
    op.drop_column("street_edge", "walk_rule")
