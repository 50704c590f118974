"""Gates inferred from OSM: tagged gate nodes near the outline, walkable ways crossing it."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.network.gates import infer_gates
from geo.network.osm import read_osm
from tests.geo.network.test_walkable import LAT0, LON0, STEP, osm_file

EPSG = 32650


def compound(x0: float, y0: float, x1: float, y1: float) -> gpd.GeoDataFrame:
    """A rectangular compound in grid steps (as the nodes of ``osm_file``)."""
    poly = shapely.box(LON0 + x0 * STEP, LAT0 + y0 * STEP, LON0 + x1 * STEP, LAT0 + y1 * STEP)
    return gpd.GeoDataFrame({"id": [1]}, geometry=[poly], crs=4326)


def infer(tmp_path, nodes, ways, extra: str = "") -> gpd.GeoDataFrame:
    path = osm_file(tmp_path, nodes, ways)
    if extra:
        path.write_text(path.read_text(encoding="utf-8").replace("</osm>", extra + "</osm>"),
                        encoding="utf-8")
    x = read_osm(path)
    return infer_gates(compound(1, 1, 3, 3), x.gate_points, x.edges, metric_epsg=EPSG)


# a service road entering the compound from the south, through node 2 on the outline
NODES = {1: (2.0, 0.0), 2: (2.0, 1.0), 3: (2.0, 2.0), 9: (0.0, 0.0), 10: (4.0, 0.0)}
ROAD = (1, [9, 1, 10], {"highway": "primary"})


def test_tagged_gate_node_on_the_outline(tmp_path):
    lat, lon = LAT0 + 1.0 * STEP, LON0 + 2.0 * STEP
    gate = (f'<node id="50" lat="{lat + 0.00005:.7f}" lon="{lon:.7f}">'  # ≈ 5.5 m inside
            '<tag k="barrier" v="gate"/></node>')
    g = infer(tmp_path, NODES, [ROAD, (2, [1, 2, 3], {"highway": "service"})], gate)
    assert (g["n_tagged"].iloc[0], g["n_crossing"].iloc[0]) == (1, 0)  # crossing merged
    pt = g.geometry.iloc[0].geoms[0]
    assert (pt.x, pt.y) == pytest.approx((lon, lat + 0.00005))


def test_footway_crossing_the_outline_is_a_gate(tmp_path):
    nodes = {**NODES, 4: (2.0, 0.5)}
    g = infer(tmp_path, nodes, [ROAD, (2, [1, 4, 3], {"highway": "footway"})])
    assert (g["n_tagged"].iloc[0], g["n_crossing"].iloc[0]) == (0, 1)
    pt = g.geometry.iloc[0].geoms[0]
    assert (pt.x, pt.y) == pytest.approx((LON0 + 2 * STEP, LAT0 + 1 * STEP), abs=1e-7)  # ≈ 1 cm


def test_major_road_crossing_is_not_a_gate(tmp_path):
    nodes = {9: (0.0, 2.0), 10: (4.0, 2.0)}
    g = infer(tmp_path, nodes, [(1, [9, 10], {"highway": "primary"})])
    assert g.geometry.iloc[0] is None and g["n_crossing"].iloc[0] == 0


def test_locked_and_far_gates_are_ignored(tmp_path):
    far = f'<node id="51" lat="{LAT0:.7f}" lon="{LON0:.7f}"><tag k="barrier" v="gate"/></node>'
    locked = (f'<node id="52" lat="{LAT0 + STEP:.7f}" lon="{LON0 + 2 * STEP:.7f}">'
              '<tag k="barrier" v="gate"/><tag k="locked" v="yes"/></node>')
    emergency = (f'<node id="53" lat="{LAT0 + 3 * STEP:.7f}" lon="{LON0 + 2 * STEP:.7f}">'
                 '<tag k="entrance" v="emergency"/></node>')
    g = infer(tmp_path, NODES, [ROAD], far + locked + emergency)
    assert g.geometry.iloc[0] is None


def test_entrance_node_counts(tmp_path):
    main = (f'<node id="54" lat="{LAT0 + 3 * STEP:.7f}" lon="{LON0 + 2 * STEP:.7f}">'
            '<tag k="entrance" v="main"/></node>')
    path = osm_file(tmp_path, NODES, [ROAD])
    path.write_text(path.read_text(encoding="utf-8").replace("</osm>", main + "</osm>"),
                    encoding="utf-8")
    x = read_osm(path)
    assert x.gate_points["kind"].tolist() == ["entrance=main"]
    g = infer_gates(compound(1, 1, 3, 3), x.gate_points, x.edges, metric_epsg=EPSG)
    assert g["n_tagged"].iloc[0] == 1


def test_wudaokou_compounds_get_gates_from_osm():
    from geo.settings import PROJECT_ROOT

    x = read_osm(PROJECT_ROOT / "data" / "osm" / "wudaokou_2017.osm")
    g = infer_gates(x.residential_areas, x.gate_points, x.edges, metric_epsg=EPSG)
    with_gates = g.geometry.notna()
    assert with_gates.sum() >= 3
    # every inferred gate lies on (or within 15 m of) its compound's outline
    outline = x.residential_areas.to_crs(EPSG).boundary
    for i in g.index[with_gates]:
        pts = gpd.GeoSeries([g.geometry[i]], crs=4326).to_crs(EPSG).explode()
        assert (pts.distance(outline[i]) <= 15.0).all()
