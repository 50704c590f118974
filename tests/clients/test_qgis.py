"""Headless QGIS (Debian's PyQGIS, ``QT_QPA_PLATFORM=offscreen``) reads every public
collection through its OAPIF provider and draws the compounds' vector tiles with their
style; the picture goes to ``tests/artifacts/qgis_compounds_<city>.png``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

pytestmark = pytest.mark.slow
SYSTEM_PYTHON = "/usr/bin/python3"  # PyQGIS is packaged for the system Python
PROBE = Path(__file__).with_name("qgis_probe.py")
CITY = "guixi"


def _has_pyqgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                          check=False).returncode == 0


@pytest.fixture(scope="module")
def qgis_seen(demo_server: str, public_counts: dict[str, int], artifacts: Path,
              tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not _has_pyqgis():
        pytest.fail("PyQGIS is missing: `make system` installs qgis and python3-qgis")
    runtime = tmp_path_factory.mktemp("qgis-runtime")
    runtime.chmod(0o700)
    png = artifacts / f"qgis_compounds_{CITY}.png"
    run = subprocess.run([SYSTEM_PYTHON, str(PROBE), demo_server, CITY, str(png),
                          *public_counts], capture_output=True, text=True, timeout=900,
                         check=False, env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                           "XDG_RUNTIME_DIR": str(runtime)})
    assert run.returncode == 0, run.stderr[-3000:]
    return dict(json.loads(run.stdout.splitlines()[-1]))


def test_qgis_reads_every_public_collection(qgis_seen: dict,
                                            public_counts: dict[str, int]) -> None:
    seen = qgis_seen["collections"]
    assert all(v["valid"] for v in seen.values()), seen
    assert {k: v["read"] for k, v in seen.items()} == public_counts
    assert {k: v["count"] for k, v in seen.items()} == public_counts


def test_qgis_vector_tiles_hold_every_compound_of_the_city(qgis_seen: dict,
                                                           demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM compound k JOIN city c ON c.id = k.city_id "
            "WHERE c.code = :c"), {"c": CITY}).scalar_one()
    tiles = qgis_seen["tiles"]
    assert tiles["valid"] and tiles["features"] == expected > 0


def test_qgis_draws_the_styled_tiles(qgis_seen: dict, artifacts: Path) -> None:
    assert (artifacts / f"qgis_compounds_{CITY}.png").stat().st_size > 5_000
    assert qgis_seen["tiles"]["painted"] > 500  # of 40,000 sampled pixels
