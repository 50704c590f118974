"""Each walkability rule of geo.network.walkable on a tiny synthetic OSM extract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.network.graph import StreetNetwork
from geo.network.osm import OsmExtract, read_osm
from geo.network.walkable import WALK_RULES, rules_markdown, walk_rule
from geo.settings import PROJECT_ROOT, Settings

LAT0, LON0 = 40.0, 116.3
STEP = 0.001  # ≈ 111 m of latitude, ≈ 85 m of longitude at 40°N


def osm_file(tmp_path: Path, nodes: dict[int, tuple[float, float]],
             ways: list[tuple[int, list[int], dict[str, str]]], name: str = "t.osm") -> Path:
    """An OSM XML file; node coordinates in grid steps (x east, y north) from (LON0, LAT0)."""
    xs = [x for x, _ in nodes.values()]
    ys = [y for _, y in nodes.values()]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">',
             (f' <bounds minlat="{LAT0 + (min(ys) - 1) * STEP}" '
              f'minlon="{LON0 + (min(xs) - 1) * STEP}" maxlat="{LAT0 + (max(ys) + 1) * STEP}" '
              f'maxlon="{LON0 + (max(xs) + 1) * STEP}"/>')]
    for nid, (x, y) in nodes.items():
        lines.append(f' <node id="{nid}" lat="{LAT0 + y * STEP:.7f}" lon="{LON0 + x * STEP:.7f}"/>')
    for wid, refs, tags in ways:
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f' <way id="{wid}">{body}</way>')
    lines.append("</osm>")
    p = tmp_path / name
    p.write_text("\n".join(lines), encoding="utf-8")
    return p


def one_way(tmp_path: Path, tags: dict[str, str], **kw: bool) -> OsmExtract:
    """A residential street (way 1) joined by a way (way 2) with ``tags``."""
    nodes = {1: (0.0, 0.0), 2: (1.0, 0.0), 3: (2.0, 0.0)}
    ways = [(1, [1, 2], {"highway": "residential"}), (2, [2, 3], tags)]
    return read_osm(osm_file(tmp_path, nodes, ways), **kw)


def decided(x: OsmExtract, way: int = 2) -> tuple[bool, str]:
    """(walkable, rule) of ``way`` as recorded in the rule table of the extract."""
    hit = x.edges[x.edges["osm_way_id"] == way]
    rules = x.walk_rules
    if len(hit):
        return bool(hit["walk"].iloc[0]), str(hit["walk_rule"].iloc[0])
    # neither walkable nor rideable: only in the rule kilometres
    rows = rules[rules["rule"] != "default"]
    assert len(rows) == 1, rules
    return bool(rows["walkable"].iloc[0]), str(rows["rule"].iloc[0])


@pytest.mark.parametrize(("tags", "walkable", "rule"), [
    ({"highway": "trunk", "sidewalk": "both"}, True, "trunk_sidewalk"),
    ({"highway": "trunk", "sidewalk": "right"}, True, "trunk_sidewalk"),
    ({"highway": "trunk_link", "sidewalk:left": "yes"}, True, "trunk_sidewalk"),
    ({"highway": "trunk", "sidewalk:both": "yes"}, True, "trunk_sidewalk"),
    ({"highway": "trunk", "foot": "designated"}, True, "trunk_foot"),
    ({"highway": "trunk_link", "foot": "permissive"}, True, "trunk_foot"),
    ({"highway": "trunk"}, False, "trunk_untagged"),
    ({"highway": "trunk", "sidewalk": "no"}, False, "trunk_no_sidewalk"),
    ({"highway": "cycleway", "foot": "yes"}, True, "cycleway_foot"),
    ({"highway": "cycleway", "foot": "designated"}, True, "cycleway_foot"),
    ({"highway": "cycleway", "foot": "permissive"}, False, "cycleway"),
    ({"highway": "cycleway"}, False, "cycleway"),
    ({"highway": "footway", "foot": "no"}, False, "foot_no"),
    ({"highway": "service", "access": "private"}, False, "access_private"),
    ({"highway": "service", "service": "private"}, False, "access_private"),
    ({"highway": "service", "access": "private", "foot": "yes"}, True, "private_foot"),
    ({"highway": "residential", "access": "no"}, False, "access_no"),
    ({"highway": "residential", "access": "no", "foot": "yes"}, True, "default"),
    ({"highway": "motorway"}, False, "never"),
    ({"highway": "motorway_link", "sidewalk": "both"}, False, "never"),
    ({"highway": "construction"}, False, "never"),
    ({"highway": "primary", "sidewalk": "separate"}, False, "sidewalk_separate"),
    ({"highway": "service", "area": "yes"}, False, "other_area"),
    ({"highway": "footway"}, True, "default"),
    ({"highway": "primary"}, True, "default"),
])
def test_rule_decides_a_way(tmp_path, tags, walkable, rule):
    x = one_way(tmp_path, tags)
    assert walk_rule(tags).code == rule
    assert decided(x) == (walkable, rule)
    km = x.walk_rules.set_index("rule")["km"]
    steps = 2 if rule == "default" else 1  # way 1 is decided by the default rule too
    assert km[rule] == pytest.approx(0.0854 * steps, abs=0.001)  # a grid step east at 40°N


def test_trunks_walkable_by_default_with_the_setting(tmp_path):
    x = one_way(tmp_path, {"highway": "trunk"}, walk_trunk_by_default=True)
    assert decided(x) == (True, "trunk_untagged")
    # a trunk mapped without pavements stays out even then
    y = one_way(tmp_path, {"highway": "trunk", "sidewalk": "no"}, walk_trunk_by_default=True)
    assert decided(y) == (False, "trunk_no_sidewalk")


def test_setting_is_read_from_the_environment():
    s = Settings.from_env({"SERVICECIRCLE_WALK_TRUNK_BY_DEFAULT": "true",
                           "SERVICECIRCLE_LARGEST_COMPONENT_MIN_SHARE": "0.9"})
    assert (s.walk_trunk_by_default, s.largest_component_min_share) == (True, 0.9)
    assert Settings().walk_trunk_by_default is False
    with pytest.raises(ValueError):
        Settings.from_env({"SERVICECIRCLE_WALK_TRUNK_BY_DEFAULT": "maybe"})


def test_excluded_ways_leave_no_nodes_in_the_walking_network(tmp_path):
    # the cycleway is rideable, so its end node 3 is stored, but walkers never reach it
    x = one_way(tmp_path, {"highway": "cycleway"})
    assert 3 in set(x.nodes["node_id"])
    net = StreetNetwork.from_edges(x.nodes, x.edges, mode="walk")
    assert (net.n_nodes, net.n_edges, net.n_components) == (2, 1, 1)


SQUARE = {1: (0.0, 0.0), 2: (1.0, 0.0), 3: (1.0, 1.0), 4: (0.0, 1.0),  # the square
          5: (-1.0, 0.0), 6: (2.0, 1.0)}                               # streets leading in


def test_pedestrian_area_is_walked_across(tmp_path):
    ways = [(1, [1, 2, 3, 4, 1], {"highway": "pedestrian", "area": "yes", "name": "广场"}),
            (2, [5, 1], {"highway": "footway"}), (3, [3, 6], {"highway": "footway"})]
    x = read_osm(osm_file(tmp_path, SQUARE, ways))
    area = x.edges[x.edges["osm_way_id"] == 1]
    assert (area["walk_rule"] == "pedestrian_area").all() and area["walk"].all()
    assert not area["ride"].any()
    links = area[area.apply(lambda r: {r.u, r.v} == {1, 3}, axis=1) & (area.geometry.apply(
        lambda g: len(g.coords)) == 2)]
    assert len(links) == 1  # the diagonal between the two entry nodes
    net = StreetNetwork.from_edges(x.nodes, x.edges, mode="walk")
    # from node 5 to node 6: two footways plus the diagonal, not around the outline
    import numpy as np
    from scipy.sparse.csgraph import dijkstra

    i5, i6 = (int(np.flatnonzero(net.node_ids == n)[0]) for n in (5, 6))
    d = dijkstra(net.graph, indices=i5)[i6]
    diag = float(links["length_m"].iloc[0])
    feet = x.edges.loc[x.edges["osm_way_id"].isin([2, 3]), "length_m"].sum()
    assert d == pytest.approx(feet + diag, rel=1e-9)
    around = area.loc[area.geometry.apply(lambda g: len(g.coords)) > 2, "length_m"].min()
    assert diag < around
    km = x.walk_rules.set_index("rule")["km"]
    assert km["pedestrian_area"] * 1000 == pytest.approx(area["length_m"].sum())


def test_pedestrian_area_links_stay_inside_a_concave_area(tmp_path):
    # an L-shaped square: the straight line between its two entries leaves it
    nodes = {1: (0.0, 0.0), 2: (2.0, 0.0), 3: (2.0, 1.0), 4: (1.0, 1.0), 7: (1.0, 2.0),
             8: (0.0, 2.0), 5: (3.0, 1.0), 6: (0.0, 3.0)}
    ways = [(1, [1, 2, 3, 4, 7, 8, 1], {"highway": "pedestrian", "area": "yes"}),
            (2, [3, 5], {"highway": "footway"}), (3, [8, 6], {"highway": "footway"})]
    x = read_osm(osm_file(tmp_path, nodes, ways))
    area = x.edges[x.edges["osm_way_id"] == 1]
    straight = area[area.geometry.apply(lambda g: len(g.coords)) == 2]
    assert not ((straight["u"].isin([3, 8])) & (straight["v"].isin([3, 8]))).any()
    net = StreetNetwork.from_edges(x.nodes, x.edges, mode="walk")
    assert net.n_components == 1  # still connected, along the outline


def test_way_ending_inside_a_square_is_linked(tmp_path):
    nodes = {**SQUARE, 9: (0.5, 0.5), 10: (0.5, -1.0), 11: (0.5, 0.0)}
    ways = [(1, [1, 2, 3, 4, 1], {"highway": "pedestrian", "area": "yes"}),
            (2, [5, 1], {"highway": "footway"}),
            (4, [10, 9], {"highway": "footway"})]  # crosses the outline without a node there
    x = read_osm(osm_file(tmp_path, nodes, ways))
    net = StreetNetwork.from_edges(x.nodes, x.edges, mode="walk")
    assert net.n_components == 1


def test_rule_kilometres_add_up_to_the_walking_network(tmp_path):
    x = read_osm(PROJECT_ROOT / "data" / "osm" / "wudaokou_2017.osm")
    r = x.walk_rules
    walk_km = x.edges.loc[x.edges["walk"], "length_m"].sum() / 1000
    assert r.loc[r["walkable"], "km"].sum() == pytest.approx(walk_km, rel=1e-9)
    assert set(r["rule"]) <= {w.code for w in WALK_RULES}
    assert set(x.edges.loc[x.edges["walk"], "walk_rule"]) == set(r.loc[r["walkable"], "rule"])


def test_readme_shows_the_rule_table():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert rules_markdown() in readme
    # and every rule code appears exactly once in it
    for rule in WALK_RULES:
        assert len(re.findall(rf"`{rule.code}`", rules_markdown())) == 1
