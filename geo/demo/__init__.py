"""The two demo cities — Guixi 贵溪 and Wudaokou 五道口 — and loading them into PostGIS.

Streets, place names, boundaries, 小区 polygons and postal points are real OpenStreetMap
data (© OpenStreetMap contributors, ODbL) from ``data/osm/``; everything else is generated
deterministically from a seed by the rules in ``data/README.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, text

from geo.basemap import read_basemap
from geo.demo.guixi import build_guixi
from geo.demo.model import LAYERS, DemoCity
from geo.demo.wudaokou import build_wudaokou
from geo.settings import PROJECT_ROOT
from geo.store.basemap import write_basemap
from geo.store.cities import create_city
from geo.store.gates import refresh_inferred_gates
from geo.store.osm import write_osm_network
from geo.store.write import refresh_grid_compound, upsert_features

__all__ = ["DEMO_CITIES", "OSM_DIR", "DemoCity", "demo_cities", "load_city", "load_demo",
           "table_counts"]

OSM_DIR = PROJECT_ROOT / "data" / "osm"
DEMO_CITIES: dict[str, tuple[Callable[[Path], DemoCity], str]] = {
    "guixi": (build_guixi, "guixi_2024.osm"),
    "wudaokou": (build_wudaokou, "wudaokou_2017.osm"),
}
#: Tables counted per city after loading, in load order.
COUNTED = ("street_node", "street_edge", *LAYERS, "grid_compound")
STEPS_PER_CITY = 4 + len(LAYERS)

Progress = Callable[[str, int, int], None]


@lru_cache(maxsize=4)
def _build(code: str, osm_dir: str) -> DemoCity:
    builder, filename = DEMO_CITIES[code]
    return builder(Path(osm_dir) / filename)


def demo_cities(osm_dir: Path = OSM_DIR) -> list[DemoCity]:
    """Both demo cities, generated once per process (treat the frames as read-only)."""
    return [_build(code, str(osm_dir)) for code in DEMO_CITIES]


def table_counts(conn: Connection, city_id: int) -> dict[str, int]:
    """Rows per table (:data:`COUNTED`) belonging to city ``city_id``."""
    out: dict[str, int] = {}
    for table in COUNTED:
        q = f"SELECT count(*) FROM {table} WHERE city_id = :c"  # table from COUNTED
        out[table] = int(conn.execute(text(q), {"c": city_id}).scalar_one())
    return out


def _drop_stale(conn: Connection, city_id: int, demo: DemoCity) -> None:
    """Delete demo rows (source osm/generated) of ``city_id`` that the demo no longer has.

    Rows imported by users (source ``import``) are never touched.
    """
    for kind in reversed(LAYERS):  # children first; kind is also the table name
        ids = demo.layers[kind]["external_id"].astype(str).tolist()
        conn.execute(text(f"DELETE FROM {kind} WHERE city_id = :c "
                          "AND source IN ('osm', 'generated') AND external_id <> ALL(:ids)"),
                     {"c": city_id, "ids": ids})


def load_demo(conn: Connection, *, progress: Progress | None = None,
              osm_dir: Path = OSM_DIR) -> dict[str, dict[str, int]]:
    """Load (or reload) both demo cities on ``conn``; the caller commits.

    Rows are upserted by external id, the street network is replaced with the same ids,
    and demo rows the generator no longer produces are deleted, so loading twice leaves the
    same database; rows imported by users (source ``import``) are kept. ``progress(step, done, total)`` is called
    after each step. Returns the row counts per city code and table.
    """
    codes = list(DEMO_CITIES)
    total = STEPS_PER_CITY * len(codes)
    done = 0

    def step(message: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(message, done, total)

    counts: dict[str, dict[str, int]] = {}
    for code in codes:
        demo = _build(code, str(osm_dir))
        step(f"{demo.name_zh} ({code}): generated")
        counts[code] = load_city(conn, demo, basemap_osm=Path(osm_dir) / DEMO_CITIES[code][1],
                                 step=step)
    return counts


def load_city(conn: Connection, demo: DemoCity, *, basemap_osm: Path | None = None,
              step: Callable[[str], None] | None = None) -> dict[str, int]:
    """Load (or reload) one generated city through the writers of ``geo.store``; the caller
    commits. ``basemap_osm``: the OSM extract of its offline basemap (none: no basemap).
    ``step(message)`` is called after each step. Returns the row counts per table."""
    def done(what: str) -> None:
        if step is not None:
            step(f"{demo.name_zh} ({demo.code}): {what}")

    city = create_city(conn, demo.code, name_zh=demo.name_zh, name_en=demo.name_en,
                       bounds=demo.bounds, metric_epsg=demo.metric_epsg)
    write_osm_network(conn, city.id, nodes=demo.nodes, edges=demo.edges,
                      gate_points=demo.gate_points, walk_rules=demo.walk_rules)
    done("street network")
    if basemap_osm is not None:
        basemap = read_basemap(basemap_osm,
                               bbox=tuple(demo.bounds.bounds))  # type: ignore[arg-type]
        write_basemap(conn, city.id, basemap)
    done("basemap")
    for kind in LAYERS:
        gdf = demo.layers[kind]
        for source in sorted(gdf["source"].unique()):
            part = gdf[gdf["source"] == source].drop(columns="source")
            upsert_features(conn, kind, city.id, part, source=str(source))
        done(kind)
    _drop_stale(conn, city.id, demo)
    refresh_grid_compound(conn, city.id)
    refresh_inferred_gates(conn, city.id)  # the compounds came after the network
    done("grid–compound overlay")
    return table_counts(conn, city.id)
