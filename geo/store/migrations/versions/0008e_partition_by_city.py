"""The big input tables partitioned by city; a tile cache shared by server processes.

Revision ID: 0008e
Revises: 0007f
Create Date: 2026-12-01

- ``street_node``, ``street_edge`` and ``grid_case`` become LIST-partitioned by
  ``city_id`` (PostgreSQL declarative partitioning), one partition per city named
  ``<table>_c<city id>``. The existing rows are moved: a partitioned copy is created,
  filled, swapped in under the old name, and its keys, foreign keys, indexes and
  ``layer_version`` trigger are recreated. Primary keys include the partition key:
  ``street_node (city_id, node_id)`` and ``street_edge (city_id, edge_id)`` already did;
  ``grid_case`` goes from ``(id)`` to ``(id, city_id)`` (ids still come from one sequence,
  so they stay unique across cities). The upsert target of imports, ``(city_id,
  external_id)``, already holds the partition key.
- A new city gets its partitions when its ``city`` row is inserted (row trigger
  ``city_partitions``), whatever inserts it (``city add``, the demo loader, imports,
  tests); there is no DEFAULT partition, so every row lands in its city's partition and a
  query with ``city_id = …`` scans one partition. The partitions are created apart and
  attached, which lets other cities' readers go on until the new city's import commits.
  A deleted city leaves empty partitions (its rows go with the ``ON DELETE CASCADE``); ids
  are never reused.
- ``tile_cache``: an UNLOGGED table of rendered vector tiles keyed by a digest of layer,
  z/x/y, city, filters, access and the ``layer_version`` counters of the layer's tables,
  so several server processes (or hosts) share one cache and a data change makes old
  entries unreachable for all of them at once (:mod:`geo.store.tile_cache`). UNLOGGED:
  not written to the WAL and emptied after a crash — it is a cache.

Compounds and the analysis result tables stay plain tables here: ``compound.id`` is the
target of six foreign keys and five views, and result rows carry ``run_id`` rather than
``city_id``; migration 0009a partitions them.

Downgrade moves the rows back into plain tables with the original keys.
"""

from alembic import op

from geo.store.migrations.ddl import Spec, city_partitions_function, finish, swap

revision = "0008e"
down_revision = "0007f"
branch_labels = None
depends_on = None


#: In creation order (a node before the edges that reference it).
SPECS = (
    Spec("street_node", "city_id, node_id", "city_id, node_id",
         (("CONSTRAINT street_node_city_id_fkey FOREIGN KEY (city_id) REFERENCES city(id) "
          "ON DELETE CASCADE"),),
         ("CREATE INDEX street_node_geom_idx ON street_node USING gist (geom)",)),
    Spec("street_edge", "city_id, edge_id", "city_id, edge_id",
         (("CONSTRAINT street_edge_city_id_fkey FOREIGN KEY (city_id) REFERENCES city(id) "
          "ON DELETE CASCADE"),
          ("CONSTRAINT street_edge_city_id_u_fkey FOREIGN KEY (city_id, u) "
          "REFERENCES street_node(city_id, node_id) ON DELETE CASCADE"),
          ("CONSTRAINT street_edge_city_id_v_fkey FOREIGN KEY (city_id, v) "
          "REFERENCES street_node(city_id, node_id) ON DELETE CASCADE")),
         ("CREATE INDEX street_edge_geom_idx ON street_edge USING gist (geom)",)),
    Spec("grid_case", "id, city_id", "id",
         ("CONSTRAINT grid_case_city_external_id_key UNIQUE (city_id, external_id)",
          ("CONSTRAINT grid_case_city_id_fkey FOREIGN KEY (city_id) REFERENCES city(id) "
          "ON DELETE CASCADE"),
          ("CONSTRAINT grid_case_category_fkey FOREIGN KEY (category) "
          "REFERENCES case_category(code)")),
         ("CREATE INDEX grid_case_geom_idx ON grid_case USING gist (geom)",
          ("CREATE INDEX grid_case_city_cat_time_idx ON grid_case "
          "USING btree (city_id, category, reported_at)")),
         sequence=("grid_case_id_seq", "id")),
)

PARTITIONED = [s.table for s in SPECS]


def _rebuild(*, partitioned: bool) -> None:
    # edges reference nodes: drop in reverse order, rebuild in order
    for spec in reversed(SPECS):
        swap(spec, partitioned=partitioned)
    for spec in SPECS:
        finish(spec)


def upgrade() -> None:
    _rebuild(partitioned=True)
    op.execute(city_partitions_function(PARTITIONED))
    op.execute("CREATE TRIGGER city_partitions AFTER INSERT ON city "
               "FOR EACH ROW EXECUTE FUNCTION create_city_partitions()")
    op.execute("""
        CREATE UNLOGGED TABLE tile_cache (
            key bytea PRIMARY KEY,
            layer text NOT NULL,
            tile bytea NOT NULL,
            etag text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX tile_cache_created_idx ON tile_cache (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE tile_cache")
    op.execute("DROP TRIGGER city_partitions ON city")
    op.execute("DROP FUNCTION create_city_partitions()")
    _rebuild(partitioned=False)
