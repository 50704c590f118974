"""Storing a run costs the database less: one key to the city, geometries in lz4.

Revision ID: 0010a
Revises: 0009a
Create Date: 2026-12-01

Every night each city's runs are stored by the batch, and PostgreSQL does that work for all
the cities' workers at once, so what it spends per stored row is what the batch shares.

- The coverage results and ``regrid_grid`` lose their foreign key ``(city_id) REFERENCES
  city (id)``: their ``(run_id, city_id) REFERENCES analysis_run (id, city_id)`` (0009a)
  already holds a row to its run's city, and deleting a city deletes its runs and so their
  rows. The case and courier results never had the second key. It was one more lookup for
  each stored row (measured on a generated city of 915 compounds: 56 ms of the 392 ms that
  storing its 8,235 ``coverage_compound`` rows takes, 85 of 526 ms for ``coverage_gap``).
- The geometries of the results (service circles and their unions can hold thousands of
  points: 5 MB for one run of that city) are compressed with lz4 instead of pglz when they
  are TOASTed: the database's work storing that city's ``service_circle`` rows (keys and
  validity checks aside) went from 141 ms with pglz to 64 ms, and lz4 also reads them back
  faster for the tiles. A new city's partitions take their table's compression
  (``create_city_partitions()`` now creates them ``INCLUDING COMPRESSION``). Skipped when
  the server is built without lz4.

Downgrade adds the keys again and sets the geometries back to the server's default
compression (rows already stored stay as they were compressed; both are readable); the
partition function keeps ``INCLUDING COMPRESSION``, which then copies that default.
"""

from alembic import op
from sqlalchemy import text

from geo.store.migrations.ddl import COMPOUND_LINKS, city_partitions_function, compound_fk

revision = "0010a"
down_revision = "0009a"
branch_labels = None
depends_on = None

#: Results whose run key already names their city.
SECOND_CITY_KEY = ("coverage_compound", "coverage_unit", "coverage_completeness",
                   "service_circle", "service_circle_union", "coverage_gap", "regrid_grid")


def _result_geometries() -> list[tuple[str, str]]:
    """(table, column) of every geometry column of a table that points at analysis_run, and
    of its partitions."""
    rows = op.get_bind().execute(text(
        "WITH results AS (SELECT DISTINCT conrelid AS rel FROM pg_constraint "
        "  WHERE contype = 'f' AND confrelid = 'analysis_run'::regclass AND conparentid = 0), "
        "rels AS (SELECT rel FROM results UNION "
        "  SELECT i.inhrelid FROM pg_inherits i JOIN results r ON r.rel = i.inhparent) "
        "SELECT a.attrelid::regclass::text, a.attname FROM rels JOIN pg_attribute a "
        "  ON a.attrelid = rels.rel WHERE a.atttypid = 'geometry'::regtype AND a.attnum > 0 "
        "  AND NOT a.attisdropped ORDER BY 1, 2")).all()
    return [(str(t), str(c)) for t, c in rows]


def _has_lz4() -> bool:
    vals = op.get_bind().execute(text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return "lz4" in (vals or [])


def upgrade() -> None:
    for t in SECOND_CITY_KEY:
        op.execute(f"ALTER TABLE {t} DROP CONSTRAINT {t}_city_id_fkey")
    if _has_lz4():
        for t, c in _result_geometries():
            op.execute(f'ALTER TABLE ONLY {t} ALTER COLUMN "{c}" SET COMPRESSION lz4')
    op.execute(city_partitions_function(per_city=[compound_fk(t) for t in COMPOUND_LINKS]))


def downgrade() -> None:
    for t, c in _result_geometries():
        op.execute(f'ALTER TABLE ONLY {t} ALTER COLUMN "{c}" SET COMPRESSION default')
    for t in SECOND_CITY_KEY:
        op.execute(f"ALTER TABLE {t} ADD CONSTRAINT {t}_city_id_fkey FOREIGN KEY (city_id) "
                   "REFERENCES city (id) ON DELETE CASCADE")
