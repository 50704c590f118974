"""Basemap features read from the demo extracts, checked against a plain XML reading."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from geo.basemap import BASEMAP_LAYERS, read_basemap
from geo.demo import OSM_DIR
from geo.errors import InvalidInputError

WUDAOKOU = OSM_DIR / "wudaokou_2017.osm"


def _xml(path: Path) -> tuple[tuple[float, float, float, float], dict[int, tuple[float, float]],
                               list[tuple[int, dict[str, str], list[int]]]]:
    root = ET.parse(path).getroot()
    b = root.find("bounds")
    assert b is not None
    box = (float(b.get("minlon", 0)), float(b.get("minlat", 0)), float(b.get("maxlon", 0)),
           float(b.get("maxlat", 0)))
    nodes = {int(n.get("id", 0)): (float(n.get("lon", 0)), float(n.get("lat", 0)))
             for n in root.iter("node")}
    ways = [(int(w.get("id", 0)), {t.get("k", ""): t.get("v", "") for t in w.iter("tag")},
             [int(nd.get("ref", 0)) for nd in w.iter("nd")]) for w in root.iter("way")]
    return box, nodes, ways


def test_roads_are_the_highway_ways_inside_the_bounds() -> None:
    box, nodes, ways = _xml(WUDAOKOU)
    got = read_basemap(WUDAOKOU)
    roads = got.layer("roads")

    def inside(ref: int) -> bool:
        lon, lat = nodes.get(ref, (999.0, 999.0))
        return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]

    expected = {wid for wid, tags, refs in ways if "highway" in tags
                and tags.get("area") != "yes" and any(inside(r) for r in refs)}
    found = set(roads.loc[~roads["kind"].isin(["rail", "subway", "light_rail", "tram"]),
                          "osm_id"])
    assert len(expected) > 300
    assert found == expected
    named = {tags["name"] for wid, tags, _ in ways if wid in expected and "name" in tags}
    assert named == set(roads["name"].dropna()) - set(
        roads.loc[roads["kind"].isin(["rail", "subway", "light_rail", "tram"]), "name"].dropna())


def test_wudaokou_is_recognisable() -> None:
    f = read_basemap(WUDAOKOU).features
    assert set(f["layer"]) == set(BASEMAP_LAYERS)
    labels = set(f.loc[f["layer"] == "labels", "name"])
    assert {"清华大学", "北京大学", "圆明园"} <= labels
    assert "成府路" in set(f.loc[f["layer"] == "roads", "name"])
    assert (f["layer"] == "water").sum() > 0 and (f["layer"] == "green").sum() > 10
    # every geometry lies inside the bounds it was clipped to
    minx, miny, maxx, maxy = f.total_bounds
    box = read_basemap(WUDAOKOU).bounds
    assert box[0] - 1e-9 <= minx and maxx <= box[2] + 1e-9
    assert box[1] - 1e-9 <= miny and maxy <= box[3] + 1e-9


def test_clipping_to_a_smaller_box() -> None:
    full = read_basemap(WUDAOKOU)
    x0, y0, x1, y1 = full.bounds
    half = (x0, y0, (x0 + x1) / 2, y1)
    part = read_basemap(WUDAOKOU, bbox=half)
    assert 0 < len(part.layer("roads")) < len(full.layer("roads"))
    assert part.features.total_bounds[2] <= half[2] + 1e-9


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        read_basemap(tmp_path / "nothing.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("not osm at all")
    with pytest.raises(InvalidInputError):
        read_basemap(bad, bbox=(0.0, 0.0, 1.0, 1.0))
