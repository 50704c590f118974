"""Compounds, their links and the analysis results partitioned by city.

Revision ID: 0009a
Revises: 0008h, 0005
Create Date: 2026-12-01

The second half of partitioning by city (0008e did the street network and the cases):

- ``compound`` becomes LIST-partitioned by ``city_id``, one partition per city named
  ``compound_c<city id>``, primary key ``(id, city_id)`` (ids still come from one
  sequence, so they stay unique across cities).
- The tables pointing at ``compound (id)`` — ``grid_compound``, ``courier_compound_demand``,
  ``coverage_compound``, ``coverage_completeness``, ``coverage_gap``, ``courier_compound`` —
  are partitioned too; ``grid_compound`` and ``courier_compound_demand`` get a ``city_id``
  column (last, NOT NULL), filled from their compound. Their foreign keys to compounds are
  **co-located**: each city's partition points at that city's compound partition
  (``coverage_gap_c7 (compound_id, city_id) REFERENCES compound_c7 (id, city_id) ON DELETE
  CASCADE``), created for every city here and by ``create_city_partitions()`` for a new
  one. A foreign key declared on the partitioned parents instead checks every stored row
  through the partitioned ``compound``, which made storing a coverage run's rows three to
  four times slower (measured: COPY of ``coverage_gap`` 0.6 s → 2.3 s on a generated city
  of 874 compounds) and doubled PostgreSQL's share of a city's batch task.
- The analysis results that grow with a city — ``coverage_compound``, ``coverage_unit``,
  ``coverage_completeness``, ``service_circle``, ``service_circle_union``,
  ``coverage_gap``, ``case_hex``, ``case_kde``, ``case_grid``, ``courier_station``,
  ``courier_compound``, ``courier_grid``, ``courier_overlap``, ``regrid_grid`` — are
  partitioned by ``city_id``. Those without one (``case_*``, ``courier_*``) get it (last,
  NOT NULL), filled from their run. ``analysis_run`` gets the unique key ``(id,
  city_id)`` and every result's ``run_id`` foreign key becomes ``(run_id, city_id)
  REFERENCES analysis_run (id, city_id)`` (ON DELETE CASCADE), so a result row always
  sits in its run's city.
- Primary keys gain ``city_id`` at the end (``(id, city_id)``; ``grid_compound (grid_id,
  compound_id, city_id)``; ``courier_compound_demand (compound_id, city_id)``), so do the
  unique keys that lacked it (``(run_id, h3)`` → ``(run_id, h3, city_id)`` …): a
  partitioned table enforces uniqueness only with the partition key in the key.
- Rows are moved as in 0008e (:mod:`geo.store.migrations.ddl`): a partitioned copy is
  filled and takes the old name; the keys, unique and foreign-key constraints, indexes,
  owned sequences, triggers (``<table>_version``) and grants are read from the catalogue
  before and created again after. The views reading these tables (the ``*_latest`` views,
  ``compound_gate`` …) are read from the catalogue (``pg_get_viewdef``, grants), dropped
  and created again; a join of two relations on a run (``run_id``) or a compound
  (``compound.id``) now also matches ``city_id`` on both sides, so a view queried with
  ``city_id = …`` reads one partition of each table.
- ``create_city_partitions()`` (row trigger ``city_partitions`` on ``city``) now creates a
  new city's partition of every table partitioned by ``city_id``, read from the catalogue
  when the city is inserted. Attaching a partition clones its table's foreign keys, which
  locks the referenced tables against writes (SHARE ROW EXCLUSIVE): until the new city's
  transaction ends, other cities' writers of ``analysis_run``,
  ``service_point``, ``grid``, ``community`` and ``street_node`` wait (imports and
  analyses of other cities store their rows once the city is added); readers go on.

Left plain: ``analysis_run`` (one row per run, a few thousand a year for a province),
``siting_scenario`` and ``siting_site`` (a handful of proposals per scenario),
``siting_candidate`` and ``courier_demand_point`` (imported inputs of a few thousand
rows a city): all small, and all already filtered by city.

Downgrade moves the rows back into plain tables with the original keys, foreign keys and
columns (the added ``city_id`` columns dropped), the views as before, and the trigger
function of 0008e.
"""

import re
from dataclasses import replace

from alembic import op
from sqlalchemy import text

from geo.store.migrations.ddl import (
    COMPOUND_LINKS,
    Spec,
    capture,
    city_partitions_function,
    compound_fk,
    create_views,
    dependent_views,
    drop_foreign_keys_among,
    drop_views,
    finish,
    swap,
)

revision = "0009a"
down_revision = ("0008h", "0005")  # 0005: the courier tables
branch_labels = None
depends_on = None

_RUN_CITY = "(SELECT r.city_id FROM analysis_run r WHERE r.id = t.run_id)"
_COMPOUND_CITY = "(SELECT c.city_id FROM compound c WHERE c.id = t.compound_id)"

#: The tables partitioned here, ``compound`` first (the others' foreign keys point at it),
#: each with where a row's city comes from when it has no ``city_id`` column of its own.
TABLES: dict[str, str | None] = {
    "compound": None,
    "grid_compound": _COMPOUND_CITY,
    "courier_compound_demand": _COMPOUND_CITY,
    "coverage_compound": None,
    "coverage_unit": None,
    "coverage_completeness": None,
    "service_circle": None,
    "service_circle_union": None,
    "coverage_gap": None,
    "case_hex": _RUN_CITY,
    "case_kde": _RUN_CITY,
    "case_grid": _RUN_CITY,
    "courier_station": _RUN_CITY,
    "courier_compound": _RUN_CITY,
    "courier_grid": _RUN_CITY,
    "courier_overlap": _RUN_CITY,
    "regrid_grid": None,
}
#: The tables 0008e partitioned: the trigger function's list once this is undone.
EARLIER = ("street_node", "street_edge", "grid_case")

RUN_KEY = "analysis_run_id_city_key"



def _plain_compound_fk(table: str) -> str:
    return (f"CONSTRAINT {table}_compound_id_fkey FOREIGN KEY (compound_id) "
            "REFERENCES compound(id) ON DELETE CASCADE")

_FK = re.compile(r"FOREIGN KEY \((\w+)\) REFERENCES (compound|analysis_run)\(id\)")
_FK_CITY = re.compile(
    r"FOREIGN KEY \((\w+), city_id\) REFERENCES (compound|analysis_run)\(id, city_id\)")
_UNIQUE = re.compile(r"UNIQUE \(([^)]*)\)")


def _with_city(columns: str) -> str:
    """A key's columns with ``city_id`` appended unless it holds it."""
    return columns if "city_id" in columns.split(", ") else f"{columns}, city_id"


def _without_city(columns: str) -> str:
    """A key's columns without the ``city_id`` :func:`_with_city` appended."""
    return columns.removesuffix(", city_id")


def _to_partitioned(constraint: str) -> str:
    """A constraint of a plain table as its partitioned table has it."""
    c = _FK.sub(r"FOREIGN KEY (\1, city_id) REFERENCES \2(id, city_id)", constraint)
    return _UNIQUE.sub(lambda m: f"UNIQUE ({_with_city(m[1])})", c)


def _to_plain(constraint: str) -> str:
    """The inverse of :func:`_to_partitioned`."""
    c = _FK_CITY.sub(r"FOREIGN KEY (\1) REFERENCES \2(id)", constraint)
    return _UNIQUE.sub(lambda m: f"UNIQUE ({_without_city(m[1])})", c)


# Views, as pg_get_viewdef prints them: ``JOIN x r ON ((r.run_id = h.run_id))``.
_ALIAS = re.compile(r"(?:FROM|JOIN)\s+\(*(\w+)\s+(\w+)")
_JOIN = re.compile(r"ON \(\((\w+)\.(\w+) = (\w+)\.(\w+)\)\)")
_JOIN_CITY = re.compile(
    r"ON \(\(\((\w+)\.(\w+) = (\w+)\.(\w+)\) AND \(\1\.city_id = \3\.city_id\)\)\)")


def _same_city(a: str | None, col_a: str, b: str | None, col_b: str) -> bool:
    """Whether relations ``a`` and ``b`` joined by ``a.col_a = b.col_b`` join rows of one
    run or one compound (so of one city)."""
    if a is None or b is None:
        return False
    if col_a == col_b == "run_id":
        return True
    for (x, cx), cy in (((a, col_a), col_b), ((b, col_b), col_a)):
        if cx == "id" and cy == "compound_id" and x == "compound":
            return True
        if cx == "id" and cy == "run_id" and (x == "analysis_run" or x.endswith("_run_latest")):
            return True
    return False


def _aliases(definition: str) -> dict[str, str | None]:
    """Relation of each alias of a view definition (None where an alias names two)."""
    out: dict[str, str | None] = {}
    for relation, alias in _ALIAS.findall(definition):
        out[alias] = relation if out.get(alias, relation) == relation else None
    return out


def _has_city(relation: str) -> bool:
    return bool(op.get_bind().execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:r) "
        "AND attname = 'city_id' AND NOT attisdropped)"), {"r": relation}).scalar_one())


def _city_joins(definition: str) -> str:
    """``definition`` with every join on a run or a compound also matching ``city_id``."""
    rel = _aliases(definition)

    def add(m: re.Match[str]) -> str:
        a, col_a, b, col_b = m.groups()
        ra, rb = rel.get(a), rel.get(b)
        if not (_same_city(ra, col_a, rb, col_b) and ra and rb and _has_city(ra)
                and _has_city(rb)):
            return m[0]
        return f"ON ((({a}.{col_a} = {b}.{col_b}) AND ({a}.city_id = {b}.city_id)))"

    return _JOIN.sub(add, definition)


def _plain_joins(definition: str) -> str:
    """The inverse of :func:`_city_joins`."""
    rel = _aliases(definition)

    def strip(m: re.Match[str]) -> str:
        a, col_a, b, col_b = m.groups()
        if not _same_city(rel.get(a), col_a, rel.get(b), col_b):
            return m[0]
        return f"ON (({a}.{col_a} = {b}.{col_b}))"

    return _JOIN_CITY.sub(strip, definition)


def _cities() -> list[int]:
    return list(op.get_bind().execute(text("SELECT id FROM city ORDER BY id")).scalars())


def _specs(*, partitioned: bool) -> list[Spec]:
    """The tables of :data:`TABLES` as the catalogue has them now, with the keys and
    constraints they get once rebuilt (partitioned or plain)."""
    out = []
    for table, city_from in TABLES.items():
        s = capture(table)
        if partitioned:  # the foreign key to compounds goes on each partition instead
            s = replace(s, pkey=_with_city(s.pkey), constraints=tuple(
                _to_partitioned(c) for c in s.constraints if "REFERENCES compound(" not in c))
        else:
            extra = (_plain_compound_fk(table),) if table in COMPOUND_LINKS else ()
            s = replace(s, plain_pkey=_without_city(s.pkey),
                        constraints=tuple(_to_plain(c) for c in s.constraints) + extra)
        out.append(replace(s, city_from=city_from))
    return out


def _rebuild(*, partitioned: bool) -> None:
    views = dependent_views(list(TABLES))
    specs = _specs(partitioned=partitioned)
    drop_views(views)
    drop_foreign_keys_among(list(TABLES))
    if not partitioned:  # the co-located foreign keys, partition to partition (of every
        # partition: a deleted city leaves its partitions and their keys behind)
        for table, name in op.get_bind().execute(text(
                "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
                "JOIN pg_inherits i ON i.inhrelid = c.confrelid "
                "WHERE c.contype = 'f' AND i.inhparent = CAST('compound' AS regclass)")).all():
            op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    if partitioned:
        op.execute(f"ALTER TABLE analysis_run ADD CONSTRAINT {RUN_KEY} UNIQUE (id, city_id)")
    for spec in specs:
        swap(spec, partitioned=partitioned)
    for spec in specs:
        finish(spec)
    if partitioned:
        for city in _cities():
            for table in COMPOUND_LINKS:
                op.execute(compound_fk(table, str(city)))
    if not partitioned:
        op.execute(f"ALTER TABLE analysis_run DROP CONSTRAINT {RUN_KEY}")
    create_views(views, _city_joins if partitioned else _plain_joins)


def upgrade() -> None:
    _rebuild(partitioned=True)
    op.execute(city_partitions_function(per_city=[compound_fk(t) for t in COMPOUND_LINKS]))


def downgrade() -> None:
    _rebuild(partitioned=False)
    op.execute(city_partitions_function(EARLIER))
