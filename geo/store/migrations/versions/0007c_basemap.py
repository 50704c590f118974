"""The offline basemap: OpenStreetMap features of each city, served as vector tiles.

Revision ID: 0007c
Revises: 0006
Create Date: 2026-12-01

Three tables by geometry (lines, areas, points), each row tagged with its basemap layer
(:data:`geo.basemap.BASEMAP_LAYERS`), a kind (highway class, landuse …) and names
(``name``, ``name:zh``, ``name:en``). Written by ``servicecircle city add`` and the demo
loader (:func:`geo.store.basemap.write_basemap`); the layers ``basemap_*`` of the
catalogue draw them.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.store.migrations.ddl import track_versions, untrack_versions

revision = "0007c"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = {"basemap_line": "MultiLineString", "basemap_area": "MultiPolygon",
          "basemap_point": "Point"}


def upgrade() -> None:
    for table, geometry in TABLES.items():
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger, primary_key=True),
            sa.Column("city_id", sa.Integer, sa.ForeignKey("city.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("layer", sa.Text, nullable=False),
            sa.Column("kind", sa.Text),
            sa.Column("name", sa.Text),
            sa.Column("name_zh", sa.Text),
            sa.Column("name_en", sa.Text),
            sa.Column("rank", sa.SmallInteger, nullable=False, server_default="9"),
            sa.Column("osm_id", sa.BigInteger),
            sa.Column("geom", Geometry(geometry, srid=4326, spatial_index=False),
                      nullable=False),
        )
        op.execute(f"CREATE INDEX {table}_geom_idx ON {table} USING gist (geom)")
        op.create_index(f"{table}_city_layer_idx", table, ["city_id", "layer"])
    track_versions(TABLES)


def downgrade() -> None:
    untrack_versions(TABLES)
    for table in TABLES:
        op.drop_table(table)
