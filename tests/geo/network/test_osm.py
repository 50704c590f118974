"""Reading OpenStreetMap extracts; expected figures from data/osm/*.PROVENANCE.md."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from geo.errors import InvalidInputError
from geo.network.osm import OsmExtract, is_rideable, read_osm
from geo.network.walkable import is_walkable
from geo.settings import PROJECT_ROOT

OSM = PROJECT_ROOT / "data" / "osm"
TINY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 {bounds}
 <node id="1" lat="40.0000" lon="116.3000"/>
 <node id="2" lat="40.0000" lon="116.3010"/>
 <node id="3" lat="40.0000" lon="116.3020"/>
 <node id="4" lat="40.0010" lon="116.3010"/>
 <node id="5" lat="40.0000" lon="116.3100"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/>
  <tag k="name" v="测试路"/></way>
 <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="footway"/></way>
 <way id="12"><nd ref="3"/><nd ref="5"/><tag k="highway" v="motorway"/></way>
 <way id="13"><nd ref="1"/><nd ref="4"/><tag k="building" v="yes"/></way>
</osm>
"""


@cache
def guixi() -> OsmExtract:
    return read_osm(OSM / "guixi_2024.osm")


@cache
def wudaokou() -> OsmExtract:
    return read_osm(OSM / "wudaokou_2017.osm")


def write_tiny(tmp_path: Path, bounds: str = '<bounds minlat="39.99" minlon="116.29" '
               'maxlat="40.01" maxlon="116.305"/>') -> Path:
    p = tmp_path / "tiny.osm"
    p.write_text(TINY.format(bounds=bounds), encoding="utf-8")
    return p


def test_guixi_has_sixteen_named_communities():
    p = guixi().places
    names = p.loc[p["place"] == "quarter", "name"]
    assert len(names) == 16 and names.str.endswith("社区").all()


def test_guixi_only_dongmen_boundary_closes():
    x = guixi()
    assert x.admin_boundaries["name"].tolist() == ["东门街道"]
    assert {"花园街道", "雄石街道"} <= set(x.incomplete_boundaries)
    assert x.admin_boundaries.geometry.iloc[0].is_valid


def test_wudaokou_residential_polygons():
    r = wudaokou().residential_areas
    assert sorted(r["name"]) == sorted(["新林院", "荷清苑教师住宅区", "西院", "西王庄小区",
                                        "清华大学西北小区", "华清嘉园小区"])


def test_wudaokou_postal_points():
    kinds = wudaokou().postal_points["kind"].value_counts().to_dict()
    assert kinds == {"post_office": 4, "post_box": 1}


def test_edges_reference_nodes_and_are_flagged():
    x = wudaokou()
    assert set(x.edges["u"]) | set(x.edges["v"]) <= set(x.nodes["node_id"])
    assert (x.edges["walk"] | x.edges["ride"]).all()
    assert x.edges["edge_id"].is_unique and x.nodes["node_id"].is_unique


def test_cycleways_ride_only_unless_shared_footways_walk_only():
    e = wudaokou().edges
    cycle = e[e["highway"] == "cycleway"]
    assert cycle["walk"].tolist() == (cycle["walk_rule"] == "cycleway_foot").tolist()
    assert (cycle["walk_rule"] == "cycleway").sum() > 50
    assert e.loc[e["highway"] == "cycleway", "ride"].all()
    assert not e.loc[e["highway"] == "footway", "ride"].any()


def test_mode_rules():
    assert not is_walkable({"highway": "trunk"})
    assert not is_walkable({"highway": "residential", "access": "private"})
    assert is_rideable({"highway": "footway", "bicycle": "yes"})
    assert not is_rideable({"highway": "motorway"})


def test_reading_is_deterministic():
    a = read_osm(OSM / "guixi_2024.osm")
    b = read_osm(OSM / "guixi_2024.osm")
    assert a.edges.equals(b.edges) and a.nodes.equals(b.nodes)


def test_tiny_file_split_at_intersection(tmp_path):
    x = read_osm(write_tiny(tmp_path))
    # way 10 split at node 2 (footway joins), footway kept, motorway and building ignored
    assert sorted(x.edges[["u", "v"]].values.tolist()) == [[1, 2], [2, 3], [2, 4]]
    seg = x.edges.set_index(["u", "v"]).loc[(1, 2)]
    assert seg["length_m"] == pytest.approx(85.4, abs=0.5)  # 0.001° lon at 40°N
    assert seg["name"] == "测试路"


def test_bbox_keeps_edges_with_one_end_inside(tmp_path):
    x = read_osm(write_tiny(tmp_path), bbox=(116.2995, 39.9995, 116.3005, 40.0005))
    assert x.edges[["u", "v"]].values.tolist() == [[1, 2]]


def test_no_bounds_and_no_bbox_is_an_error(tmp_path):
    with pytest.raises(InvalidInputError, match="bbox"):
        read_osm(write_tiny(tmp_path, bounds=""))


def test_bad_bbox(tmp_path):
    with pytest.raises(InvalidInputError):
        read_osm(write_tiny(tmp_path), bbox=(116.4, 40.0, 116.3, 40.1))


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="not found"):
        read_osm(tmp_path / "nope.osm")


def test_not_an_osm_file(tmp_path):
    p = tmp_path / "bad.osm"
    p.write_text("this is not xml at all", encoding="utf-8")
    with pytest.raises(InvalidInputError):
        read_osm(p)


def test_truncated_osm_file(tmp_path):
    p = tmp_path / "cut.osm"
    p.write_bytes((OSM / "wudaokou_2017.osm").read_bytes()[:5000])
    with pytest.raises(InvalidInputError):
        read_osm(p)


def test_pbf_reads_like_xml(tmp_path):
    import osmium

    src = write_tiny(tmp_path)
    dst = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(dst)) as w:
        for obj in osmium.FileProcessor(str(src)):
            w.add(obj)
    x = read_osm(dst, bbox=(116.29, 39.99, 116.305, 40.01))
    assert len(x.edges) == 3
