"""``servicecircle find nearest`` / ``find search`` on the demo: the written routes are the
run layer's, bad input a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine

from geo.runs import FinderParams, run_find
from geo.settings import Settings

pytestmark = pytest.mark.slow
START = ("117.2301", "28.2939")


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, SERVICECIRCLE_DB_NAME=settings.db_name, PYTHONPATH=path)
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url(settings.db_name).replace(
            "postgresql+psycopg://", "postgresql://")
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_find_nearest_writes_the_run_layers_routes(settings: Settings, demo_engine: Engine,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "routes.geojson"
    done = _cli(settings, "find", "nearest", "--city", "guixi", "--lon", START[0], "--lat",
                START[1], "--type", "小哥驿站", "--mode", "ride", "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = gpd.read_file(out)
    with demo_engine.connect() as conn:
        run = run_find(conn, "guixi", FinderParams(lon=float(START[0]), lat=float(START[1]),
                                                   service_type="courier_station",
                                                   mode="ride"))
    assert written["station_id"].tolist() == [s.station_id for s in run.result.stations]
    assert written["metres"].tolist() == pytest.approx([s.metres for s in run.result.stations])
    assert written.crs.to_epsg() == 4326 and written.geom_type.eq("LineString").all()
    assert "wrote 3 routes" in done.stderr and run.result.stations[0].name[:4] in done.stderr


def test_find_search_lists_places(settings: Settings, demo_engine: Engine) -> None:
    done = _cli(settings, "find", "search", "--city", "guixi", "建设路12号")
    assert done.returncode == 0, done.stderr
    text = done.stdout + done.stderr
    assert "建设路" in text and "street" in text


def test_a_point_outside_the_city_is_a_clear_error(settings: Settings,
                                                   demo_engine: Engine) -> None:
    done = _cli(settings, "find", "nearest", "--city", "guixi", "--lon", "100", "--lat", "28")
    assert done.returncode != 0
    assert "outside 'guixi'" in done.stderr and "Traceback" not in done.stderr
    done = _cli(settings, "find", "nearest", "--city", "guixi", "--address", "无此地名")
    assert done.returncode != 0 and "无此地名" in done.stderr
