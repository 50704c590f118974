"""GDAL reads every public collection to the end: the project's own GDAL (pyogrio's) and
the Debian GDAL command-line tools (``ogrinfo``/``ogr2ogr``, GDAL 3.6, page size 10 unless
told otherwise, following ``next`` links)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
ENV = {"GDAL_HTTP_TIMEOUT": "60", "PATH": "/usr/bin:/bin"}


def _python(code: str, *args: str) -> Any:
    """Run ``code`` in a fresh interpreter of this environment; its printed JSON. (GDAL
    holds the GIL while it waits for HTTP, so it cannot call a server in this process.)"""
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.splitlines()[-1])


READ = """
import json, sys, pyogrio
base, names = sys.argv[1], sys.argv[2:]
out = {}
for name in names:
    # a small first page (97), so that every collection above it is read across pages
    df = pyogrio.read_dataframe(f"OAPIF:{base}/collections/{name}", PAGE_SIZE=97)
    out[name] = [len(df), list(map(float, df.total_bounds)) if len(df) else None,
                 df.crs.to_string() if df.crs is not None else None]
print(json.dumps(out))
"""


def test_pyogrio_lists_every_collection(demo_server: str, public_counts: dict[str, int]) -> None:
    names = _python("import json, sys, pyogrio; print(json.dumps([n for n, _ in "
                    "pyogrio.list_layers('OAPIF:' + sys.argv[1])]))", demo_server)
    assert set(public_counts) <= set(names)


def test_pyogrio_reads_every_public_collection(demo_server: str,
                                               public_counts: dict[str, int]) -> None:
    got = _python(READ, demo_server, *public_counts)
    for n, bounds, crs in got.values():
        if n:
            assert crs == "OGC:CRS84"  # lon/lat, as served
            minx, miny, maxx, maxy = bounds
            assert 70 < minx <= maxx < 140 and 15 < miny <= maxy < 55  # lon/lat in China
    assert {k: v[0] for k, v in got.items()} == public_counts


def test_geopandas_read_file_with_a_filter(demo_server: str) -> None:
    filtered, everything = _python(
        "import json, sys, geopandas as gpd; u = 'OAPIF:' + sys.argv[1] + "
        "'/collections/compounds'; a = gpd.read_file(u, where='residents > 1000'); "
        "b = gpd.read_file(u); print(json.dumps([len(a), int((b.residents > 1000).sum())]))",
        demo_server)
    assert filtered == everything > 0


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="gdal-bin is in DEB_PACKAGES")
def test_debian_ogr2ogr_copies_every_public_collection(demo_server: str, tmp_path: Path,
                                                       public_counts: dict[str, int]) -> None:
    got = {}
    for name in public_counts:
        out = tmp_path / f"{name}.geojson"
        run = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out),
                              f"OAPIF:{demo_server}/collections/{name}"],
                             capture_output=True, text=True, timeout=300, env=ENV, check=False)
        assert run.returncode == 0, run.stderr
        got[name] = len(json.loads(out.read_text())["features"]) if out.exists() else 0
    assert got == public_counts


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is in DEB_PACKAGES")
def test_debian_ogrinfo_summary_counts(demo_server: str, public_counts: dict[str, int]) -> None:
    run = subprocess.run(["ogrinfo", "-ro", "-so", "-al", f"OAPIF:{demo_server}"],
                         capture_output=True, text=True, timeout=300, env=ENV, check=False)
    assert run.returncode == 0, run.stderr
    counts = {}
    layer = None
    for line in run.stdout.splitlines():
        if line.startswith("Layer name: "):
            layer = line.removeprefix("Layer name: ").strip()
        elif line.startswith("Feature Count: ") and layer:
            counts[layer] = int(line.removeprefix("Feature Count: "))
    assert {k: counts.get(k) for k in public_counts} == public_counts
