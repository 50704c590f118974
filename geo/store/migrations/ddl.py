"""DDL shared by migrations: change tracking through ``layer_version``.

Every table whose rows feed a map layer gets a statement-level trigger that bumps its row
in ``layer_version`` (function ``bump_layer_version`` of migration 0001), so that tile
caches and analysis runs can tell when their inputs changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic import op


def track_versions(tables: Iterable[str]) -> None:
    """Start counting changes of ``tables`` (names are code constants, never user input)."""
    for table in tables:
        op.execute(f"INSERT INTO layer_version (table_name) VALUES ('{table}') "
                   "ON CONFLICT (table_name) DO NOTHING")
        op.execute(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version()"
        )


def untrack_versions(tables: Iterable[str]) -> None:
    """Stop counting changes of ``tables`` (before they are dropped)."""
    for table in tables:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
        op.execute(f"DELETE FROM layer_version WHERE table_name = '{table}'")
