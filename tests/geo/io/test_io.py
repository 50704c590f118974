"""Reading and writing feature files in every supported format."""

from __future__ import annotations

import json
import sqlite3
import struct
import tracemalloc
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo.errors import CRSError, Hint, InvalidInputError
from geo.io.files import (
    SHP_SHORT,
    guess_encoding,
    parse_field_map,
    read_file,
    resolve_crs,
    write_file,
)


@pytest.fixture
def points():
    return gpd.GeoDataFrame(
        {"external_id": ["P1", "P2"], "name": ["小哥驿站", "快递驿站"],
         "services": [["water", "charging"], ["parcels"]]},
        geometry=[Point(116.301, 39.991), Point(116.305, 39.995)], crs=4326)


@pytest.fixture
def polygons():
    return gpd.GeoDataFrame(
        {"external_id": ["K1"], "name": ["测试小区"], "households": [300],
         "property_management": ["managed"]},
        geometry=[box(116.301, 39.991, 116.302, 39.992)], crs=4326)


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".shp", ".zip", ".csv", ".parquet",
                                 ".xlsx"])
def test_points_round_trip_through_every_format(tmp_path, points, ext):
    path = tmp_path / f"points{ext}"
    write_file(points, path)
    got = read_file(path)
    assert got.frame["external_id"].tolist() == ["P1", "P2"]
    assert got.frame["name"].tolist() == ["小哥驿站", "快递驿站"]
    assert got.frame["services"].tolist()[0] == "water;charging"
    assert got.frame.geometry.iloc[1].distance(Point(116.305, 39.995)) < 1e-9
    assert got.tabular == (ext in (".csv", ".xlsx"))
    if not got.tabular:
        assert got.crs.to_epsg() == 4326


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".zip", ".csv", ".parquet"])
def test_polygons_round_trip_with_long_field_names(tmp_path, polygons, ext):
    path = tmp_path / f"poly{ext}"
    write_file(polygons, path)
    got = read_file(path).frame
    assert got["property_management"].tolist() == ["managed"]  # shapefile: prop_mgmt → back
    assert got.geometry.iloc[0].equals(polygons.geometry.iloc[0])  # rings may be reoriented


def test_csv_with_chinese_coordinate_columns(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("编号,经度,纬度\nA,116.301,39.991\nB,,39.995\n", encoding="utf-8")
    got = read_file(path).frame
    assert got.geometry.iloc[0].equals(Point(116.301, 39.991))
    assert got.geometry.iloc[1].is_empty  # missing coordinate → empty, reported by validation


def test_csv_with_custom_coordinate_columns_via_field_map(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("id,east,north\nA,116.301,39.991\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no coordinate columns"):
        read_file(path)
    got = read_file(path, field_map={"east": "lon", "north": "lat"}).frame
    assert got.geometry.iloc[0].equals(Point(116.301, 39.991))


def test_gbk_csv_is_reported_with_the_encoding_to_use(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("编号,名称,经度,纬度\nA,环境卫生,116.3,39.99\n".encode("gbk"))
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    (p,) = exc.value.errors
    assert p.field == "encoding" and "GB18030/GBK" in p.reason
    assert p.hint == Hint(option="encoding", value="gb18030")
    got = read_file(path, encoding="gb18030").frame
    assert got["名称"].tolist() == ["环境卫生"]


def test_gbk_shapefile_without_cpg_is_reported(tmp_path, polygons):
    path = tmp_path / "gbk.shp"
    polygons.rename(columns=SHP_SHORT).to_file(path, engine="pyogrio", encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    with pytest.raises(InvalidInputError, match="not valid UTF-8"):
        read_file(path)
    assert read_file(path, encoding="gbk").frame["name"].tolist() == ["测试小区"]


def test_guess_encoding_of_utf8_is_none():
    assert guess_encoding("网格".encode()) is None


def test_zip_with_two_shapefiles_is_an_error(tmp_path, polygons):
    for n in ("a", "b"):
        write_file(polygons, tmp_path / f"{n}.shp")
    z = tmp_path / "two.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in tmp_path.glob("[ab].*"):
            zf.write(f, f.name)
    with pytest.raises(InvalidInputError, match="exactly one shapefile"):
        read_file(z)


def test_unknown_extension(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown file type"):
        read_file(tmp_path / "x.kml")


def test_plain_parquet_with_lon_lat_is_a_table(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"id": ["A"], "lng": [116.3], "lat": [39.99]}).to_parquet(path)
    got = read_file(path)
    assert got.tabular and got.frame.geometry.iloc[0].equals(Point(116.3, 39.99))


def test_parse_field_map():
    assert parse_field_map(["经度=lon", " a = b "]) == {"经度": "lon", "a": "b"}
    with pytest.raises(InvalidInputError, match="bad field mapping"):
        parse_field_map(["nope"])


def test_gbk_geojson_is_reported_and_read_with_encoding(tmp_path, points):
    text = points.drop(columns="services").to_json(ensure_ascii=False)
    path = tmp_path / "gbk.geojson"
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    assert exc.value.errors[0].hint == Hint(option="encoding", value="gb18030")
    assert read_file(path, encoding="gbk").frame["name"].tolist() == ["小哥驿站", "快递驿站"]


# --- untrusted files: unreadable, empty, unknown CRS, NUL characters, layers, zip bombs -----

#: What must never reach a user: server paths and library internals.
LEAKS = ("/tmp", "/vsi", "pyogrio", "GDAL", "Traceback", "not recognized as", "Arrow",
         "magic bytes")


def _assert_one_clean_problem(exc, name):
    (p,) = exc.value.errors
    assert name in exc.value.message
    text = f"{exc.value}"
    for leak in LEAKS:
        assert leak not in text, text
    return p


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".zip", ".parquet", ".xlsx", ".shp"])
@pytest.mark.parametrize("how", ["truncated", "random"])
def test_truncated_and_random_files_are_one_clear_problem(tmp_path, points, ext, how):
    good = tmp_path / f"good{ext}"
    write_file(points, good)
    data = good.read_bytes()
    bad = tmp_path / f"bad{ext}"
    bad.write_bytes(data[: len(data) // 2] if how == "truncated"
                    else np.random.default_rng(1).bytes(4096))
    with pytest.raises(InvalidInputError) as exc:
        read_file(bad)
    p = _assert_one_clean_problem(exc, bad.name)
    if p.field == "file":
        assert p.reason.startswith("not a readable ")
    else:  # random bytes in a text format: reported as not UTF-8
        assert ext == ".geojson" and p.field == "encoding"


def test_unreadable_geoparquet_names_the_format(tmp_path):
    path = tmp_path / "cut.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100)
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    p = _assert_one_clean_problem(exc, "cut.parquet")
    assert (p.field, p.reason) == ("file", "not a readable GeoParquet file")


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".zip", ".csv", ".parquet", ".xlsx",
                                 ".shp"])
def test_empty_files_are_a_clear_error(tmp_path, points, ext):
    zero_rows = tmp_path / f"none{ext}"
    write_file(points.iloc[:0], zero_rows)
    zero_bytes = tmp_path / f"zero{ext}"
    zero_bytes.write_bytes(b"")
    for path in (zero_rows, zero_bytes):
        with pytest.raises(InvalidInputError) as exc:
            read_file(path)
        p = _assert_one_clean_problem(exc, path.name)
        assert p.field == "file"
        assert p.reason in ("the file has no features/rows", "the file is empty (0 bytes)")


def _geojson(tmp_path, features, name="f.geojson", **top):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", **top, "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
         "properties": props} for x, y, props in features]}), encoding="utf-8")
    return path


def test_geojson_with_an_unknown_crs_is_not_read_as_wgs84(tmp_path):
    path = _geojson(tmp_path, [(116.301, 39.991, {"external_id": "A"})],
                    crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}})
    got = read_file(path)
    assert got.unknown_crs == "urn:ogc:def:crs:EPSG::999999" and got.crs is None
    with pytest.raises(CRSError, match="EPSG::999999"):
        resolve_crs(got.frame, file_crs=got.crs, tabular=got.tabular,
                    unknown_crs=got.unknown_crs)


def test_geojson_with_an_unknown_crs_behind_escapes_is_caught(tmp_path):
    path = tmp_path / "escaped.geojson"  # "c\u0072s" is "crs" to every JSON parser
    path.write_text('{"type": "FeatureCollection", "c\\u0072s": {"type": "name", "properties": '
                    '{"name": "EPSG:999999"}}, "features": [{"type": "Feature", "geometry": '
                    '{"type": "Point", "coordinates": [116.301, 39.991]}, "properties": '
                    '{"external_id": "A"}}]}', encoding="utf-8")
    assert read_file(path).unknown_crs == "EPSG:999999"


def test_geojson_with_a_known_crs_member(tmp_path):
    path = _geojson(tmp_path, [(440000.0, 4427000.0, {"external_id": "A", "crs": "garbage"})],
                    crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}})
    got = read_file(path)  # a property named "crs" is not the file's CRS
    assert got.unknown_crs is None and got.crs.to_epsg() == 32650


def test_nul_in_geojson_text_names_row_and_field(tmp_path):
    path = _geojson(tmp_path, [(116.301, 39.991, {"external_id": "A", "name": "甲"}),
                               (116.302, 39.992, {"external_id": "B", "name": "乙\u0000丙"})])
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    assert [(p.row, p.field) for p in exc.value.errors] == [(2, "name")]
    assert "NUL" in exc.value.errors[0].reason


def test_nul_in_geopackage_text_names_row_and_field(tmp_path, points):
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(points.drop(columns="services"), path, layer="p",
                            layer_options={"SPATIAL_INDEX": "NO"})
    with sqlite3.connect(path) as db:  # GDAL cannot write a NUL: put one in with SQLite
        db.execute("UPDATE p SET name = CAST(X'E4B999' || X'00' || X'E4B899' AS TEXT) "
                   "WHERE external_id = 'P2'")
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    assert [(p.row, p.field) for p in exc.value.errors] == [(2, "name")]


@pytest.mark.parametrize("ext", [".shp", ".zip"])
def test_nul_in_shapefile_text_names_row_and_field(tmp_path, points, ext):
    shp = tmp_path / "p.shp"
    write_file(points.assign(name=["小哥驿站", "快递XX驿站"]), shp)
    dbf = shp.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes().replace(b"XX", b"\x00\x00"))
    path = shp
    if ext == ".zip":
        path = tmp_path / "p.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for f in tmp_path.glob("p.*"):
                if f.suffix != ".zip":
                    zf.write(f, f.name)
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    assert [(p.row, p.field) for p in exc.value.errors] == [(2, "name")]


def test_geopackage_with_several_layers_lists_them(tmp_path, points, polygons):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(points, path, layer="sites")
    pyogrio.write_dataframe(polygons, path, layer="compounds")
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    (p,) = exc.value.errors
    assert p.field == "layer" and "sites" in p.reason and "compounds" in p.reason
    assert read_file(path, layer="compounds").frame["external_id"].tolist() == ["K1"]
    with pytest.raises(InvalidInputError, match="no layer 'nope'"):
        read_file(path, layer="nope")


def test_geopackage_with_one_feature_layer_and_a_table(tmp_path, points):
    path = tmp_path / "styled.gpkg"
    pyogrio.write_dataframe(points, path, layer="sites")
    pyogrio.write_dataframe(pd.DataFrame({"style": ["x"]}), path, layer="layer_styles")
    assert read_file(path).frame["external_id"].tolist() == ["P1", "P2"]


def _bomb(tmp_path, points, dbf_bytes: int) -> Path:
    """A zipped Shapefile whose .dbf inflates from about a megabyte to ``dbf_bytes``."""
    write_file(points, tmp_path / "b.shp")
    path = tmp_path / "bomb.zip"
    zero = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.write(tmp_path / "b.shp", "b.shp")
        zf.write(tmp_path / "b.shx", "b.shx")
        with zf.open("b.dbf", "w") as out:
            for _ in range(dbf_bytes // len(zero)):
                out.write(zero)
    return path


def test_zip_bomb_is_refused_from_its_directory_before_unpacking(tmp_path, points):
    path = _bomb(tmp_path, points, 256 << 20)  # ≈ 1 MB inflating to 256 MiB
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInputError) as exc:
            read_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    p = _assert_one_clean_problem(exc, "bomb.zip")
    assert p.field == "file" and "exceeds the limit" in p.reason
    assert peak < 16 << 20, f"peak {peak / 1e6:.0f} MB while refusing a zip bomb"
    assert not list(tmp_path.glob("**/data.dbf"))


def _patch_central_size(path: Path, member: str, size: int) -> None:
    """Make the zip directory understate ``member``'s uncompressed size."""
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + n].decode() == member:
            struct.pack_into("<I", data, pos + 24, size)
        pos = data.find(b"PK\x01\x02", pos + 46 + n + m + k)
    path.write_bytes(bytes(data))


def test_zip_member_larger_than_its_directory_says_is_refused(tmp_path, points):
    path = _bomb(tmp_path, points, 8 << 20)
    _patch_central_size(path, "b.dbf", 1000)  # the directory lies: 1000 bytes
    with pytest.raises(InvalidInputError) as exc:
        read_file(path)
    p = _assert_one_clean_problem(exc, "bomb.zip")
    assert p.reason == "not a readable zipped Shapefile"


@pytest.mark.parametrize("ext", [".xlsx", ".parquet", ".zip"])
def test_unpacked_size_limit_covers_every_container(tmp_path, points, ext):
    path = tmp_path / f"p{ext}"
    write_file(points, path)
    with pytest.raises(InvalidInputError, match="unpacks to too much data"):
        read_file(path, max_unpacked_bytes=100)
    assert len(read_file(path).frame) == 2


def test_geopackage_named_like_a_reserved_table_is_written(tmp_path, points):
    path = tmp_path / "gpkg_points.gpkg"
    write_file(points, path)
    assert [str(n) for n, _ in pyogrio.list_layers(path)] == ["layer_gpkg_points"]
    assert read_file(path).frame["external_id"].tolist() == ["P1", "P2"]
