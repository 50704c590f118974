"""Exporting features and importing them back; the CLI prints every problem and exits 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from shapely.geometry import MultiPoint, Point
from sqlalchemy import text

from geo.errors import InvalidInputError
from geo.store.cities import create_city
from geo.store.exports import count_features, export_features, read_features
from geo.store.imports import import_file
from geo.store.write import upsert_features

FORMATS = [".geojson", ".gpkg", ".shp", ".zip", ".csv", ".parquet", ".xlsx"]


def _load_units(conn, city, units):
    for kind in ("street", "community", "grid"):
        upsert_features(conn, kind, city.id, units[kind])
    gated = units["compound"].assign(gates=[MultiPoint([(116.300, 39.995), (116.31, 39.995)])],
                                     elderly=[120])
    upsert_features(conn, "compound", city.id, gated)


@pytest.mark.parametrize("ext", FORMATS)
def test_cases_export_import_round_trip(conn, city, tmp_path, ext, make_cases, write_csv):
    import_file(conn, city.code, "cases", write_csv(tmp_path, make_cases(40)))
    before = read_features(conn, city.id, "cases")
    path = tmp_path / f"out{ext}"
    assert export_features(conn, city.code, "cases", path) == 40
    report = import_file(conn, city.code, "cases", path)
    assert (report.inserted, report.updated) == (0, 40)
    after = read_features(conn, city.id, "cases")
    pd.testing.assert_frame_equal(pd.DataFrame(before.drop(columns="geometry")),
                                  pd.DataFrame(after.drop(columns="geometry")))
    assert all(a.distance(b) < 1e-9 for a, b in zip(before.geometry, after.geometry,
                                                     strict=True))


@pytest.mark.parametrize("ext", [".gpkg", ".csv", ".zip", ".parquet"])
def test_compounds_with_gates_round_trip(conn, city, units, tmp_path, ext):
    _load_units(conn, city, units)
    before = read_features(conn, city.id, "compounds")
    path = tmp_path / f"compounds{ext}"
    export_features(conn, city.code, "compounds", path)
    report = import_file(conn, city.code, "compounds", path)
    assert (report.inserted, report.updated) == (0, 1)
    after = read_features(conn, city.id, "compounds")
    assert after["gates"].iloc[0].equals(before["gates"].iloc[0])
    assert after[["community", "households", "residents", "elderly",
                  "property_management"]].iloc[0].tolist() == ["C1", 300, 800, 120, "managed"]
    assert after.geometry.iloc[0].equals(before.geometry.iloc[0])


def test_geojson_export_is_lon_lat(conn, city, tmp_path):
    upsert_features(conn, "service_point", city.id, _point())
    path = tmp_path / "sp.geojson"
    export_features(conn, city.code, "service-points", path)
    feat = json.loads(path.read_text(encoding="utf-8"))["features"][0]
    assert feat["geometry"]["coordinates"] == [116.305, 39.995]
    assert feat["properties"]["services"] == "water;charging"


def _point():
    import geopandas as gpd

    return gpd.GeoDataFrame({"external_id": ["P1"], "type": ["courier_station"],
                             "name": ["小哥驿站"], "services": [["water", "charging"]]},
                            geometry=[Point(116.305, 39.995)], crs=4326)


@pytest.mark.parametrize("ext", FORMATS)
def test_candidates_export_import_round_trip(conn, city, tmp_path, ext):
    path = tmp_path / "cands.csv"
    pd.DataFrame({"external_id": ["X1", "X2"], "name": ["空置用房", ""], "kind": ["room", ""],
                  "cost": ["12000.5", ""], "capacity": ["", "30"],
                  "lon": [116.305, 116.306], "lat": [39.995, 39.996]}).to_csv(path, index=False)
    import_file(conn, city.code, "candidates", path)
    before = read_features(conn, city.id, "candidates")
    assert before["external_id"].tolist() == ["X1", "X2"]
    out = tmp_path / f"candidates{ext}"
    assert export_features(conn, city.code, "candidates", out) == 2
    report = import_file(conn, city.code, "candidates", out)
    assert (report.inserted, report.updated) == (0, 2)
    after = read_features(conn, city.id, "candidates")
    pd.testing.assert_frame_equal(pd.DataFrame(before.drop(columns="geometry")),
                                  pd.DataFrame(after.drop(columns="geometry")))
    assert count_features(conn, city.id, "candidates") == 2


@pytest.mark.parametrize("name", ["gpkg_cases.gpkg", "GPKG.gpkg", "sqlite_x.gpkg",
                                  "rtree_cases.gpkg"])
def test_export_to_a_geopackage_named_like_a_reserved_table(conn, city, tmp_path, name,
                                                            make_cases, write_csv):
    import_file(conn, city.code, "cases", write_csv(tmp_path, make_cases(3)))
    path = tmp_path / name
    assert export_features(conn, city.code, "cases", path) == 3
    assert import_file(conn, city.code, "cases", path).updated == 3


def test_export_to_unknown_format(conn, city, tmp_path):
    with pytest.raises(InvalidInputError, match="unknown file type"):
        export_features(conn, city.code, "cases", tmp_path / "x.kml")


# --- the command line ---------------------------------------------------------------------

def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    # the code of this checkout, even if the installed entry point belongs to another one
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, SERVICECIRCLE_DB_NAME=settings.db_name, PYTHONPATH=path)
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url(settings.db_name).replace(
            "postgresql+psycopg://", "postgresql://")
    exe = Path(sys.executable).with_name("servicecircle")
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def committed_city(engine):
    """A committed city for CLI tests (the CLI commits in its own connection)."""
    from shapely.geometry import box

    with engine.begin() as c:
        city = create_city(c, "t-cli", name_zh="命令行", name_en="CLI city",
                           bounds=box(116.300, 39.990, 116.312, 40.000))
    yield city
    with engine.begin() as c:
        c.execute(text("DELETE FROM city WHERE id = :c"), {"c": city.id})


def test_cli_prints_every_problem_and_exits_2(settings, engine, committed_city, tmp_path,
                                               make_cases, write_csv):
    df = make_cases(5)
    df.loc[1, "category"] = "noise"
    df.loc[3, "satisfaction"] = "9"
    df.loc[4, "lon"] = 117.5
    res = _cli(settings, "import", "cases", str(write_csv(tmp_path, df)), "--city", "t-cli")
    assert res.returncode == 2, res.stderr
    out = res.stderr
    assert "row 2, field 'category': unknown category 'noise'" in out
    assert "row 4, field 'satisfaction'" in out
    assert "row 5, field 'geometry'" in out and "outside the city" in out
    assert "Nothing was written." in out
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM grid_case WHERE city_id = :c"),
                         {"c": committed_city.id}).scalar() == 0


def test_cli_imports_dry_runs_and_exports(settings, engine, committed_city, tmp_path,
                                          make_cases, write_csv):
    path = write_csv(tmp_path, make_cases(7).rename(columns={"lon": "经度"}))
    dry = _cli(settings, "import", "cases", str(path), "--city", "t-cli", "--map", "经度=lon",
               "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "7 would be inserted" in dry.stderr
    res = _cli(settings, "import", "cases", str(path), "--city", "t-cli", "--map", "经度=lon")
    assert res.returncode == 0 and "7 were inserted" in res.stderr
    out = tmp_path / "cases.geojson"
    exp = _cli(settings, "export", "cases", str(out), "--city", "t-cli")
    assert exp.returncode == 0, exp.stderr
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 7


def test_cli_reports_unreadable_files_and_layers_without_a_traceback(settings, engine,
                                                                     committed_city, tmp_path):
    bad = tmp_path / "cases.parquet"
    bad.write_bytes(b"PAR1 not really")
    res = _cli(settings, "import", "cases", str(bad), "--city", "t-cli")
    assert res.returncode == 2, res.stderr
    assert "not a readable GeoParquet file" in res.stderr and "Traceback" not in res.stderr
    gpkg = tmp_path / "points.gpkg"
    for layer, eid in (("first", "P1"), ("second", "P2")):
        gdf = _point().drop(columns="services").assign(external_id=[eid])
        pyogrio.write_dataframe(gdf, gpkg, layer=layer)
    res = _cli(settings, "import", "service-points", str(gpkg), "--city", "t-cli")
    assert res.returncode == 2 and "first, second; choose one; use --layer first" in res.stderr
    res = _cli(settings, "import", "service-points", str(gpkg), "--city", "t-cli",
               "--layer", "second", "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "1 would be inserted" in res.stderr


def test_cli_types_add_and_list(settings, engine):
    try:
        add = _cli(settings, "types", "add", "youth_station", "--zh", "青年驿站", "--en",
                   "Youth station")
        assert add.returncode == 0, add.stderr
        listed = _cli(settings, "types", "list")
        assert listed.returncode == 0
        assert "youth_station" in listed.stderr and "青年驿站" in listed.stderr
        bad = _cli(settings, "types", "add", "Bad Code", "--zh", "x", "--en", "x")
        assert bad.returncode == 2 and "lower-case" in bad.stderr
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM service_type WHERE code = 'youth_station'"))
