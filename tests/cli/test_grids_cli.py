"""``servicecircle analyze regrid`` / ``analyze grids`` on the demo: the exported proposal is
the run layer's, and bad input is a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine, text

from geo.runs import RegridParams, run_regrid
from geo.settings import Settings

pytestmark = pytest.mark.slow


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, SERVICECIRCLE_DB_NAME=settings.db_name, PYTHONPATH=path)
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url(settings.db_name).replace(
            "postgresql+psycopg://", "postgresql://")
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_regrid_exports_the_proposal(settings: Settings, demo_engine: Engine,
                                     tmp_path: Path) -> None:
    out = tmp_path / "proposal.gpkg"
    done = _cli(settings, "analyze", "regrid", "--city", "guixi", "--community", "花园社区",
                "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = gpd.read_file(out)
    with demo_engine.connect() as conn:
        run = run_regrid(conn, "guixi", RegridParams(community="花园社区"))
    assert len(written) == len(run.result.grids)
    assert sorted(written["households"]) == sorted(run.result.grids["households"])
    assert written.crs.to_epsg() == 4326 and written.geom_type.eq("Polygon").all()


def test_regrid_unknown_community_is_a_clear_error(settings: Settings,
                                                   demo_engine: Engine) -> None:
    done = _cli(settings, "analyze", "regrid", "--city", "guixi", "--community", "无此社区")
    assert done.returncode != 0
    assert "无此社区" in done.stderr and "Traceback" not in done.stderr


def test_grids_workload_table(settings: Settings, demo_engine: Engine,
                              tmp_path: Path) -> None:
    out = tmp_path / "grids.geojson"
    done = _cli(settings, "analyze", "grids", "--city", "guixi", "--by", "street",
                "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = gpd.read_file(out)
    assert {"households", "cases_per_month", "median_closure_h",
            "workload_index"} <= set(written.columns)
    assert written["workload_index"].mean() == pytest.approx(1.0)


def test_regrid_save_stores_the_proposal(settings: Settings, demo_engine: Engine) -> None:
    done = _cli(settings, "analyze", "regrid", "--city", "guixi", "--community", "花园社区",
                "--save")
    assert done.returncode == 0, done.stderr
    run_id = int(done.stderr.split("saved as run ")[1].split()[0])
    try:
        with demo_engine.connect() as conn:
            stored = conn.execute(text(
                "SELECT proposal, households FROM regrid_grid WHERE run_id = :r "
                "ORDER BY proposal"), {"r": run_id}).all()
            run = run_regrid(conn, "guixi", RegridParams(community="花园社区"))
        expected = run.result.grids.sort_values("proposal")
        assert [(int(p), float(h)) for p, h in stored] == list(zip(
            expected["proposal"].astype(int), expected["households"].astype(float),
            strict=True))
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": run_id})
