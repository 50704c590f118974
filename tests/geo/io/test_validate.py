"""Validation of imported features: every problem collected, then raised once."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, box

from geo.crs.chinese import from_wgs84
from geo.errors import CRSError, Hint, InvalidInputError
from geo.io.files import resolve_crs
from geo.io.validate import validate_features

BOUNDS = box(116.300, 39.990, 116.312, 40.000)
CODES = {"case_category": {"sanitation": ("环境卫生", "Sanitation"),
                           "dispute": ("矛盾纠纷", "Dispute")},
         "service_type": {"courier_station": ("小哥驿站", "Courier rest station")}}
BOWTIE = Polygon([(116.301, 39.991), (116.303, 39.993), (116.303, 39.991), (116.301, 39.993)])


def _cases(**cols):
    base = {"external_id": ["A", "B"], "category": ["sanitation", "dispute"],
            "reported_at": ["2026-03-01 09:00", "2026-03-02 10:00"],
            "closed_at": ["2026-03-01 12:00", None], "status": ["closed", "handling"],
            "satisfaction": [5, None]}
    base.update(cols)
    return gpd.GeoDataFrame(base, geometry=[Point(116.301, 39.991), Point(116.305, 39.995)],
                            crs=4326)


def _problems(gdf, kind="grid_case", **kw):
    with pytest.raises(InvalidInputError) as exc:
        validate_features(gdf, kind, codes=CODES, bounds=BOUNDS, **kw)
    return [(p.row, p.field, p.reason) for p in exc.value.errors]


def test_valid_cases_are_typed():
    v = validate_features(_cases(), "grid_case", codes=CODES, bounds=BOUNDS)
    f = v.frame
    assert f["reported_at"].iloc[0] == pd.Timestamp("2026-03-01 01:00", tz="UTC")  # CST = UTC+8
    assert pd.isna(f["closed_at"].iloc[1])
    assert f["satisfaction"].tolist()[0] == 5 and pd.isna(f["satisfaction"].iloc[1])


def test_chinese_category_and_status_names_become_codes():
    v = validate_features(_cases(category=["环境卫生", "Dispute"], status=["已办结", "处理中"]),
                          "grid_case", codes=CODES, bounds=BOUNDS)
    assert v.frame["category"].tolist() == ["sanitation", "dispute"]
    assert v.frame["status"].tolist() == ["closed", "handling"]


def test_unknown_category_lists_allowed_codes():
    ((row, field, reason),) = _problems(_cases(category=["sanitation", "noise"]))
    assert (row, field) == (2, "category")
    assert "unknown category 'noise'; allowed: dispute, sanitation" in reason


def test_every_problem_is_collected():
    gdf = _cases(external_id=["A", "A"], satisfaction=[9, None],
                 reported_at=["2026-03-01 09:00", "yesterday"])
    probs = _problems(gdf)
    assert {(r, f) for r, f, _ in probs} == {(1, "satisfaction"), (2, "external_id"),
                                            (2, "reported_at")}


def test_closed_before_reported():
    probs = _problems(_cases(closed_at=["2026-02-28 12:00", None]))
    assert probs[0][:2] == (1, "closed_at") and "before reported_at" in probs[0][2]


def test_status_closed_without_closed_at():
    probs = _problems(_cases(closed_at=[None, None]))
    assert probs == [(1, "closed_at", "status is closed but closed_at is empty")]


def test_closed_at_with_open_status():
    probs = _problems(_cases(closed_at=["2026-03-01 12:00", "2026-03-03 12:00"]))
    assert [(r, f) for r, f, _ in probs] == [(2, "status")]


def test_missing_required_column_and_value():
    gdf = _cases(status=["closed", None]).drop(columns=["category"])
    probs = _problems(gdf)
    assert (None, "category", "required column is missing") in probs
    assert (2, "status", "required value is empty") in probs


def test_wrong_types_for_compounds():
    gdf = gpd.GeoDataFrame({"external_id": ["K1", "K2"], "name": ["甲", "乙"],
                            "households": ["many", 12.5], "residents": [10, 20]},
                           geometry=[box(116.301, 39.991, 116.302, 39.992)] * 2, crs=4326)
    probs = _problems(gdf, "compound")
    assert (1, "households", "'many' is not a number") in probs
    assert (2, "households", "12.5 is not a whole number") in probs


def test_swapped_lon_lat_is_recognised():
    gdf = _cases().set_geometry([Point(39.991, 116.301), Point(116.305, 39.995)], crs=4326)
    ((row, field, reason),) = _problems(gdf)
    assert (row, field) == (1, "geometry") and "swapped" in reason


def test_outside_the_city():
    gdf = _cases().set_geometry([Point(116.301, 39.991), Point(116.5, 39.995)], crs=4326)
    ((row, _, reason),) = _problems(gdf)
    assert row == 2 and "outside the city's bounds" in reason


def test_invalid_geometry_rejected_without_repair():
    gdf = gpd.GeoDataFrame({"external_id": ["G1"], "name": ["网格"]}, geometry=[BOWTIE],
                           crs=4326)
    with pytest.raises(InvalidInputError) as exc:
        validate_features(gdf, "grid", codes=CODES, bounds=BOUNDS)
    (p,) = exc.value.errors
    assert p.field == "geometry" and "Self-intersection" in p.reason
    assert p.hint == Hint(option="repair")  # the CLI says --repair, the API ?repair=true


def test_invalid_geometry_repaired_when_asked():
    gdf = gpd.GeoDataFrame({"external_id": ["G1"], "name": ["网格"]}, geometry=[BOWTIE],
                           crs=4326)
    v = validate_features(gdf, "grid", bounds=BOUNDS, repair=True)
    assert v.repaired == (1,) and v.frame.geometry.iloc[0].is_valid
    # make_valid splits the bow tie into its two triangles (each a quarter of the box)
    assert v.frame.geometry.iloc[0].area == pytest.approx(0.002 * 0.002 / 2)
    assert any("repaired" in w for w in v.warnings)


def test_empty_geometry_and_wrong_type():
    gdf = _cases().set_geometry([Point(), box(116.301, 39.991, 116.302, 39.992)], crs=4326)
    probs = _problems(gdf)
    assert [(r, f) for r, f, _ in probs] == [(1, "geometry"), (2, "geometry")]
    assert "a grid_case must be Point" in probs[1][2]


def test_unknown_parent():
    gdf = gpd.GeoDataFrame({"external_id": ["G1"], "name": ["网格"], "community": ["X"]},
                           geometry=[box(116.301, 39.991, 116.302, 39.992)], crs=4326)
    probs = _problems(gdf, "grid", parents={"C1"})
    assert probs == [(1, "community", "unknown community 'X' (no such community in this city)")]


def test_chinese_column_names_are_recognised():
    gdf = gpd.GeoDataFrame({"编号": ["K1"], "名称": ["小区"], "户数": ["300"], "人口": [800],
                            "物业": ["无物业"], "备注": ["x"]},
                           geometry=[box(116.301, 39.991, 116.302, 39.992)], crs=4326)
    v = validate_features(gdf, "compound", bounds=BOUNDS)
    row = v.frame.iloc[0]
    assert (row["external_id"], row["households"], row["property_management"]) == \
        ("K1", 300, "unmanaged")
    assert v.warnings == ("ignored columns: 备注",)


def test_file_without_crs_needs_one():
    gdf = gpd.GeoDataFrame(geometry=[Point(1, 2)])
    with pytest.raises(CRSError, match="no coordinate reference system"):
        resolve_crs(gdf, file_crs=None, tabular=False)


def test_unknown_crs_option():
    with pytest.raises(CRSError, match="unknown CRS"):
        resolve_crs(gpd.GeoDataFrame(geometry=[Point(1, 2)]), file_crs=None, tabular=True,
                    crs="mars")


def test_projected_crs_is_converted():
    pt = gpd.GeoSeries([Point(116.305, 39.995)], crs=4326).to_crs(32650)
    gdf = gpd.GeoDataFrame(geometry=pt.values, crs=None)
    out = resolve_crs(gdf, file_crs=None, tabular=False, crs="EPSG:32650")
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].distance(Point(116.305, 39.995)) < 1e-8


def test_conflicting_crs_is_an_error():
    with pytest.raises(CRSError, match="differs"):
        resolve_crs(gpd.GeoDataFrame(geometry=[Point(1, 2)]), file_crs=CRS.from_epsg(32650),
                    tabular=False, crs="EPSG:4547")


def test_gcj02_option_converts_to_wgs84():
    wgs = gpd.GeoDataFrame(geometry=[Point(116.305, 39.995)], crs=4326)
    gcj = from_wgs84(wgs, "gcj02")
    out = resolve_crs(gcj, file_crs=CRS.from_epsg(4326), tabular=False, crs="gcj02")
    assert out.geometry.iloc[0].distance(Point(116.305, 39.995)) < 1e-8


def test_projected_coordinates_declared_as_lon_lat():
    gdf = _cases().set_geometry([Point(440000, 4427000), Point(116.305, 39.995)], crs=4326)
    ((row, _, reason),) = _problems(gdf)
    assert row == 1 and "not lon/lat degrees" in reason


def test_crs_option_overrides_geojsons_implicit_wgs84():
    pt = gpd.GeoSeries([Point(116.305, 39.995)], crs=4326).to_crs(4547)
    gdf = gpd.GeoDataFrame(geometry=pt.values, crs=None)
    out = resolve_crs(gdf, file_crs=CRS.from_user_input("OGC:CRS84"), tabular=False,
                      crs="EPSG:4547")
    assert out.geometry.iloc[0].distance(Point(116.305, 39.995)) < 1e-8


# --- every part of every geometry, plausible sizes, text, numbers, 3-D ---------------------

def _compounds(geoms, **cols):
    base = {"external_id": [f"K{i}" for i in range(len(geoms))], "name": "小区",
            "households": 10, "residents": 20}
    base.update(cols)
    return gpd.GeoDataFrame(base, geometry=geoms, crs=4326)


def test_multipolygon_with_a_part_far_outside_the_city_is_rejected():
    # the larger part in the city (the representative point is there), one in Shanghai
    split = MultiPolygon([box(116.303, 39.992, 116.308, 39.997),
                          box(121.47, 31.23, 121.471, 31.231)])
    probs = _problems(_compounds([box(116.301, 39.991, 116.302, 39.992), split]), "compound")
    assert [(r, f) for r, f, _ in probs] == [(2, "geometry")]
    assert "outside the city's bounds" in probs[0][2] and "121.471" in probs[0][2]


def test_huge_compound_covering_the_city_is_rejected():
    huge = box(111.0, 35.0, 121.0, 45.0)  # 10° × 10°, the city inside it
    probs = _problems(_compounds([huge]), "compound")
    assert {(r, f) for r, f, _ in probs} == {(1, "geometry")}
    # it overlaps the city, so the bounds rule lets it pass; its size does not
    assert any("km²" in p and "at most 5 km²" in p for _, _, p in probs)


def test_polygon_larger_than_its_kind_inside_a_large_city():
    big_city = box(116.0, 39.5, 117.0, 40.5)
    gdf = _compounds([box(116.301, 39.991, 116.302, 39.992), box(116.2, 39.8, 116.3, 39.9)])
    with pytest.raises(InvalidInputError) as exc:
        validate_features(gdf, "compound", bounds=big_city)
    (p,) = exc.value.errors
    assert (p.row, p.field) == (2, "geometry") and "compound" in p.reason
    assert "km²" in p.reason  # ≈ 94 km²
    # the same polygon is a plausible community
    comm = gdf.drop(columns=["households", "residents"])
    assert len(validate_features(comm, "community", bounds=big_city).frame) == 2


def test_features_overhanging_the_city_edge_a_little_are_accepted():
    over = box(116.311, 39.991, 116.3145, 39.993)  # ≈ 200 m past the eastern edge
    v = validate_features(_compounds([over]), "compound", bounds=BOUNDS)
    assert len(v.frame) == 1


@pytest.mark.parametrize("bad", ["ab\x00cd", "ab\x01cd", "\x1b[31mred", "x\x7f", "x\x85"])
def test_control_characters_in_text_are_problems(bad):
    gdf = _cases(handling_unit=["城管", bad], description=["ok\n第二行\tTab", "ok"])
    ((row, field, reason),) = _problems(gdf)
    assert (row, field) == (2, "handling_unit") and "control character U+00" in reason


def test_control_characters_in_ids_codes_and_lists_are_problems():
    gdf = _cases(external_id=["A\x00", "B"], category=["sanitation", "dis\x00pute"])
    probs = _problems(gdf)
    assert {(r, f) for r, f, _ in probs} == {(1, "external_id"), (2, "category")}
    assert all("U+0000" in p for _, _, p in probs)
    sp = gpd.GeoDataFrame({"external_id": ["P1"], "type": ["courier_station"], "name": ["站"],
                           "services": [["water", "wi\x00fi"]]},
                          geometry=[Point(116.301, 39.991)], crs=4326)
    assert [(r, f) for r, f, _ in _problems(sp, "service_point")] == [(1, "services")]


@pytest.mark.parametrize(("kind", "col", "value", "message"), [
    ("compound", "households", "3000000000", "out of range (must be ≥ 0 and ≤ 2147483647)"),
    ("compound", "residents", 1e20, "out of range"),
    ("compound", "households", "inf", "is not a finite number"),
    ("compound", "residents", "nan", "is not a finite number"),
    ("service_point", "floor_area_m2", "1e20", "out of range (must be ≥ 1e-09 and ≤ 1000000)"),
    ("service_point", "capacity", 2**40, "out of range"),
    ("siting_candidate", "cost", 1e20, "out of range"),
    ("siting_candidate", "capacity", "-inf", "is not a finite number"),
])
def test_numbers_out_of_range_or_not_finite(kind, col, value, message):
    geom = (box(116.301, 39.991, 116.302, 39.992) if kind == "compound"
            else Point(116.301, 39.991))
    base = {"compound": {"name": "小区", "households": 10, "residents": 20},
            "service_point": {"type": "courier_station", "name": "站"},
            "siting_candidate": {}}[kind]
    gdf = gpd.GeoDataFrame({"external_id": ["X1"], **{k: [v] for k, v in base.items()},
                            col: [value]}, geometry=[geom], crs=4326)
    ((row, field, reason),) = _problems(gdf, kind)
    assert (row, field) == (1, col) and message in reason


def test_infinite_external_id_is_a_problem():
    probs = _problems(_cases(external_id=[float("inf"), "B"]))
    assert [(r, f) for r, f, _ in probs] == [(1, "external_id")]


def test_3d_geometries_are_stored_2d_with_a_warning():
    poly = Polygon([(116.301, 39.991, 50), (116.302, 39.991, 50), (116.302, 39.992, 55)])
    gdf = _compounds([box(116.303, 39.991, 116.304, 39.992), poly],
                     gates=[None, Point(116.3015, 39.9912, 50)])
    v = validate_features(gdf, "compound", bounds=BOUNDS)
    assert not v.frame.geometry.has_z.any() and not v.frame["gates"].has_z.any()
    assert any("dropped the Z" in w and "row(s) 2" in w for w in v.warnings)


def test_non_finite_coordinates_are_problems():
    gdf = _cases().set_geometry([Point(116.301, float("inf")), Point(116.305, 39.995)],
                                crs=4326)
    ((row, field, reason),) = _problems(gdf)
    assert (row, field) == (1, "geometry") and "not finite" in reason


def test_gates_outside_the_city_are_problems():
    gdf = _compounds([box(116.301, 39.991, 116.302, 39.992)],
                     gates=[MultiPoint([(116.3015, 39.991), (121.47, 31.23)])])
    assert [(r, f) for r, f, _ in _problems(gdf, "compound")] == [(1, "gates")]


def test_unknown_crs_declared_by_the_file_is_named():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.305, 39.995)])
    with pytest.raises(CRSError, match="EPSG::999999") as exc:
        resolve_crs(gdf, file_crs=None, tabular=False, unknown_crs="urn:ogc:def:crs:EPSG::999999")
    assert exc.value.errors[0].field == "crs"
    out = resolve_crs(gdf, file_crs=None, tabular=False, crs="wgs84",
                      unknown_crs="urn:ogc:def:crs:EPSG::999999")  # the user says which
    assert out.crs.to_epsg() == 4326


# --- polygons reaching beyond the city's OpenStreetMap bounds ---------------------------


def _grids(geoms):
    return gpd.GeoDataFrame({"external_id": [f"G{i}" for i in range(1, len(geoms) + 1)],
                             "name": "网格"}, geometry=geoms, crs=4326)


def test_polygon_reaching_beyond_the_bounds_is_imported_with_a_warning_naming_it():
    inside = box(116.301, 39.991, 116.303, 39.993)
    overhang = box(116.308, 39.995, 116.330, 40.010)  # ~1.5 km past the north-east corner
    v = validate_features(_grids([inside, overhang]), "grid", bounds=BOUNDS)
    assert len(v.frame) == 2 and v.frame.geometry.iloc[1].equals(overhang)  # kept as is
    (note,) = [w for w in v.warnings if "beyond" in w]
    assert "1 polygon(s)" in note and "row 2 (id G2)" in note and "G1" not in note


def test_polygon_wholly_outside_the_bounds_is_rejected():
    away = box(116.330, 40.010, 116.335, 40.015)  # ~2 km beyond the margin
    probs = _problems(_grids([box(116.301, 39.991, 116.303, 39.993), away]), "grid")
    assert [(r, f) for r, f, _ in probs] == [(2, "geometry")]
    assert "wholly outside the city's bounds" in probs[0][2]


def test_points_keep_the_margin_rule():
    # 300 m beyond the bounds is inside the ≈ 500 m margin; 1.5 km is not
    near, far = Point(116.3155, 39.995), Point(116.330, 39.995)
    v = validate_features(_cases().set_geometry([Point(116.301, 39.991), near], crs=4326),
                          "grid_case", codes=CODES, bounds=BOUNDS)
    assert len(v.frame) == 2 and not any("beyond" in w for w in v.warnings)
    probs = _problems(_cases().set_geometry([Point(116.301, 39.991), far], crs=4326))
    assert [(r, f) for r, f, _ in probs] == [(2, "geometry")]


def test_chinese_and_english_labels_of_codes_are_accepted_and_stored_as_codes():
    v = validate_features(_cases(category=["环境卫生", " DISPUTE "]), "grid_case", codes=CODES,
                          bounds=BOUNDS)
    assert v.frame["category"].tolist() == ["sanitation", "dispute"]


def test_a_misspelt_category_is_rejected_with_a_suggestion():
    probs = _problems(_cases(category=["sanitaton", "dispute"]))
    assert probs[0][:2] == (1, "category") and "did you mean sanitation (环境卫生)?" in probs[0][2]
