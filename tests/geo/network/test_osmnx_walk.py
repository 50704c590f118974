"""Our walking network against OSMnx's walk network on the real extracts in data/osm/.

OSMnx (``graph_from_xml``, offline) is the reference: the extract is filtered with OSMnx's
own walk filter (the Overpass filter string of ``network_type="walk"``, parsed here), the
graph is built unsimplified and truncated to the file's bounds keeping edges with one end
inside (as ``read_osm`` does). Ways that only one side keeps must all be decided by a rule
of ``WALK_RULES`` documented as differing from OSMnx; each difference is listed by rule.
The length of the rest must agree within 2 %.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import osmnx as ox
import pytest
from osmnx._overpass import _get_network_filter

from geo.network.osm import read_osm
from geo.network.walkable import RULES_BY_CODE, osmnx_walkable, walk_rule
from geo.settings import PROJECT_ROOT

EXTRACTS = sorted((PROJECT_ROOT / "data" / "osm").glob("*.osm"))
TOLERANCE = 0.02


def osmnx_filter() -> list[tuple[str, str | None, str | None]]:
    """OSMnx's walk filter as (key, operator, regex) conditions."""
    conds = re.findall(r'\["([^"]+)"(?:(!?~)"([^"]+)")?\]', _get_network_filter("walk"))
    assert len(conds) >= 5  # the filter's format is what we parse
    return [(k, op or None, rx or None) for k, op, rx in conds]


def passes(tags: dict[str, str], conds: list[tuple[str, str | None, str | None]]) -> bool:
    for key, op, rx in conds:
        value = tags.get(key)
        if op is None and value is None:
            return False
        if op == "!~" and value is not None and re.search(rx or "", value):
            return False
        if op == "~" and (value is None or not re.search(rx or "", value)):
            return False
    return True


def osmnx_walk_lengths(path: Path, tmp_path: Path) -> tuple[dict[int, float], dict[int, dict]]:
    """Metres per OSM way in OSMnx's walk network within the file's bounds, and every
    highway way's tags."""
    tree = ET.parse(path)
    root = tree.getroot()
    conds = osmnx_filter()
    tags_of: dict[int, dict[str, str]] = {}
    for el in list(root):
        if el.tag == "relation":
            root.remove(el)
        elif el.tag == "way":
            tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
            if "highway" in tags:
                tags_of[int(el.get("id"))] = tags
            if not passes(tags, conds):
                root.remove(el)
    b = root.find("bounds")
    bbox = tuple(float(b.get(k)) for k in ("minlon", "minlat", "maxlon", "maxlat"))
    filtered = tmp_path / f"{path.stem}.walk.osm"
    tree.write(filtered, encoding="utf-8", xml_declaration=True)
    g = ox.graph_from_xml(filtered, simplify=False, retain_all=True)
    g = ox.truncate.truncate_graph_bbox(g, bbox, truncate_by_edge=True)
    seen: dict[tuple[int, int, int], float] = {}
    for u, v, data in g.edges(data=True):
        seen[(min(u, v), max(u, v), int(data["osmid"]))] = float(data["length"])
    per_way: dict[int, float] = defaultdict(float)
    for (_, _, way), length in seen.items():
        per_way[way] += length
    return dict(per_way), tags_of


def compare(path: Path, tmp_path: Path, *, trunk: bool = False) -> tuple[float, float, float]:
    """Print the comparison; return (ours, OSMnx, |difference on the ways both keep|) in m.

    Every way only one side keeps must be decided by a rule documented as differing.
    """
    theirs, tags_of = osmnx_walk_lengths(path, tmp_path)
    edges = read_osm(path, walk_trunk_by_default=trunk).edges
    ours = edges[edges["walk"]].groupby("osm_way_id")["length_m"].sum().to_dict()
    ours = {int(k): float(v) for k, v in ours.items()}
    by_rule: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])  # ours, theirs, ways
    for way in set(ours) ^ set(theirs):
        rule = walk_rule(tags_of[way])
        assert rule.osmnx is not None, (way, rule.code)
        assert osmnx_walkable(rule, trunk_by_default=trunk) == (way in theirs), (way, rule.code)
        by_rule[rule.code][0] += ours.get(way, 0.0)
        by_rule[rule.code][1] += theirs.get(way, 0.0)
        by_rule[rule.code][2] += 1
    common = set(ours) & set(theirs)
    ours_common = sum(ours[w] for w in common)
    theirs_common = sum(theirs[w] for w in common)
    total_ours, total_theirs = sum(ours.values()), sum(theirs.values())
    print(f"\n{path.name}: ours {total_ours / 1000:.2f} km, OSMnx {total_theirs / 1000:.2f} km "
          f"({(total_ours - total_theirs) / total_theirs:+.2%})")
    for code, (o, t, n) in sorted(by_rule.items()):
        print(f"  rule {code} ({RULES_BY_CODE[code].note}): {n} ways, ours {o / 1000:.3f} km, "
              f"OSMnx {t / 1000:.3f} km")
    print(f"  ways both keep: ours {ours_common / 1000:.2f} km, OSMnx {theirs_common / 1000:.2f} "
          f"km ({(ours_common - theirs_common) / theirs_common:+.2%})")
    return total_ours, total_theirs, abs(ours_common - theirs_common)


@pytest.mark.parametrize("path", EXTRACTS, ids=[p.stem for p in EXTRACTS])
def test_walk_network_matches_osmnx_except_documented_rules(path: Path, tmp_path: Path) -> None:
    assert EXTRACTS, "no extracts in data/osm"
    _, theirs, residual = compare(path, tmp_path)
    assert theirs > 50_000  # both extracts hold tens of km of walkable streets
    assert residual <= TOLERANCE * theirs


@pytest.mark.parametrize("trunk", [False, True], ids=["trunks-by-tags", "trunks-by-default"])
def test_trunk_and_cycleway_rules_against_osmnx(tmp_path: Path, trunk: bool) -> None:
    from tests.geo.network.test_walkable import osm_file

    nodes = {i: (float(i), 0.0) for i in range(1, 9)}
    ways = [(1, [1, 2], {"highway": "residential"}),
            (2, [2, 3], {"highway": "trunk", "sidewalk": "both"}),
            (3, [3, 4], {"highway": "trunk"}),
            (4, [4, 5], {"highway": "trunk_link", "sidewalk": "no"}),
            (5, [5, 6], {"highway": "trunk", "foot": "designated"}),
            (6, [6, 7], {"highway": "cycleway", "foot": "yes"}),
            (7, [7, 8], {"highway": "cycleway"})]
    ours, theirs, residual = compare(osm_file(tmp_path, nodes, ways), tmp_path, trunk=trunk)
    assert residual <= 0.005 * theirs  # sphere (OSMnx) against ellipsoid (ours) lengths
    step = theirs / 5  # OSMnx keeps ways 1–5, one grid step each
    # ours: 1, 2, 5 and the shared cycleway 6, plus the untagged trunk 3 by default
    assert ours == pytest.approx(step * (5 if trunk else 4), rel=0.01)
