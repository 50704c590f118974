"""The map service on the demo cities (Guixi, Wudaokou): counts agree with PostGIS."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request

import mapbox_vector_tile
import pytest
from sqlalchemy import Engine, text

from tests.support.sample import tile_of

pytestmark = pytest.mark.slow


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, r.read()


def test_demo_items_count_matches_database(demo_server: str, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM compound c JOIN city ON "
                                     "city.id = c.city_id WHERE city.code = 'guixi'")).scalar_one()
    _, body = _get(f"{demo_server}/collections/compounds/items?city=guixi&limit=1")
    assert json.loads(body)["numberMatched"] == expected > 0


def test_demo_tile_at_city_centre_matches_postgis(demo_server: str, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) c FROM compound "
            "WHERE city_id = (SELECT id FROM city WHERE code = 'guixi')) s")).one()
        z, x, y = tile_of(lon, lat, 14)
        expected = conn.execute(text(
            "SELECT count(*) FROM compound WHERE ST_Intersects(ST_Transform(geom, 3857), "
            "ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096))"),
            {"z": z, "x": x, "y": y}).scalar_one()
    status, body = _get(f"{demo_server}/tiles/compounds/{z}/{x}/{y}.mvt")
    if expected == 0:
        assert status == 204
    else:
        assert len(mapbox_vector_tile.decode(body)["compounds"]["features"]) == expected


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="needs gdal-bin")
def test_demo_ogrinfo_service_points(demo_server: str, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM service_point")).scalar_one()
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-so",
                          f"OAPIF:{demo_server}/collections/service_points"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert int(re.search(r"Feature Count: (\d+)", out).group(1)) == expected  # type: ignore[union-attr]
