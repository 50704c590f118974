"""The basemap written by ``city add`` and the demo loader, and served as one tile source."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.basemap import read_basemap
from geo.demo import OSM_DIR
from geo.settings import Settings
from tests.store.test_city_add import cli

CODE = "t-basemap-wdk"


@pytest.fixture
def added(settings: Settings, engine: Engine) -> Iterator[str]:
    r = cli(settings, "city", "add", CODE, "--osm", str(OSM_DIR / "wudaokou_2017.osm"),
            "--bbox", "116.320,39.985,116.345,40.005")
    assert r.returncode == 0, r.stderr
    assert "basemap:" in r.stdout
    yield CODE
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM city WHERE code = :c"), {"c": CODE})


def _counts(engine: Engine, code: str) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT layer, count(*) AS n FROM (SELECT layer, city_id FROM basemap_line UNION ALL"
            " SELECT layer, city_id FROM basemap_area UNION ALL SELECT layer, city_id"
            " FROM basemap_point) b JOIN city c ON c.id = b.city_id WHERE c.code = :c"
            " GROUP BY layer"), {"c": code}).all()
    return {r.layer: int(r.n) for r in rows}


def test_city_add_stores_the_basemap_of_its_box(engine: Engine, added: str) -> None:
    box = (116.320, 39.985, 116.345, 40.005)
    f = read_basemap(OSM_DIR / "wudaokou_2017.osm", bbox=box).features
    expected = f.explode(index_parts=False)["layer"].value_counts().to_dict()
    assert _counts(engine, added) == expected
    with engine.connect() as conn:
        outside = conn.execute(text(
            "SELECT count(*) FROM basemap_line b JOIN city c ON c.id = b.city_id"
            " WHERE c.code = :c AND NOT ST_CoveredBy(b.geom, ST_Expand(ST_MakeEnvelope("
            ":x0, :y0, :x1, :y1, 4326), 1e-9))"),
            {"c": added, "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3]}).scalar_one()
    assert outside == 0


def test_city_add_again_replaces_the_basemap(settings: Settings, engine: Engine,
                                             added: str) -> None:
    before = _counts(engine, added)
    r = cli(settings, "city", "add", CODE, "--osm", str(OSM_DIR / "wudaokou_2017.osm"),
            "--bbox", "116.320,39.985,116.345,40.005")
    assert r.returncode == 0, r.stderr
    assert _counts(engine, added) == before


def _tile_at(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def test_one_tile_holds_every_basemap_layer(settings: Settings, demo_engine: Engine,
                                            tmp_path: Path) -> None:
    """Tsinghua's label, named streets, water and green in the demo's basemap tile."""
    with demo_engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM basemap_point b JOIN city c ON c.id = b.city_id"
            " WHERE c.code = 'wudaokou' AND b.name = '清华大学'")).one()
    x, y = _tile_at(lon, lat, 14)
    with TestClient(create_app(settings)) as client:
        r = client.get(f"/tiles/basemap/14/{x}/{y}.mvt", params={"city": "wudaokou"})
        assert r.status_code == 200
        tile: dict[str, Any] = mapbox_vector_tile.decode(r.content)
        assert {"basemap_roads", "basemap_water", "basemap_green", "basemap_labels",
                "basemap_buildings"} <= set(tile)
        names = {f["properties"].get("name") for f in tile["basemap_labels"]["features"]}
        assert "清华大学" in names
        assert any(f["properties"].get("name") for f in tile["basemap_roads"]["features"])
        again = client.get(f"/tiles/basemap/14/{x}/{y}.mvt", params={"city": "wudaokou"},
                           headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
        # buildings start at zoom 14: not in the zoom-13 tile
        low = client.get(f"/tiles/basemap/13/{x // 2}/{y // 2}.mvt", params={"city": "wudaokou"})
        assert "basemap_buildings" not in mapbox_vector_tile.decode(low.content)
        assert client.get("/tiles/basemap/14/0/0.mvt", params={"city": "atlantis"}
                          ).status_code == 404
        assert client.get("/tiles/basemap/30/0/0.mvt").status_code == 422
