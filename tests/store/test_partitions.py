"""The street network and the cases are partitioned by city (migration 0008e): the rows of
an existing database are moved, a new city gets its partitions, and the per-city queries
of the store read one partition only (checked on the plans of the statements they run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, Point
from sqlalchemy import Connection, Engine, event, text

from geo.store import migrate
from geo.store.cases import read_cases
from geo.store.network import read_network, write_network
from geo.store.tiles import render_tile
from layers.catalog import default_registry
from tests.support.sample import tile_of

PARTITIONED = ("street_node", "street_edge", "grid_case")


def _city(conn: Connection, code: str, lon: float) -> int:
    return int(conn.execute(text(
        "INSERT INTO city (code, name_zh, name_en, metric_epsg, bounds) VALUES "
        "(:code, '测试', 'Test', 32650, ST_MakeEnvelope(:x0, 28, :x1, 29, 4326)) RETURNING id"),
        {"code": code, "x0": lon, "x1": lon + 1}).scalar_one())


def _fill(conn: Connection, city_id: int, lon: float) -> None:
    """Two nodes, one edge and two cases around ``(lon + 0.5, 28.5)``."""
    x = lon + 0.5
    nodes = gpd.GeoDataFrame({"node_id": [1, 2], "osm_id": [None, None]},
                             geometry=[Point(x, 28.5), Point(x + 0.001, 28.5)], crs=4326)
    edges = gpd.GeoDataFrame(
        {"edge_id": [1], "u": [1], "v": [2], "osm_way_id": [None], "length_m": [97.8],
         "highway": ["footway"], "name": ["路"], "walk": [True], "ride": [True]},
        geometry=[LineString([(x, 28.5), (x + 0.001, 28.5)])], crs=4326)
    write_network(conn, city_id, nodes, edges)
    for i in range(2):
        conn.execute(text(
            "INSERT INTO grid_case (city_id, external_id, category, reported_at, status, geom) "
            "VALUES (:c, :e, 'sanitation', '2026-01-02', 'reported', ST_Point(:x, 28.5, 4326))"),
            {"c": city_id, "e": f"k{i}", "x": x})


def _partition_of(conn: Connection, table: str, city_id: int) -> set[str]:
    return set(conn.execute(text(f"SELECT DISTINCT tableoid::regclass::text FROM {table} "
                                 "WHERE city_id = :c"), {"c": city_id}).scalars())


def test_existing_rows_move_into_their_city_partitions(conn: Connection) -> None:
    migrate.downgrade(conn, "0007f")
    assert conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'grid_case'")
                        ).scalar_one() == "r"
    a, b = _city(conn, "pa", 117), _city(conn, "pb", 119)
    _fill(conn, a, 117)
    _fill(conn, b, 119)
    before = {t: conn.execute(text(f"SELECT city_id, count(*) FROM {t} GROUP BY 1 ORDER BY 1")
                              ).all() for t in PARTITIONED}
    migrate.upgrade(conn)
    for t in PARTITIONED:
        assert conn.execute(text("SELECT relkind FROM pg_class WHERE relname = :t"),
                            {"t": t}).scalar_one() == "p"
        assert conn.execute(text(f"SELECT city_id, count(*) FROM {t} GROUP BY 1 ORDER BY 1")
                            ).all() == before[t]
        assert _partition_of(conn, t, a) == {f"{t}_c{a}"}
        assert _partition_of(conn, t, b) == {f"{t}_c{b}"}
    # keys, foreign keys and the version trigger came back
    with_keys = conn.execute(text(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'grid_case'::regclass")).scalars()
    assert {"grid_case_pkey", "grid_case_city_external_id_key", "grid_case_category_fkey",
            "grid_case_city_id_fkey", "grid_case_closed_check"} <= set(with_keys)
    v0 = conn.execute(text("SELECT version FROM layer_version WHERE table_name = 'street_edge'")
                      ).scalar_one()
    conn.execute(text("DELETE FROM street_edge WHERE city_id = :c"), {"c": b})
    assert conn.execute(text("SELECT version FROM layer_version WHERE table_name = "
                             "'street_edge'")).scalar_one() == v0 + 1


def test_a_new_city_gets_its_partitions(conn: Connection) -> None:
    city = _city(conn, "pnew", 117)
    parts = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname LIKE '%\\_c' || :c"),
        {"c": str(city)}).scalars().all()
    assert sorted(parts) == sorted(f"{t}_c{city}" for t in PARTITIONED)


@contextmanager
def _statements(conn: Connection) -> Iterator[list[tuple[str, Any]]]:
    """Every statement ``conn`` runs inside the block, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
               ) -> None:
        seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", record)


def _scanned(conn: Connection, statement: str, parameters: Any) -> set[str]:
    """Names of the relations the plan of ``statement`` reads."""
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
    out: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Relation Name" in node:
                out.add(node["Relation Name"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(plan)
    return out


def test_per_city_queries_read_one_partition(conn: Connection) -> None:
    a, b = _city(conn, "qa", 117), _city(conn, "qb", 119)
    _fill(conn, a, 117)
    _fill(conn, b, 119)
    registry = default_registry()
    z, x, y = tile_of(117.5, 28.5, 14)
    runs: dict[str, Callable[[], object]] = {
        "read_network walk": lambda: read_network(conn, a, mode="walk"),
        "read_network": lambda: read_network(conn, a),
        "read_cases": lambda: read_cases(conn, a),
        "street tile": lambda: render_tile(conn, registry.get("street_edges"), z, x, y,
                                           city_id=a),
        "case tile": lambda: render_tile(conn, registry.get("grid_cases"), z, x, y,
                                         city_id=a),
    }
    for name, run in runs.items():
        with _statements(conn) as seen:
            run()
        checked = 0
        for statement, parameters in seen:
            if not any(t in statement for t in PARTITIONED):
                continue
            scanned = {r for r in _scanned(conn, statement, parameters)
                       if r.startswith(PARTITIONED)}
            assert scanned, (name, statement)
            assert scanned <= {f"{t}_c{a}" for t in PARTITIONED}, (name, scanned, statement)
            checked += 1
        assert checked >= 1, name
    # the same statement without the city filter reads every city's partition (the oracle)
    assert {f"street_edge_c{a}", f"street_edge_c{b}"} <= _scanned(
        conn, "SELECT count(*) FROM street_edge", {})


def test_adding_a_city_does_not_block_other_cities_readers(conn: Connection,
                                                           engine: Engine) -> None:
    _city(conn, "plock", 117)  # its partitions exist until this transaction ends
    with engine.connect() as other:
        other.execute(text("SET lock_timeout = '2s'"))
        for t in PARTITIONED:  # would fail with "lock timeout" behind ACCESS EXCLUSIVE
            other.execute(text(f"SELECT count(*) FROM {t} WHERE city_id = 0")).scalar_one()
        other.execute(text("UPDATE grid_case SET status = status WHERE city_id = 0"))
        other.rollback()
