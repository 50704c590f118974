"""GDAL's OAPIF driver reads our collections from a real uvicorn server."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy import Engine, text

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="needs gdal-bin")


def _ogrinfo(*args: str) -> str:
    out = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120,
                         check=False,
                         env={"GDAL_HTTP_TIMEOUT": "30", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize(("collection", "table"), [("compounds", "compound"),
                                                   ("service_points", "service_point"),
                                                   ("street_edges", "street_edge")])
def test_ogrinfo_feature_count_matches_database(server: str, sample_engine: Engine,
                                                collection: str, table: str) -> None:
    with sample_engine.connect() as conn:
        expected = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    out = _ogrinfo("-al", "-so", f"OAPIF:{server}/collections/{collection}")
    count = int(re.search(r"Feature Count: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert count == expected


def test_ogrinfo_lists_collections(server: str) -> None:
    out = _ogrinfo(f"OAPIF:{server}")
    for name in ["streets", "communities", "grids", "compounds", "service_points"]:
        assert name in out


def test_ogrinfo_reads_all_features_across_pages(server: str, sample_engine: Engine) -> None:
    with sample_engine.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM street_edge")).scalar_one()
    out = _ogrinfo("-al", "-oo", "PAGE_SIZE=7", f"OAPIF:{server}/collections/street_edges")
    assert out.count("OGRFeature(street_edges)") == expected
    assert "测试路0" in out
