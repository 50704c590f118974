"""Reading and writing feature files in every supported format."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.errors import InvalidInputError
from geo.io.files import SHP_SHORT, guess_encoding, parse_field_map, read_file, write_file


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
    assert p.field == "encoding" and "GB18030/GBK" in p.reason and "--encoding gb18030" in p.reason
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
    assert "--encoding gb18030" in exc.value.errors[0].reason
    assert read_file(path, encoding="gbk").frame["name"].tolist() == ["小哥驿站", "快递驿站"]
