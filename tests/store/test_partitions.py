"""The street network and the cases (migration 0008e), compounds and the analysis results
(0009a) are partitioned by city: the rows of an existing database are moved, a new city
gets its partitions, and the per-city queries of the store read one partition only
(checked on the plans of the statements they run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import Connection, Engine, bindparam, event, text
from sqlalchemy.exc import IntegrityError

from geo.store import migrate
from geo.store.cases import read_cases, read_grids, read_run_hexes
from geo.store.courier import (
    read_run_compounds,
    read_run_grids,
    read_run_overlaps,
    read_run_stations,
)
from geo.store.coverage import compound_rows, coverage_totals, gap_rows, run_contents, unit_rows
from geo.store.grids import read_overlay
from geo.store.inputs import read_compound_demand, read_compounds, read_grid_links
from geo.store.network import read_network, write_network
from geo.store.tiles import render_tile
from layers.catalog import default_registry
from tests.support.sample import tile_of

NETWORK_CASES = ("street_node", "street_edge", "grid_case")
COMPOUNDS_RESULTS = (
    "compound", "grid_compound", "courier_compound_demand", "coverage_compound", "coverage_unit",
    "coverage_completeness", "service_circle", "service_circle_union", "coverage_gap",
    "case_hex", "case_kde", "case_grid", "courier_station", "courier_compound", "courier_grid",
    "courier_overlap", "regrid_grid")
PARTITIONED = NETWORK_CASES + COMPOUNDS_RESULTS
#: The tables pointing at a compound.
COMPOUND_LINKS = ("grid_compound", "courier_compound_demand", "coverage_compound",
                  "coverage_completeness", "coverage_gap", "courier_compound")


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
                              ).all() for t in NETWORK_CASES}
    migrate.upgrade(conn)
    for t in NETWORK_CASES:
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


def _partitions(conn: Connection) -> dict[str, int]:
    """Every partition of a table partitioned by city, with its city."""
    rows = conn.execute(text(
        "SELECT c.relname, p.relname AS parent FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname IN :t").bindparams(bindparam("t", expanding=True)),
        {"t": list(PARTITIONED)}).all()
    return {r.relname: int(r.relname.removeprefix(f"{r.parent}_c")) for r in rows}


def _reads_one_city(conn: Connection, runs: dict[str, Callable[[], object]], city: int, *,
                    required: Callable[[str], bool] = lambda _: True) -> None:
    """Every statement each of ``runs`` runs reads partitions of ``city`` only; those
    ``required`` read at least one."""
    parts = _partitions(conn)
    for name, run in runs.items():
        with _statements(conn) as seen:
            run()
        checked = 0
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            scanned = {r for r in _scanned(conn, statement, parameters) if r in parts}
            if any(t in statement for t in NETWORK_CASES):
                assert scanned, (name, statement)
            if scanned:
                assert {parts[r] for r in scanned} == {city}, (name, scanned, statement)
                checked += 1
        assert checked >= 1 or not required(name), name


def test_per_city_queries_read_one_partition(conn: Connection) -> None:
    a, b = _city(conn, "qa", 117), _city(conn, "qb", 119)
    _fill(conn, a, 117)
    _fill(conn, b, 119)
    registry = default_registry()
    z, x, y = tile_of(117.5, 28.5, 14)
    _reads_one_city(conn, {
        "read_network walk": lambda: read_network(conn, a, mode="walk"),
        "read_network": lambda: read_network(conn, a),
        "read_cases": lambda: read_cases(conn, a),
        "street tile": lambda: render_tile(conn, registry.get("street_edges"), z, x, y,
                                           city_id=a),
        "case tile": lambda: render_tile(conn, registry.get("grid_cases"), z, x, y,
                                         city_id=a),
    }, a)
    # the same statement without the city filter reads every city's partition (the oracle)
    assert {f"street_edge_c{a}", f"street_edge_c{b}"} <= _scanned(
        conn, "SELECT count(*) FROM street_edge", {})


def _run(conn: Connection, city: int, kind: str, **params: str) -> int:
    """Id of the newest run of ``kind`` of ``city`` (with those ``params``)."""
    where = "".join(f" AND params->>'{k}' = :{k}" for k in params)  # keys are constants
    return int(conn.execute(text(
        f"SELECT max(id) FROM analysis_run WHERE city_id = :c AND kind = :k{where}"),
        {"c": city, "k": kind, **params}).scalar_one())


def test_an_added_city_writes_its_results_into_its_partitions(
        results: tuple[Connection, int]) -> None:
    conn, city = results  # the demo cities are added after the migrations
    for t in COMPOUNDS_RESULTS:
        assert _partition_of(conn, t, city) == {f"{t}_c{city}"}, t
        assert conn.execute(text(f"SELECT relkind FROM pg_class WHERE relname = '{t}'")
                            ).scalar_one() == "p"


def test_compound_links_point_at_their_citys_compound_partition(
        results: tuple[Connection, int]) -> None:
    """A city added after the migrations gets co-located foreign keys (partition to
    partition), and deleting a compound still deletes its links and results."""
    conn, city = results
    fks = dict(conn.execute(text(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid::regclass::text LIKE 'compound%'")).all())
    assert {t: fks.get(f"{t}_c{city}") for t in COMPOUND_LINKS} == dict.fromkeys(
        COMPOUND_LINKS, f"compound_c{city}")
    assert not {t for t in COMPOUND_LINKS if t in fks}  # none declared on the parents
    victim = conn.execute(text(
        "SELECT d.compound_id FROM courier_compound_demand d JOIN grid_compound g USING "
        "(compound_id, city_id) WHERE d.city_id = :c ORDER BY 1 LIMIT 1"), {"c": city}
    ).scalar_one()
    before = {t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE compound_id = :i"),
                              {"i": victim}).scalar_one() for t in COMPOUND_LINKS}
    assert all(before[t] > 0 for t in ("grid_compound", "courier_compound_demand",
                                       "coverage_compound", "coverage_completeness")), before
    conn.execute(text("DELETE FROM compound WHERE id = :i AND city_id = :c"),
                 {"i": victim, "c": city})
    for t in COMPOUND_LINKS:
        assert conn.execute(text(f"SELECT count(*) FROM {t} WHERE compound_id = :i"),
                            {"i": victim}).scalar_one() == 0, t
    # a link to a compound that is gone is refused
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(text("INSERT INTO coverage_completeness (run_id, city_id, "
                          "compound_id, n_required, n_within) SELECT run_id, city_id, "
                          ":i, 1, 1 FROM coverage_completeness WHERE city_id = :c LIMIT 1"),
                     {"i": victim, "c": city})


def test_reads_of_compounds_and_results_read_one_partition(
        results: tuple[Connection, int]) -> None:
    conn, city = results
    coverage = _run(conn, city, "coverage")
    types, _, _ = run_contents(conn, city, coverage)
    hexes = _run(conn, city, "case_hotspots")
    courier = _run(conn, city, "courier_reach")
    _reads_one_city(conn, {
        "read_compounds": lambda: read_compounds(conn, city),
        "read_grid_links": lambda: read_grid_links(conn, city),
        "read_compound_demand": lambda: read_compound_demand(conn, city, "compound_demand"),
        "rider demand": lambda: read_compound_demand(conn, city, "rider_demand"),
        "read_overlay": lambda: read_overlay(conn, city),
        "read_grids": lambda: read_grids(conn, city),
        "compound_rows": lambda: compound_rows(conn, city),
        "unit_rows": lambda: unit_rows(conn, city, unit_kind="grid"),
        "coverage_totals": lambda: coverage_totals(conn, city, service_type=types[0],
                                                   minutes=10),
        "gap_rows": lambda: gap_rows(conn, city),
        "read_run_hexes": lambda: read_run_hexes(conn, city, hexes),
        "read_run_stations": lambda: read_run_stations(conn, city, courier, catchments=True),
        "read_run_compounds": lambda: read_run_compounds(conn, city, courier),
        "read_run_grids": lambda: read_run_grids(conn, city, courier),
        "read_run_overlaps": lambda: read_run_overlaps(conn, city, courier),
    }, city)
    # every tile layer of the cities: those over compounds or results read one partition
    lon, lat = conn.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM compound "
        "WHERE city_id = :c ORDER BY residents DESC LIMIT 1) x"), {"c": city}).one()
    registry = default_registry()
    layers = {layer.name: layer for layer in registry if layer.source.city_column}
    over_partitions = {n for n, layer in layers.items()
                       if set(layer.source.versions) & set(COMPOUNDS_RESULTS)}
    assert {"compounds", "compound_gates", "coverage_compound_minutes", "case_hexes",
            "courier_overlaps", "grid_proposal"} <= over_partitions

    def tile(name: str) -> Callable[[], object]:
        layer = layers[name]
        z, x, y = tile_of(lon, lat, min(max(14, layer.minzoom), layer.maxzoom))
        return lambda: render_tile(conn, layer, z, x, y, city_id=city)

    _reads_one_city(conn, {f"{n} tile": tile(n) for n in layers}, city,
                    required=lambda name: name.removesuffix(" tile") in over_partitions)
    # the oracle: without the city filter every city's partition is read
    other = conn.execute(text("SELECT id FROM city WHERE code = 'wudaokou'")).scalar_one()
    assert {f"compound_c{city}", f"compound_c{other}"} <= _scanned(
        conn, "SELECT count(*) FROM coverage_compound_latest", {})


def test_adding_a_city_does_not_block_other_cities_readers(conn: Connection,
                                                           engine: Engine) -> None:
    _city(conn, "plock", 117)  # its partitions exist until this transaction ends
    with engine.connect() as other:
        other.execute(text("SET lock_timeout = '2s'"))
        for t in PARTITIONED:  # would fail with "lock timeout" behind ACCESS EXCLUSIVE
            other.execute(text(f"SELECT count(*) FROM {t} WHERE city_id = 0")).scalar_one()
        other.execute(text("UPDATE grid_case SET status = status WHERE city_id = 0"))
        other.rollback()
