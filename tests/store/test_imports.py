"""Importing files into a city: every error class reported, all or nothing, upserts."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import shapely.geometry
from pyproj import Geod
from shapely.geometry import Point, Polygon, box
from sqlalchemy import text

from geo.crs.chinese import wgs84_to_bd09, wgs84_to_gcj02
from geo.demo import demo_cities
from geo.errors import CRSError, Hint, InvalidInputError, NotFoundError
from geo.io.files import read_file, write_file
from geo.settings import Settings
from geo.store.cities import create_city
from geo.store.exports import export_features
from geo.store.imports import add_service_type, import_file, list_service_types, lookup_codes
from geo.store.network import write_network
from geo.store.write import upsert_features

GEOD = Geod(ellps="WGS84")


def _count(conn, table: str, city) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {table} WHERE city_id = :c"),
                        {"c": city.id}).scalar_one()


def _errors(conn, city, kind, path, **kw):
    with pytest.raises(InvalidInputError) as exc:
        import_file(conn, city.code, kind, path, **kw)
    return exc.value.errors


def test_cases_csv_is_imported(conn, city, tmp_path, make_cases, write_csv):
    report = import_file(conn, city.code, "cases", write_csv(tmp_path, make_cases(50)))
    assert (report.kind, report.rows_read, report.inserted, report.updated) == \
        ("grid_case", 50, 50, 0)
    assert _count(conn, "grid_case", city) == 50


def test_reimport_upserts_with_updated_values(conn, city, tmp_path, make_cases, write_csv):
    df = make_cases(20)
    import_file(conn, city.code, "cases", write_csv(tmp_path, df))
    df.loc[df.status == "closed", "satisfaction"] = "2"
    report = import_file(conn, city.code, "cases", write_csv(tmp_path, df, "again.csv"))
    assert (report.inserted, report.updated) == (0, 20)
    assert _count(conn, "grid_case", city) == 20
    sats = conn.execute(text("SELECT DISTINCT satisfaction FROM grid_case WHERE city_id = :c "
                             "AND status = 'closed'"), {"c": city.id}).scalars().all()
    assert sats == [2]


def test_one_bad_row_in_10000_writes_nothing(conn, city, tmp_path, make_cases, write_csv):
    df = make_cases(10_000)
    df.loc[7_777, "category"] = "noise"
    errors = _errors(conn, city, "cases", write_csv(tmp_path, df))
    assert [(p.row, p.field) for p in errors] == [(7_778, "category")]
    assert _count(conn, "grid_case", city) == 0


# --- every error class, each with its message -------------------------------------------

ERROR_CASES = {
    "unknown category": (lambda d: d.assign(category=["noise"] + list(d.category[1:])),
                         (1, "category"), "unknown category 'noise'; allowed: clutter, dispute"),
    "duplicate id": (lambda d: d.assign(external_id=["X", "X", *d.external_id[2:]]),
                     (2, "external_id"), "duplicate external_id 'X' (first in row 1)"),
    "wrong type": (lambda d: d.assign(satisfaction=["good"] + list(d.satisfaction[1:])),
                   (1, "satisfaction"), "'good' is not a number"),
    "unparsable date": (lambda d: d.assign(reported_at=["soon"] + list(d.reported_at[1:])),
                        (1, "reported_at"), "'soon' is not a date/time"),
    "missing required value": (lambda d: d.assign(status=[""] + list(d.status[1:])),
                               (1, "status"), "required value is empty"),
    "missing required column": (lambda d: d.drop(columns=["category"]),
                                (None, "category"), "required column is missing"),
    "closed before reported": (
        lambda d: d.assign(status="closed", closed_at="2020-01-01 00:00", satisfaction="5"),
        (1, "closed_at"), "is before reported_at"),
    "satisfaction out of range": (lambda d: d.assign(status="closed", satisfaction="6",
                                                     closed_at="2027-01-01 00:00"),
                                  (1, "satisfaction"), "out of range (must be ≥ 1 and ≤ 5)"),
    "status/closed_at mismatch": (lambda d: d.assign(status="handling",
                                                     closed_at="2027-01-01 00:00",
                                                     satisfaction=""),
                                  (1, "status"), "status is handling but closed_at is set"),
    "swapped lon/lat": (lambda d: d.assign(lon=d.lat, lat=d.lon), (1, "geometry"),
                        "longitude and latitude are swapped"),
    "outside the city": (lambda d: d.assign(lon=d.lon + 1.0), (1, "geometry"),
                         "outside the city's bounds"),
    "missing coordinates": (lambda d: d.assign(lon=[""] + list(d.lon[1:])), (1, "geometry"),
                            "missing or empty geometry"),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_each_error_class_is_reported_and_nothing_written(conn, city, tmp_path, name,
                                                          make_cases, write_csv):
    change, where, message = ERROR_CASES[name]
    errors = _errors(conn, city, "cases", write_csv(tmp_path, change(make_cases(3))))
    assert any((p.row, p.field) == where and message in p.reason for p in errors), errors
    assert _count(conn, "grid_case", city) == 0


def test_wrong_encoding_names_the_encoding(conn, city, tmp_path, make_cases):
    path = tmp_path / "gbk.csv"
    path.write_bytes(make_cases(3).assign(category="环境卫生").to_csv(index=False)
                     .encode("gb18030"))
    (p,) = _errors(conn, city, "cases", path)
    assert p.field == "encoding" and p.hint == Hint(option="encoding", value="gb18030")
    assert import_file(conn, city.code, "cases", path, encoding="gb18030").inserted == 3


def test_unknown_service_type_lists_allowed(conn, city, tmp_path, write_csv):
    df = pd.DataFrame({"external_id": ["P1"], "type": ["spaceport"], "name": ["x"],
                       "lon": [116.305], "lat": [39.995]})
    (p,) = _errors(conn, city, "service-points", write_csv(tmp_path, df))
    assert p.field == "type" and "courier_station" in p.reason and "parcel_station" in p.reason


def test_added_service_type_is_accepted(conn, city, tmp_path, write_csv):
    add_service_type(conn, "youth_station", name_zh="青年驿站", name_en="Youth station")
    assert ("youth_station", "青年驿站", "Youth station", False) in list_service_types(conn)
    df = pd.DataFrame({"external_id": ["P1"], "type": ["青年驿站"], "name": ["x"],
                       "services": ["wifi;water"], "lon": [116.305], "lat": [39.995]})
    import_file(conn, city.code, "service-points", write_csv(tmp_path, df))
    row = conn.execute(text("SELECT type, services FROM service_point WHERE city_id = :c"),
                       {"c": city.id}).one()
    assert tuple(row) == ("youth_station", ["wifi", "water"])
    assert "youth_station" in lookup_codes(conn)["service_type"]


def test_builtin_service_type_cannot_be_changed(conn):
    with pytest.raises(InvalidInputError, match="built-in"):
        add_service_type(conn, "red_station", name_zh="x", name_en="x")


def test_file_without_crs_needs_crs_option(conn, city, tmp_path, units):
    path = tmp_path / "streets.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(units["street"].set_crs(None, allow_override=True), path,
                                driver="GPKG")
    with pytest.raises(CRSError, match="no coordinate reference system"):
        import_file(conn, city.code, "streets", path)
    assert import_file(conn, city.code, "streets", path, crs="wgs84").inserted == 1


def test_projected_file_is_converted(conn, city, tmp_path, units):
    path = tmp_path / "streets.gpkg"
    pyogrio.write_dataframe(units["street"].to_crs(32650), path, driver="GPKG")
    import_file(conn, city.code, "streets", path)
    got = conn.execute(text("SELECT ST_XMin(geom), ST_YMax(geom) FROM street "
                            "WHERE city_id = :c"), {"c": city.id}).one()
    assert got[0] == pytest.approx(116.300, abs=1e-7) and got[1] == pytest.approx(40.0, abs=1e-7)


BOWTIE = Polygon([(116.301, 39.991), (116.303, 39.993), (116.303, 39.991), (116.301, 39.993)])


def test_invalid_geometry_rejected_then_repaired_with_flag(conn, city, tmp_path, units):
    import_file(conn, city.code, "streets", _units_file(tmp_path, units["street"]))
    import_file(conn, city.code, "communities", _units_file(tmp_path, units["community"]))
    grids = units["grid"].set_geometry([BOWTIE, units["grid"].geometry.iloc[1]], crs=4326)
    path = _units_file(tmp_path, grids, "grids.geojson")
    (p,) = _errors(conn, city, "grids", path)
    assert (p.row, p.field) == (1, "geometry") and "Self-intersection" in p.reason
    report = import_file(conn, city.code, "grids", path, repair=True)
    assert report.repaired == (1,) and report.inserted == 2
    assert any("repaired" in w for w in report.warnings)


def test_wrong_geometry_type_for_kind(conn, city, tmp_path):
    gdf = gpd.GeoDataFrame({"external_id": ["S1"], "name": ["x"]},
                           geometry=[Point(116.305, 39.995)], crs=4326)
    (p,) = _errors(conn, city, "streets", _units_file(tmp_path, gdf))
    assert "a street must be Polygon or MultiPolygon" in p.reason


def test_unknown_parent_is_reported(conn, city, tmp_path, units):
    (p,) = _errors(conn, city, "grids", _units_file(tmp_path, units["grid"].iloc[[0]]))
    assert (p.row, p.field) == (1, "community") and "unknown community 'C1'" in p.reason


def _units_file(tmp_path, gdf, name="units.geojson"):
    path = tmp_path / name
    write_file(gdf, path)
    return path


def test_grid_and_compound_imports_refresh_the_overlay(conn, city, tmp_path, units):
    for kind, key in (("streets", "street"), ("communities", "community"), ("grids", "grid"),
                      ("compounds", "compound")):
        import_file(conn, city.code, kind, _units_file(tmp_path, units[key], f"{key}.gpkg"))
    shares = conn.execute(text(
        "SELECT g.external_id, round(gc.resident_share::numeric, 3) FROM grid_compound gc "
        "JOIN grid g ON g.id = gc.grid_id WHERE g.city_id = :c ORDER BY 1"),
        {"c": city.id}).all()
    assert [(a, float(b)) for a, b in shares] == [("G1", 0.3), ("G2", 0.7)]


def test_too_large_file_is_refused(conn, city, tmp_path, make_cases, write_csv):
    path = write_csv(tmp_path, make_cases(50))
    small = replace(Settings(), max_upload_bytes=100)
    (p,) = _errors(conn, city, "cases", path, settings=small)
    assert p.field == "file" and "exceeds the limit" in p.reason


def test_unknown_city(conn, tmp_path, make_cases, write_csv):
    with pytest.raises(NotFoundError):
        import_file(conn, "atlantis", "cases", write_csv(tmp_path, make_cases(1)))


def test_excel_cases_with_field_map(conn, city, tmp_path, make_cases):
    df = make_cases(5).rename(columns={"external_id": "工单号", "category": "事件类型",
                                         "lon": "经度", "lat": "纬度"})
    path = tmp_path / "cases.xlsx"
    df.to_excel(path, index=False)
    report = import_file(conn, city.code, "cases", path, field_map={"事件类型": "category"})
    assert report.inserted == 5


# --- Chinese offset coordinates against the real Wudaokou streets ------------------------

def _points_on_streets(ext, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints of ``n`` random street edges well inside the extract's bounds."""
    lines = np.asarray(ext.edges.geometry.values, dtype=object)
    pts = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    pts = pts[shapely.within(pts, ext.bounds.buffer(-0.001))]
    pts = pts[np.random.default_rng(3).choice(len(pts), n, replace=False)]
    return shapely.get_x(pts), shapely.get_y(pts)


def _points_csv(tmp_path, x, y, name="points.csv"):
    df = pd.DataFrame({"external_id": [f"P{i}" for i in range(len(x))],
                       "type": "parcel_station", "name": "快递驿站", "lon": x, "lat": y})
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_gcj02_shifted_data_declared_wgs84_is_reported(conn, wdk_city, wudaokou, tmp_path):
    x, y = _points_on_streets(wudaokou)
    gx, gy = wgs84_to_gcj02(x, y)
    keep = (gx < wudaokou.bounds.bounds[2]) & (gy < wudaokou.bounds.bounds[3])
    errors = _errors(conn, wdk_city, "service-points",
                     _points_csv(tmp_path, gx[keep], gy[keep]))
    assert errors[0].field == "crs" and "GCJ02-shifted" in errors[0].reason
    assert errors[0].hint == Hint(option="crs", value="gcj02")


def test_gcj02_option_imports_within_half_a_metre(conn, wdk_city, wudaokou, tmp_path):
    x, y = _points_on_streets(wudaokou)
    gx, gy = wgs84_to_gcj02(x, y)
    report = import_file(conn, wdk_city.code, "service-points", _points_csv(tmp_path, gx, gy),
                         crs="gcj02")
    assert report.warnings == ("coordinates converted from gcj02 to WGS-84",)
    got = conn.execute(text("SELECT external_id, ST_X(geom), ST_Y(geom) FROM service_point "
                            "WHERE city_id = :c"), {"c": wdk_city.id}).all()
    idx = np.array([int(r[0][1:]) for r in got])
    d = GEOD.inv([r[1] for r in got], [r[2] for r in got], x[idx], y[idx])[2]
    assert len(got) == len(x) and np.max(d) < 0.5


def test_bd09_option_imports_within_half_a_metre(conn, wdk_city, wudaokou, tmp_path):
    x, y = _points_on_streets(wudaokou, 50)
    bx, by = wgs84_to_bd09(x, y)
    import_file(conn, wdk_city.code, "service-points", _points_csv(tmp_path, bx, by),
                crs="bd09")
    got = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM service_point WHERE city_id = :c "
                            "ORDER BY substr(external_id, 2)::int"), {"c": wdk_city.id}).all()
    d = GEOD.inv([r[0] for r in got], [r[1] for r in got], x, y)[2]
    assert np.max(d) < 0.5


def test_true_wgs84_points_are_not_reported(conn, wdk_city, wudaokou, tmp_path):
    x, y = _points_on_streets(wudaokou)
    report = import_file(conn, wdk_city.code, "service-points", _points_csv(tmp_path, x, y))
    assert report.inserted == len(x)


def test_wgs84_points_off_streets_are_not_reported(conn, wdk_city, wudaokou, tmp_path):
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = wudaokou.bounds.bounds
    x = x0 + 0.05 * (x1 - x0) + rng.random(300) * 0.9 * (x1 - x0)
    y = y0 + 0.05 * (y1 - y0) + rng.random(300) * 0.9 * (y1 - y0)
    assert import_file(conn, wdk_city.code, "service-points",
                       _points_csv(tmp_path, x, y)).inserted == 300


def test_gcj02_shifted_polygons_are_reported(conn, wdk_city, wudaokou, tmp_path):
    blocks = shapely.polygonize(np.asarray(wudaokou.edges.geometry.values, dtype=object))
    polys = [p for p in shapely.get_parts(blocks) if p.area > 1e-7][:40]
    gdf = gpd.GeoDataFrame({"external_id": [f"S{i}" for i in range(len(polys))],
                            "name": "街道"}, geometry=polys, crs=4326)
    from geo.crs.chinese import from_wgs84

    shifted = from_wgs84(gdf, "gcj02")
    inside = shifted.geometry.representative_point().within(box(*wudaokou.bounds.bounds))
    errors = _errors(conn, wdk_city, "streets", _units_file(tmp_path, shifted[inside]))
    assert errors[0].field == "crs" and errors[0].hint == Hint(option="crs", value="gcj02")


def test_csv_in_a_projected_crs_with_x_y_columns(conn, city, tmp_path, make_cases):
    df = make_cases(4)
    xy = gpd.GeoSeries(gpd.points_from_xy(df.lon, df.lat), crs=4326).to_crs(4547)  # CGCS2000 GK
    path = tmp_path / "projected.csv"
    df.drop(columns=["lon", "lat"]).assign(x=xy.x.round(3), y=xy.y.round(3)).to_csv(path,
                                                                                   index=False)
    errors = _errors(conn, city, "cases", path)  # read as WGS-84 by default
    assert all("not lon/lat degrees" in p.reason for p in errors if p.field == "geometry")
    import_file(conn, city.code, "cases", path, crs="EPSG:4547")
    got = conn.execute(text("SELECT external_id, ST_X(geom), ST_Y(geom) FROM grid_case "
                            "WHERE city_id = :c ORDER BY 1"), {"c": city.id}).all()
    d = GEOD.inv([r[1] for r in got], [r[2] for r in got], df.lon, df.lat)[2]
    assert np.max(d) < 0.01


# --- bad rows that used to be written, and imports that used to crash ---------------------

def _units(conn, city, tmp_path, units):
    for kind, key in (("streets", "street"), ("communities", "community")):
        import_file(conn, city.code, kind, _units_file(tmp_path, units[key], f"{key}.geojson"))


def _raw_geojson(tmp_path, features, name="bad.geojson", **top):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", **top, "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in features]}),
        encoding="utf-8")
    return path


def _compound(eid, geom, **props):
    return (shapely.geometry.mapping(geom),
            {"external_id": eid, "name": "小区", "community": "C1", "households": 10,
             "residents": 20, **props})


IN_CITY = box(116.301, 39.991, 116.302, 39.992)
HIGH = {  # name: (features, extra top-level members, expected (row, field), text)
    "unknown CRS": ([_compound("K1", IN_CITY)],
                    {"crs": {"type": "name",
                             "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}},
                    (None, "crs"), "EPSG::999999"),
    "multipolygon part outside": (
        [_compound("K1", IN_CITY),
         _compound("K2", shapely.MultiPolygon([box(116.303, 39.992, 116.308, 39.997),
                                                box(121.47, 31.23, 121.471, 31.231)]))],
        {}, (2, "geometry"), "outside the city's bounds"),
    "10°×10° compound": ([_compound("K1", box(111.0, 35.0, 121.0, 45.0))], {},
                          (1, "geometry"), "at most 5 km²"),
    "NUL in a name": ([_compound("K1", IN_CITY), _compound("K2", IN_CITY, name="幸福\u0000小区")],
                      {}, (2, "name"), "NUL"),
}


@pytest.mark.parametrize("name", list(HIGH))
def test_high_severity_bad_rows_are_rejected_and_nothing_changes(conn, city, tmp_path, units,
                                                                 name, checksums):
    _units(conn, city, tmp_path, units)
    features, top, where, text_ = HIGH[name]
    path = _raw_geojson(tmp_path, features, **top)
    before = checksums(conn)
    with pytest.raises(InvalidInputError) as exc:
        import_file(conn, city.code, "compounds", path)
    assert any((p.row, p.field) == where and text_ in p.reason for p in exc.value.errors), \
        exc.value.errors
    assert checksums(conn) == before


def test_unknown_crs_is_a_crs_error_naming_it_unless_given(conn, city, tmp_path, units):
    _units(conn, city, tmp_path, units)
    features, top, _, _ = HIGH["unknown CRS"]
    path = _raw_geojson(tmp_path, features, **top)
    with pytest.raises(CRSError, match="EPSG::999999"):
        import_file(conn, city.code, "compounds", path)
    assert import_file(conn, city.code, "compounds", path, crs="wgs84").inserted == 1


def test_huge_compound_no_longer_spreads_over_every_grid(conn, city, tmp_path, units):
    _units(conn, city, tmp_path, units)
    import_file(conn, city.code, "grids", _units_file(tmp_path, units["grid"], "grids.geojson"))
    path = _raw_geojson(tmp_path, [_compound("K1", box(111.0, 35.0, 121.0, 45.0))])
    errors = _errors(conn, city, "compounds", path)
    assert {(p.row, p.field) for p in errors} == {(1, "geometry")}
    assert _count(conn, "compound", city) == 0
    assert conn.execute(text("SELECT count(*) FROM grid_compound gc JOIN grid g ON "
                             "g.id = gc.grid_id WHERE g.city_id = :c"),
                        {"c": city.id}).scalar_one() == 0


NUMBERS = {
    "1e20 in an integer field": ("households", "1e20", "out of range"),
    "3000000000 in an integer field": ("residents", "3000000000", "≤ 2147483647"),
    "infinity": ("households", "inf", "not a finite number"),
}


@pytest.mark.parametrize("name", list(NUMBERS))
def test_numbers_that_used_to_crash_are_problems(conn, city, tmp_path, units, name, checksums):
    _units(conn, city, tmp_path, units)
    col, value, message = NUMBERS[name]
    df = pd.DataFrame({"external_id": ["K1", "K2"], "name": "小区", "community": "C1",
                       "households": ["10", "10"], "residents": ["20", "20"],
                       "geometry": [IN_CITY.wkt] * 2})
    df.loc[1, col] = value
    path = tmp_path / "k.csv"
    df.to_csv(path, index=False)
    before = checksums(conn)
    (p,) = _errors(conn, city, "compounds", path)
    assert (p.row, p.field) == (2, col) and message in p.reason
    assert checksums(conn) == before


def test_huge_candidate_cost_is_a_problem(conn, city, tmp_path):
    df = pd.DataFrame({"external_id": ["X1"], "cost": ["1e20"], "lon": [116.305],
                       "lat": [39.995]})
    path = tmp_path / "cand.csv"
    df.to_csv(path, index=False)
    (p,) = _errors(conn, city, "candidates", path)
    assert (p.row, p.field) == (1, "cost") and "out of range" in p.reason


def test_nul_in_a_csv_names_row_and_field(conn, city, tmp_path, checksums):
    path = tmp_path / "sp.csv"
    path.write_bytes(b"external_id,type,name,lon,lat\nP1,red_station,ok,116.301,39.991\n"
                     b"P2,red_station,a\x00b,116.302,39.992\n")
    before = checksums(conn)
    (p,) = _errors(conn, city, "service-points", path)
    assert (p.row, p.field) == (2, "name") and "U+0000" in p.reason
    assert checksums(conn) == before


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".csv"])
def test_3d_geometries_are_imported_2d_with_a_warning(conn, city, tmp_path, ext):
    gdf = gpd.GeoDataFrame({"external_id": ["P1"], "type": ["red_station"], "name": ["站"]},
                           geometry=[Point(116.305, 39.995, 48.5)], crs=4326)
    path = tmp_path / f"z{ext}"
    if ext == ".csv":
        path.write_text("external_id,type,name,geometry\nP1,red_station,站,"
                        "POINT Z (116.305 39.995 48.5)\n", encoding="utf-8")
    else:
        write_file(gdf, path)
    report = import_file(conn, city.code, "service-points", path)
    assert report.inserted == 1 and any("dropped the Z" in w for w in report.warnings)
    dims = conn.execute(text("SELECT ST_NDims(geom) FROM service_point WHERE city_id = :c"),
                        {"c": city.id}).scalar_one()
    assert dims == 2


@pytest.mark.parametrize("content", [b"", b"PAR1 truncated", b"\x9c\x01random bytes\xff" * 50])
def test_unreadable_geoparquet_is_one_problem(conn, city, tmp_path, content):
    path = tmp_path / "cases.parquet"
    path.write_bytes(content)
    (p,) = _errors(conn, city, "cases", path)
    assert p.field == "file" and p.reason in ("not a readable GeoParquet file",
                                              "the file is empty (0 bytes)")


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".csv", ".parquet", ".xlsx", ".zip"])
def test_files_without_rows_are_the_same_clear_error(conn, city, tmp_path, make_cases,
                                                     write_csv, ext):
    import_file(conn, city.code, "cases", write_csv(tmp_path, make_cases(3)))
    empty = tmp_path / f"empty{ext}"
    export_features(conn, city.code, "service-points", empty)  # none in this city
    (p,) = _errors(conn, city, "cases", empty)
    assert (p.row, p.field, p.reason) == (None, "file", "the file has no features/rows")


def test_two_layer_geopackage_needs_a_layer(conn, city, tmp_path, units):
    path = tmp_path / "units.gpkg"
    pyogrio.write_dataframe(units["street"], path, layer="streets")
    pyogrio.write_dataframe(units["community"], path, layer="communities")
    (p,) = _errors(conn, city, "streets", path)
    assert p.field == "layer" and "streets, communities" in p.reason
    assert _count(conn, "street", city) == 0
    assert import_file(conn, city.code, "streets", path, layer="streets").inserted == 1


def test_zip_bomb_is_refused_by_the_import(conn, city, tmp_path, units, checksums):
    write_file(units["street"], tmp_path / "s.shp")
    path = tmp_path / "streets.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for ext in (".shp", ".shx", ".prj", ".cpg"):
            zf.write(tmp_path / f"s{ext}", f"s{ext}")
        with zf.open("s.dbf", "w") as out:
            for _ in range(8):
                out.write(bytes(1 << 20))
    small = replace(Settings(), max_upload_bytes=1 << 20)  # may unpack to 4 MiB
    before = checksums(conn)
    (p,) = _errors(conn, city, "streets", path, settings=small)
    assert p.field == "file" and "uncompressed exceeds the limit" in p.reason
    assert checksums(conn) == before


# --- the offset check at small n: our own exported WGS-84 data re-imports ---------------

@pytest.fixture
def demo_wudaokou(conn):
    """City ``t-demo`` holding the demo Wudaokou: its street network, street, communities
    and grids (real OSM boundaries, WGS-84)."""
    demo = next(d for d in demo_cities() if d.code == "wudaokou")
    city = create_city(conn, "t-demo", name_zh=demo.name_zh, name_en=demo.name_en,
                       bounds=demo.bounds, metric_epsg=demo.metric_epsg)
    write_network(conn, city.id, demo.nodes, demo.edges)
    for kind in ("street", "community", "grid"):
        upsert_features(conn, kind, city.id, demo.layers[kind].drop(columns="source"))
    return city


@pytest.mark.parametrize(("kind", "rows"), [
    ("streets", [0]), ("communities", [0]), ("communities", [0, 1]),
    ("communities", [0, 1, 2]), ("grids", [0, 1, 2])])
def test_a_few_of_our_own_exported_wgs84_features_reimport(conn, demo_wudaokou, tmp_path,
                                                           kind, rows):
    exported = tmp_path / f"{kind}.geojson"
    export_features(conn, demo_wudaokou.code, kind, exported)
    path = tmp_path / f"some_{kind}.geojson"
    write_file(read_file(exported).frame.iloc[rows], path)
    report = import_file(conn, demo_wudaokou.code, kind, path)  # not "GCJ02-shifted"
    assert (report.inserted, report.updated) == (0, len(rows))


def test_too_few_shifted_features_are_not_a_test(conn, wdk_city, wudaokou, tmp_path):
    x, y = _points_on_streets(wudaokou, 9)  # GCJ-02-shifted, but only 9: not reported
    gx, gy = wgs84_to_gcj02(x, y)
    assert import_file(conn, wdk_city.code, "service-points",
                       _points_csv(tmp_path, gx, gy)).inserted == 9
