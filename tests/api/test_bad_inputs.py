"""Odd values and files never produce a 500 or leak database text, server paths or
library internals."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from api.error_pages import is_page

URLS = [
    "/collections/compounds/items/99999999999999999999999",
    "/tiles/compounds/99999999999999999999/1/1.mvt",
    "/tiles/compounds/14/99999999999999999999/1.mvt",
    "/search?q=%27%20OR%201%3D1--",
    "/collections/compounds/items?bbox=,,,",
    "/collections/compounds/items?bbox=1e400,0,1,1",
    "/collections/compounds/items?residents=abc",
    "/collections/compounds/items?offset=99999999999999999999",
    "/collections/compounds/items?limit=1e3",
    "/collections/compounds/items?city=%00",
    "/collections/compounds/items?name=%00",
    "/search?q=%00",
    "/tiles/compounds/14/1/1.mvt?city=%00",
    "/map?city=%00",
    "/layers/%00",
    "/tiles/compounds/tilejson.json?city=x%00",
]


@pytest.mark.parametrize("url", URLS)
def test_no_server_error_and_no_database_text(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:  # pages opened in a browser answer a page (api.error_pages)
        html = is_page(url.split("?")[0])
        assert r.headers["content-type"] == ("text/html; charset=utf-8" if html
                                             else "application/problem+json")
    for leak in ("psycopg", "SELECT", "sqlalchemy", "Traceback"):
        assert leak not in r.text


# --- uploads that used to crash the import: a 422 naming the file/row/field, never a 500 -----

UPLOAD = "/cities/testville/imports/{kind}"
UPLOAD_LEAKS = ("sc-upload", "/tmp", "/vsi", "pyogrio", "GDAL", "Traceback", "Arrow",
                "psycopg", "not recognized as")
GOOD_COMPOUND = "K9,上传小区,C1,10,20,\"POLYGON ((117.011 28.221, 117.012 28.221, 117.012 28.222, " \
                "117.011 28.222, 117.011 28.221))\"\n"
HEADER = "external_id,name,community,households,residents,geometry\n"


def _zip_bomb() -> bytes:
    """A zipped Shapefile of about a megabyte whose .dbf inflates to 256 MiB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("b.shp", b"\x00" * 100)
        zf.writestr("b.shx", b"\x00" * 100)
        with zf.open("b.dbf", "w") as out:
            for _ in range(256):
                out.write(bytes(1 << 20))
    return buf.getvalue()


def _two_layer_gpkg(tmp_path: Path) -> bytes:
    path = tmp_path / "two.gpkg"
    for layer, x in (("a", 117.01), ("b", 117.02)):
        gdf = gpd.GeoDataFrame({"external_id": [layer], "name": [layer]},
                               geometry=[box(x, 28.21, x + .001, 28.211)], crs=4326)
        pyogrio.write_dataframe(gdf, path, layer=layer)
    return path.read_bytes()


BAD_UPLOADS = {  # name: (kind, file name, content, expected (row, field), reason text)
    "empty GeoParquet": ("cases", "c.parquet", b"", (None, "file"), "empty"),
    "truncated GeoParquet": ("cases", "c.parquet", b"PAR1\x15\x04" + b"\x00" * 64,
                             (None, "file"), "not a readable GeoParquet file"),
    "random GeoParquet": ("cases", "c.parquet", bytes(range(256)) * 8, (None, "file"),
                          "not a readable GeoParquet file"),
    "1e20 in an integer field": ("compounds", "k.csv",
                                 (HEADER + GOOD_COMPOUND.replace(",10,20,", ",1e20,20,")).encode(),
                                 (1, "households"), "out of range"),
    "3000000000 in an integer field": (
        "compounds", "k.csv", (HEADER + GOOD_COMPOUND.replace(",20,", ",3000000000,")).encode(),
        (1, "residents"), "out of range"),
    "NUL in a CSV": ("compounds", "k.csv",
                     (HEADER + GOOD_COMPOUND.replace("上传", "上\x00传")).encode(),
                     (1, "name"), "U+0000"),
    "0-feature GeoJSON": ("compounds", "k.geojson",
                          b'{"type": "FeatureCollection", "features": []}',
                          (None, "file"), "the file has no features/rows"),
    "truncated GeoJSON": ("compounds", "k.geojson", b'{"type": "FeatureCollection", "featu',
                          (None, "file"), "not a readable GeoJSON file"),
    "random GeoPackage": ("compounds", "k.gpkg", b"SQLite format 3\x00" + b"\x01" * 300,
                          (None, "file"), "not a readable GeoPackage file"),
    "random Excel": ("cases", "c.xlsx", b"PK\x03\x04" + b"\x00" * 300, (None, "file"),
                     "not a readable Excel"),
    "zip bomb": ("streets", "s.zip", None, (None, "file"), "uncompressed exceeds the limit"),
    "two-layer GeoPackage": ("streets", "s.gpkg", None, (None, "layer"), "a, b"),
}


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_bad_uploads_are_422_naming_where(client: TestClient, api_keys: dict[str, str],
                                          tmp_path: Path, name: str) -> None:
    kind, filename, content, where, reason = BAD_UPLOADS[name]
    if content is None:
        content = _zip_bomb() if name == "zip bomb" else _two_layer_gpkg(tmp_path)
    r = client.post(UPLOAD.format(kind=kind), files={"file": (filename, content)},
                    headers={"X-API-Key": api_keys["admin"]}, params={"dry_run": "true"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert any((e["row"], e["field"]) == where and reason in e["reason"] for e in errors), errors
    for leak in UPLOAD_LEAKS:
        assert leak not in r.text, r.text


def test_3d_upload_is_accepted_as_2d_with_a_warning(client: TestClient,
                                                    api_keys: dict[str, str]) -> None:
    body = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
            '{"type": "Point", "coordinates": [117.05, 28.25, 31.5]}, "properties": '
            '{"external_id": "Z1", "type": "red_station", "name": "三维站点"}}]}').encode()
    r = client.post(UPLOAD.format(kind="service-points"), files={"file": ("z.geojson", body)},
                    headers={"X-API-Key": api_keys["admin"]}, params={"dry_run": "true"})
    assert r.status_code == 201, r.text
    assert r.json()["inserted"] == 1
    assert any("dropped the Z" in w for w in r.json()["warnings"])
