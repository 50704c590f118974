"""DDL shared by migrations: change tracking through ``layer_version``, partitioning by city.

Every table whose rows feed a map layer gets a statement-level trigger that bumps its row
in ``layer_version`` (function ``bump_layer_version`` of migration 0001), so that tile
caches and analysis runs can tell when their inputs changed.

Tables partitioned by city (migrations 0008e, 0009a) are rebuilt in place: :func:`swap`
creates a LIST-partitioned (or plain) copy with one partition per city, moves the rows
and takes the old name; :func:`finish` adds the constraints, indexes, triggers and grants
of its :class:`Spec`, written out in a migration or read from the catalogue by
:func:`capture`. Views over the rebuilt tables are read from the catalogue
(:func:`dependent_views`), dropped and created again around the rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from alembic import op
from sqlalchemy import text


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


# --- partitioning by city (migrations 0008e, 0009a) ----------------------------------------


@dataclass(frozen=True)
class Spec:
    """Keys, indexes and triggers of one table rebuilt as (or back from) a table
    LIST-partitioned by ``city_id``; every name is a constant of a migration or read from
    the catalogue, never user input."""

    table: str
    pkey: str  # columns of the partitioned table's primary key
    plain_pkey: str  # columns of the plain table's primary key
    constraints: tuple[str, ...]  # extra constraints, as in ALTER TABLE … ADD
    indexes: tuple[str, ...]  # CREATE INDEX statements
    sequence: tuple[str, str] | None = None  # (sequence, column) owned by the table
    #: a row's city (SQL over alias ``t``) for a table that has no ``city_id`` while plain:
    #: the partitioned table gets a last column ``city_id`` filled by it, the plain drops it
    city_from: str | None = None
    #: CREATE TRIGGER statements; None: the ``layer_version`` trigger alone
    triggers: tuple[str, ...] | None = None
    grants: tuple[str, ...] = ()  # GRANT statements


_CITY_PARTITIONS = """
    CREATE OR REPLACE FUNCTION create_city_partitions() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE t text; p text;
    BEGIN
        FOREACH t IN ARRAY {tables} LOOP
            p := t || '_c' || NEW.id;
            CONTINUE WHEN to_regclass(p) IS NOT NULL;
            -- CREATE TABLE … PARTITION OF would hold an ACCESS EXCLUSIVE lock on the parent
            -- until the city's (long) import commits; ATTACH takes SHARE UPDATE EXCLUSIVE,
            -- so other cities' readers and writers go on meanwhile
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                           'INCLUDING COMPRESSION)', p, t);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%s)', t, p, NEW.id);
        END LOOP;
        -- then the statements each city's partitions need, such as the foreign keys between
        -- two partitions of the city (``{{c}}``: the city id)
        FOREACH t IN ARRAY {per_city} LOOP
            EXECUTE replace(t, '{{c}}', NEW.id::text);
        END LOOP;
        RETURN NULL;
    END $$
"""

#: Every table of the schema LIST-partitioned by ``city_id`` alone, oldest first.
_BY_CITY = """(SELECT COALESCE(array_agg(c.relname::text ORDER BY c.oid), '{}')
        FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
        JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
        WHERE pt.partstrat = 'l' AND pt.partnatts = 1 AND a.attname = 'city_id'
          AND NOT c.relispartition AND pg_table_is_visible(c.oid))"""


#: The tables whose rows point at a compound (``compound_id``), each partition at its city's
#: compound partition, ON DELETE CASCADE (0009a).
COMPOUND_LINKS = ("grid_compound", "courier_compound_demand", "coverage_compound",
                  "coverage_completeness", "coverage_gap", "courier_compound")


def compound_fk(table: str, city: str = "{c}") -> str:
    """The co-located foreign key of ``table``'s partition of ``city`` (``{c}``: any city,
    replaced by the trigger function)."""
    p = f"{table}_c{city}"
    return (f"ALTER TABLE {p} ADD CONSTRAINT {p}_compound_fkey FOREIGN KEY (compound_id, "
            f"city_id) REFERENCES compound_c{city} (id, city_id) ON DELETE CASCADE")


def city_partitions_function(tables: Sequence[str] | None = None,
                             per_city: Sequence[str] = ()) -> str:
    """The function ``create_city_partitions()`` of the row trigger ``city_partitions`` on
    ``city``: it creates a new city's partition of each of ``tables`` (names are code
    constants) or, without them, of every table partitioned by ``city_id`` at that moment;
    then runs each statement of ``per_city`` (code constants) with ``{c}`` replaced by the
    city's id."""
    listed = (f"ARRAY[{', '.join(repr(t) for t in tables)}]" if tables is not None
              else _BY_CITY)
    statements = (f"ARRAY[{', '.join(_quote(t) for t in per_city)}]" if per_city
                  else "CAST(ARRAY[] AS text[])")
    return _CITY_PARTITIONS.format(tables=listed, per_city=statements)


def _quote(sql: str) -> str:
    """``sql`` as a PL/pgSQL string literal inside the function's ``$$`` body."""
    return "'" + sql.replace("'", "''") + "'"


def _columns(table: str) -> list[str]:
    return list(op.get_bind().execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"t": table}).scalars())


def swap(spec: Spec, *, partitioned: bool) -> None:
    """Rebuild ``spec.table`` as a partitioned (or plain) table holding the same rows, one
    partition per city named ``<table>_c<city id>``, with its primary key; the rest comes
    with :func:`finish`."""
    t, new = spec.table, f"{spec.table}_swap"
    by = " PARTITION BY LIST (city_id)" if partitioned else ""
    extra = ", city_id integer NOT NULL" if partitioned and spec.city_from else ""
    op.execute(f"CREATE TABLE {new} (LIKE {t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
               f"{extra}){by}")
    if partitioned:
        op.execute(f"""DO $$ DECLARE c integer; BEGIN
            FOR c IN SELECT id FROM city ORDER BY id LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF {new} FOR VALUES IN (%s)',
                               '{t}_c' || c, c);
            END LOOP; END $$""")
    if spec.city_from and partitioned:
        op.execute(f"INSERT INTO {new} SELECT t.*, {spec.city_from} FROM {t} t")
    elif spec.city_from:
        op.execute(f"ALTER TABLE {new} DROP COLUMN city_id")
        cols = ", ".join(_columns(new))
        op.execute(f"INSERT INTO {new} ({cols}) SELECT {cols} FROM {t}")
    else:
        op.execute(f"INSERT INTO {new} SELECT * FROM {t}")
    if spec.sequence:
        op.execute(f"ALTER SEQUENCE {spec.sequence[0]} OWNED BY NONE")
    op.execute(f"DROP TABLE {t}")
    op.execute(f"ALTER TABLE {new} RENAME TO {t}")
    if spec.sequence:
        op.execute(f"ALTER SEQUENCE {spec.sequence[0]} OWNED BY {t}.{spec.sequence[1]}")
    pkey = spec.pkey if partitioned else spec.plain_pkey
    op.execute(f"ALTER TABLE {t} ADD CONSTRAINT {t}_pkey PRIMARY KEY ({pkey})")


def finish(spec: Spec) -> None:
    """Constraints, indexes, triggers and grants of a table rebuilt by :func:`swap`."""
    t = spec.table
    for c in spec.constraints:
        op.execute(f"ALTER TABLE {t} ADD {c}")
    for i in spec.indexes:
        op.execute(i)
    if spec.triggers is None:
        op.execute(f"CREATE TRIGGER {t}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version()")
    for statement in (*(spec.triggers or ()), *spec.grants):
        op.execute(statement)


def _grants(relation: str) -> tuple[str, ...]:
    """GRANT statements giving back the privileges others hold on ``relation``."""
    return tuple(op.get_bind().execute(text("""
        SELECT format('GRANT %s ON %I TO %s%s', a.privilege_type, c.relname,
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                           ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                      CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = CAST(:r AS regclass) AND a.grantee <> c.relowner
        ORDER BY 1"""), {"r": relation}).scalars())


def capture(table: str) -> Spec:
    """The keys, unique and foreign-key constraints, other indexes, owned sequence, own
    triggers and grants of ``table`` as the catalogue has them (both primary-key fields
    hold its current key; check and NOT NULL constraints come along with ``LIKE``)."""
    conn = op.get_bind()
    oid = {"t": table}
    pkey = conn.execute(text("""
        SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM pg_constraint c
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = 'p'
          AND c.conname = CAST(:t AS text) || '_pkey'"""), oid).scalar_one()
    if pkey is None:
        raise RuntimeError(f"{table}: no primary key named {table}_pkey")
    constraints = tuple(conn.execute(text("""
        SELECT format('CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND conparentid = 0
          AND contype IN ('u', 'f', 'x')
        ORDER BY contype DESC, conname"""), oid).scalars())  # unique keys before foreign keys
    indexes = tuple(conn.execute(text("""
        SELECT replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
        FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                          AND c.conrelid = i.indrelid)
        ORDER BY i.indexrelid"""), oid).scalars())
    seq = conn.execute(text("""
        SELECT s.relname, a.attname FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.refobjid = CAST(:t AS regclass) AND d.deptype = 'a'"""), oid).one_or_none()
    triggers = tuple(conn.execute(text("""
        SELECT pg_get_triggerdef(oid) FROM pg_trigger
        WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal AND tgparentid = 0
        ORDER BY tgname"""), oid).scalars())
    return Spec(table, pkey, pkey, constraints, indexes,
                sequence=(seq.relname, seq.attname) if seq else None, triggers=triggers,
                grants=_grants(table))


def drop_foreign_keys_among(tables: Sequence[str]) -> None:
    """Drop the foreign keys between ``tables`` (so each can be dropped and rebuilt alone);
    a foreign key from another table into them is an error, as it would be lost."""
    conn = op.get_bind()
    rows = conn.execute(text("""
        SELECT conrelid::regclass::text AS tbl, conname, conrelid = ANY(x.oids) AS inside
        FROM pg_constraint,
             (SELECT array_agg(CAST(n AS regclass)::oid) AS oids
              FROM unnest(CAST(:tables AS text[])) n) x
        WHERE contype = 'f' AND conparentid = 0 AND confrelid = ANY(x.oids)
          AND conrelid <> confrelid
        ORDER BY 1, 2"""), {"tables": list(tables)}).all()
    outside = sorted({r.tbl for r in rows if not r.inside})
    if outside:
        raise RuntimeError(f"tables outside the rebuild reference it: {', '.join(outside)}")
    for r in rows:
        op.execute(f'ALTER TABLE {r.tbl} DROP CONSTRAINT "{r.conname}"')


@dataclass(frozen=True)
class View:
    """A view as the catalogue defines it, to drop and create again around a rebuild."""

    name: str
    definition: str  # the SELECT (pg_get_viewdef)
    options: tuple[str, ...]  # reloptions such as security_barrier=true
    grants: tuple[str, ...]


def dependent_views(tables: Sequence[str]) -> list[View]:
    """Every view reading ``tables``, directly or through other views, in an order that
    creates each after the views it reads (drop them in the reverse order)."""
    conn = op.get_bind()
    rows = conn.execute(text("""
        WITH RECURSIVE dep(oid, depth) AS (
            SELECT rw.ev_class, 1 FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
              AND d.refobjid IN (SELECT CAST(n AS regclass) FROM unnest(CAST(:t AS text[])) n)
              AND rw.ev_class <> d.refobjid
            UNION
            SELECT rw.ev_class, dep.depth + 1 FROM dep
            JOIN pg_depend d ON d.refobjid = dep.oid AND d.classid = 'pg_rewrite'::regclass
                            AND d.refclassid = 'pg_class'::regclass
            JOIN pg_rewrite rw ON rw.oid = d.objid
            WHERE rw.ev_class <> dep.oid AND dep.depth < 100
        )
        SELECT c.relname, c.relkind, pg_get_viewdef(c.oid) AS definition,
               COALESCE(c.reloptions, '{}') AS options
        FROM dep JOIN pg_class c ON c.oid = dep.oid
        GROUP BY c.oid, c.relname, c.relkind, c.reloptions
        ORDER BY max(dep.depth), c.relname"""), {"t": list(tables)}).all()
    if any(r.relkind != "v" for r in rows):
        raise RuntimeError("materialized views read the rebuilt tables: "
                           + ", ".join(r.relname for r in rows if r.relkind != "v"))
    return [View(r.relname, r.definition.strip().rstrip(";"), tuple(r.options),
                 _grants(r.relname)) for r in rows]


def drop_views(views: Sequence[View]) -> None:
    """Drop ``views`` (as listed by :func:`dependent_views`)."""
    for v in reversed(views):
        op.execute(f"DROP VIEW {v.name}")


def create_views(views: Sequence[View], rewrite: Callable[[str], str] = str) -> None:
    """Create ``views`` again, each definition passed through ``rewrite``, with grants."""
    for v in views:
        options = f" WITH ({', '.join(v.options)})" if v.options else ""
        op.execute(f"CREATE VIEW {v.name}{options} AS {rewrite(v.definition)}")
        for g in v.grants:
            op.execute(g)
