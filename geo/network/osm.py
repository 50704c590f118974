"""Read an OpenStreetMap extract (.osm XML or .osm.pbf) into GeoDataFrames (EPSG:4326).

The street network is split at intersections: an edge is the run of one OSM way between
two nodes that are intersections or way ends (real geometry kept, every OSM node of the
run in the line). An edge is kept when at least one of its OSM segments has an end inside
the bounds (OSMnx ``truncate_by_edge`` semantics), so streets crossing the bounds keep
their first segment outside. Node ids are OSM node ids; edge ids are 1..n in order of
(way id, position along the way), so the same file always gives the same ids.

The ``walk`` flag follows the rule table :data:`geo.network.walkable.WALK_RULES` (the rule
deciding each edge is its ``walk_rule``; the kilometres each rule adds or removes are in
:attr:`OsmExtract.walk_rules`); pedestrian areas are walked across (outline plus straight
links between their entry nodes, see :mod:`geo.network.walkable`). ``ride`` (couriers'
e-bikes): roads and cycleways but not motorways, footways, steps or pedestrian streets
unless ``bicycle`` allows it. Gate and entrance nodes (``barrier=gate|…``, ``entrance=*``)
are collected for the gate inference of :mod:`geo.network.gates`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon, box

from geo.crs.utm import WGS84
from geo.errors import InvalidInputError, Problem
from geo.network.walkable import RULES_BY_CODE, is_pedestrian_area, walk_rule

_GEOD = Geod(ellps="WGS84")
_RIDE_ROADS = {"primary", "primary_link", "secondary", "secondary_link", "tertiary",
               "tertiary_link", "unclassified", "residential", "living_street", "service",
               "road", "track", "cycleway", "trunk", "trunk_link", "busway"}
_RIDE_IF_ALLOWED = {"footway", "pedestrian", "path", "steps", "corridor", "bridleway"}
_BIKE_YES = {"yes", "designated", "permissive"}
#: ``barrier`` values of nodes where people pass a fence or wall (gates of compounds).
GATE_BARRIERS = frozenset({"gate", "lift_gate", "entrance", "swing_gate", "sliding_gate",
                           "turnstile", "full-height_turnstile", "kissing_gate"})

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class OsmExtract:
    """What :func:`read_osm` found in an extract; every frame in EPSG:4326.

    ``nodes``: node_id, osm_id, geometry (Point). ``edges``: edge_id, u, v, osm_way_id,
    length_m (geodesic metres), highway, name, walk, ride, geometry (LineString).
    ``places``: name, place, osm_id, geometry. ``admin_boundaries`` (admin_level 8 that
    close into polygons) and ``residential_areas`` (named landuse=residential): name,
    osm_id, geometry. ``postal_points``: name, osm_id, kind (post_office | post_box),
    geometry. ``incomplete_boundaries``: names of admin_level 8 relations that do not close.
    """

    bounds: Polygon
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    admin_boundaries: gpd.GeoDataFrame
    residential_areas: gpd.GeoDataFrame
    postal_points: gpd.GeoDataFrame
    gate_points: gpd.GeoDataFrame = field(default_factory=lambda: _empty_gates())
    walk_rules: pd.DataFrame = field(default_factory=lambda: _rule_km([]))
    incomplete_boundaries: tuple[str, ...] = field(default=())


def _empty_gates() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"osm_id": pd.array([], dtype="Int64"), "kind": []},
                            geometry=[], crs=WGS84)


def _gate_kind(tags: dict[str, str]) -> str | None:
    """``barrier=…``/``entrance=…`` of a node people pass through, else None."""
    if tags.get("locked") == "yes" or tags.get("access") == "no":
        return None
    if tags.get("barrier") in GATE_BARRIERS:
        return f"barrier={tags['barrier']}"
    entrance = tags.get("entrance")
    if entrance and entrance not in ("no", "emergency", "exit"):
        return f"entrance={entrance}"
    return None


def is_rideable(tags: dict[str, str]) -> bool:
    """Whether couriers' e-bikes may use a highway way with these tags."""
    hw = tags.get("highway", "")
    if tags.get("area") == "yes" or tags.get("bicycle") == "no":
        return False
    if tags.get("access") in ("private", "no") and tags.get("bicycle") not in _BIKE_YES:
        return False
    if tags.get("service") == "private":
        return False
    if hw in _RIDE_ROADS:
        return True
    return hw in _RIDE_IF_ALLOWED and tags.get("bicycle") in _BIKE_YES


class _Collector(osmium.SimpleHandler):
    def __init__(self) -> None:
        super().__init__()
        self.ways: list[tuple[int, dict[str, str], list[tuple[int, float, float]]]] = []
        self.points: list[tuple[int, dict[str, str], float, float]] = []
        self.way_points: list[tuple[int, dict[str, str], float, float]] = []
        self.areas: list[tuple[int, bool, dict[str, str], bytes]] = []
        self.admin_relations: dict[int, str] = {}
        self.wkb = osmium.geom.WKBFactory()

    def node(self, n: Any) -> None:
        wanted = ("place" in n.tags or n.tags.get("amenity") in ("post_office", "post_box")
                  or "barrier" in n.tags or "entrance" in n.tags)
        if wanted and n.location.valid():
            self.points.append((n.id, dict(n.tags), n.location.lon, n.location.lat))

    def way(self, w: Any) -> None:
        tags = dict(w.tags)
        if tags.get("amenity") == "post_office":
            locs = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
            if locs:
                lon, lat = np.mean(locs, axis=0)
                self.way_points.append((w.id, tags, float(lon), float(lat)))
        if not tags.get("highway"):
            return
        refs = [(n.ref, n.lon, n.lat) for n in w.nodes if n.location.valid()]
        if len(refs) >= 2:
            self.ways.append((w.id, tags, refs))

    def relation(self, r: Any) -> None:
        if r.tags.get("boundary") == "administrative" and r.tags.get("admin_level") == "8":
            self.admin_relations[r.id] = r.tags.get("name", f"relation {r.id}")

    def area(self, a: Any) -> None:
        tags = a.tags
        admin = tags.get("boundary") == "administrative" and tags.get("admin_level") == "8"
        resid = tags.get("landuse") == "residential" and "name" in tags
        if not (admin or resid):
            return
        try:
            wkb = self.wkb.create_multipolygon(a)
        except RuntimeError:
            return
        self.areas.append((a.orig_id(), a.from_way(), dict(tags), bytes.fromhex(wkb)
                           if isinstance(wkb, str) else wkb))


def file_bounds(path: Path) -> BBox | None:
    """The ``<bounds>`` of an extract's header (minlon, minlat, maxlon, maxlat), if any."""
    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        b = reader.header().box()
    finally:
        reader.close()
    if not b.valid():
        return None
    return (b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat)


def check_bbox(bbox: BBox) -> BBox:
    """Validate a (minlon, minlat, maxlon, maxlat) box in degrees; return it as floats."""
    problems = []
    if len(bbox) != 4:
        raise InvalidInputError("bbox needs four numbers: minlon,minlat,maxlon,maxlat",
                                [Problem("expected 4 numbers", field="bbox")])
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if not all(np.isfinite([minx, miny, maxx, maxy])):
        problems.append(Problem("bbox values must be finite numbers", field="bbox"))
    elif not (-180 <= minx < maxx <= 180):
        problems.append(Problem("need -180 <= minlon < maxlon <= 180", field="bbox"))
    if np.isfinite(miny) and np.isfinite(maxy) and not (-90 <= miny < maxy <= 90):
        problems.append(Problem("need -90 <= minlat < maxlat <= 90", field="bbox"))
    if problems:
        raise InvalidInputError(f"invalid bbox {bbox}", problems)
    return (minx, miny, maxx, maxy)


def read_osm(path: str | Path, *, bbox: BBox | None = None,
             walk_trunk_by_default: bool = False) -> OsmExtract:
    """Read an OSM extract (``.osm`` XML or ``.osm.pbf``) clipped to ``bbox`` or its bounds.

    Parameters
    ----------
    bbox
        (minlon, minlat, maxlon, maxlat) in EPSG:4326 degrees; default: the file's
        ``<bounds>``. :class:`InvalidInputError` if neither exists, the file is missing,
        or it is not a readable OSM file.
    walk_trunk_by_default
        Trunk roads without sidewalk or foot tags are walkable (as in OSMnx); default not
        (rule ``trunk_untagged``; :attr:`geo.settings.Settings.walk_trunk_by_default`).
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"OSM file not found: {path}", [Problem("no such file", field="osm")])
    try:
        file_box = file_bounds(path)
        handler = _Collector()
        handler.apply_file(str(path), locations=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise InvalidInputError(f"not a readable OSM file: {path.name}",
                                [Problem(str(exc).splitlines()[0] if str(exc) else "unreadable",
                                         field="osm")]) from None
    if bbox is not None:
        bbox = check_bbox(bbox)
    elif file_box is not None:
        bbox = file_box
    else:
        raise InvalidInputError(f"{path.name} has no <bounds>; give a bbox",
                                [Problem("no bounds in file and no bbox given", field="bbox")])
    bounds = box(*bbox)
    if not handler.ways and not handler.points and not handler.areas:
        raise InvalidInputError(f"{path.name} holds no streets or places",
                                [Problem("empty or not an OSM extract", field="osm")])
    nodes, edges, rules = _network(handler.ways, bbox, trunk=walk_trunk_by_default)
    admin, resid = _areas(handler.areas, bounds)
    closed = set(admin["osm_id"].tolist())
    incomplete = tuple(sorted(name for rid, name in handler.admin_relations.items()
                              if rid not in closed))
    places, postal, gates = _points(handler.points + handler.way_points, bbox)
    return OsmExtract(bounds=bounds, nodes=nodes, edges=edges, places=places,
                      admin_boundaries=admin, residential_areas=resid, postal_points=postal,
                      gate_points=gates, walk_rules=rules, incomplete_boundaries=incomplete)


def _inside(lon: float, lat: float, bbox: BBox) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


Way = tuple[int, dict[str, str], list[tuple[int, float, float]]]
Row = tuple[int, int, int, dict[str, str], list[tuple[int, float, float]], str]


def _clip(ways: list[Way], bbox: BBox) -> list[Way]:
    """Runs of consecutive segments with an end inside the box, in way-id order."""
    runs: list[Way] = []
    for way_id, tags, refs in sorted(ways, key=lambda w: w[0]):
        inside = [_inside(lon, lat, bbox) for _, lon, lat in refs]
        current: list[tuple[int, float, float]] = []
        for i in range(len(refs) - 1):
            if (inside[i] or inside[i + 1]) and refs[i][0] != refs[i + 1][0]:
                if not current:
                    current = [refs[i]]
                current.append(refs[i + 1])
            elif current:
                runs.append((way_id, tags, current))
                current = []
        if current:
            runs.append((way_id, tags, current))
    return runs


def _area_links(ways: list[Way], runs: list[Way], walk: dict[int, bool]) -> list[Row]:
    """Straight links across pedestrian areas between entry nodes that see each other.

    Entry nodes: outline nodes that other walkable ways use, and ends of walkable ways
    inside the area. A link is kept when its straight line lies inside the area (holes
    respected) and not along the outline.
    """
    out: list[Row] = []
    for way_id, tags, refs in ways:
        if not (walk[way_id] and is_pedestrian_area(tags) and len(refs) >= 4
                and refs[0][0] == refs[-1][0]):
            continue
        poly = shapely.make_valid(Polygon([(lon, lat) for _, lon, lat in refs]))
        if poly.is_empty or poly.area == 0:
            continue
        inner = poly.buffer(1e-7)  # ≈ 1 cm: lines along the outline count as inside
        ring = poly.boundary.buffer(1e-7)
        ring_ids = {r[0] for r in refs}
        entries: dict[int, tuple[float, float]] = {}
        for other_id, _, run in runs:
            if other_id == way_id or not walk[other_id]:
                continue
            for k, (nid, lon, lat) in enumerate(run):
                is_end = k in (0, len(run) - 1)
                if nid in ring_ids or (is_end and poly.contains(Point(lon, lat))):
                    entries[nid] = (lon, lat)
        ids = sorted(entries)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                line = LineString([entries[a], entries[b]])
                if inner.covers(line) and not ring.covers(line):
                    out.append((a, b, way_id, tags, [(a, *entries[a]), (b, *entries[b])],
                                "pedestrian_area"))
    return out


def _network(ways: list[Way], bbox: BBox, *, trunk: bool = False
             ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    rule = {w[0]: walk_rule(w[1]) for w in ways}
    walk = {w: (trunk if r.walkable is None else r.walkable) for w, r in rule.items()}
    ride = {w[0]: is_rideable(w[1]) for w in ways}
    # 1. keep the segments with an end inside the box, as runs of consecutive segments
    all_runs = _clip(ways, bbox)
    runs = [r for r in all_runs if walk[r[0]] or ride[r[0]]]
    # 2. split runs at their ends and at nodes used more than once (intersections)
    use: Counter[int] = Counter()
    for _, _, run in runs:
        use.update(r[0] for r in run)
    rows: list[Row] = []
    for way_id, tags, run in runs:
        start = 0
        for i in range(1, len(run)):
            if i == len(run) - 1 or use[run[i][0]] > 1:
                piece = run[start:i + 1]
                rows.append((piece[0][0], piece[-1][0], way_id, tags, piece, rule[way_id].code))
                start = i
    # 3. pedestrian areas: straight links between entry nodes, after their outline's pieces
    known = {r[0] for *_, piece, _ in rows for r in piece}
    links = [lk for lk in _area_links(ways, runs, walk) if lk[0] in known and lk[1] in known]
    rows = sorted(rows + links, key=lambda r: r[2])  # stable: links follow their outline
    coords = {r[0]: (r[1], r[2]) for *_, piece, _ in rows for r in piece}
    node_ids = sorted({u for u, *_ in rows} | {v for _, v, *_ in rows})
    nodes = gpd.GeoDataFrame(
        {"node_id": np.array(node_ids, dtype="int64"),
         "osm_id": pd.array(node_ids, dtype="Int64")},
        geometry=[Point(coords[n]) for n in node_ids], crs=WGS84)
    lengths = [_length_m(np.array([(p[1], p[2]) for p in piece])) for *_, piece, _ in rows]
    link_ids = {id(lk) for lk in links}
    is_link = [id(r) in link_ids for r in rows]
    edges = gpd.GeoDataFrame(
        {"edge_id": np.arange(1, len(rows) + 1, dtype="int64"),
         "u": np.array([r[0] for r in rows], dtype="int64"),
         "v": np.array([r[1] for r in rows], dtype="int64"),
         "osm_way_id": pd.array([r[2] for r in rows], dtype="Int64"),
         "length_m": np.array(lengths, dtype=float),
         "highway": pd.Series([r[3].get("highway") for r in rows], dtype=object),
         "name": pd.Series([r[3].get("name") for r in rows], dtype=object),
         "walk": np.array([walk[r[2]] for r in rows], dtype=bool),
         "ride": np.array([ride[r[2]] and not lk for r, lk in zip(rows, is_link, strict=True)],
                          dtype=bool),
         "walk_rule": pd.Series([r[5] for r in rows], dtype=object)},
        geometry=[LineString([(p[1], p[2]) for p in piece]) for *_, piece, _ in rows],
        crs=WGS84)
    edges = edges[edges["length_m"] > 0].reset_index(drop=True)
    edges["edge_id"] = np.arange(1, len(edges) + 1, dtype="int64")
    # 4. kilometres each rule decided, in the bounds (every highway way, links included)
    per_way = [(rule[w].code, walk[w], w, _length_m(np.array([(p[1], p[2]) for p in run])))
               for w, _, run in all_runs]
    per_way += [(r[5], True, r[2], length) for r, length, lk in
                zip(rows, lengths, is_link, strict=True) if lk]
    return nodes, edges, _rule_km(per_way)


def _rule_km(per_way: list[tuple[str, bool, int, float]]) -> pd.DataFrame:
    """``rule, walkable, ways, km`` per rule, in the order of the rule table."""
    df = pd.DataFrame(per_way, columns=["rule", "walkable", "way", "m"])
    g = df.groupby(["rule", "walkable"], sort=False).agg(ways=("way", "nunique"), m=("m", "sum"))
    g = g.reset_index()
    g["km"] = g.pop("m") / 1000.0
    order = {code: i for i, code in enumerate(RULES_BY_CODE)}
    g = g.sort_values("rule", key=lambda s: s.map(order), kind="stable")
    return g.reset_index(drop=True)[["rule", "walkable", "ways", "km"]]


def _length_m(lonlat: np.ndarray) -> float:
    """Geodesic length in metres of a lon/lat polyline (WGS-84 ellipsoid)."""
    _, _, dist = _GEOD.inv(lonlat[:-1, 0], lonlat[:-1, 1], lonlat[1:, 0], lonlat[1:, 1])
    return float(np.sum(dist))


def _areas(areas: list[tuple[int, bool, dict[str, str], bytes]],
           bounds: Polygon) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    admin: list[dict[str, Any]] = []
    resid: list[dict[str, Any]] = []
    for osm_id, from_way, tags, wkb in sorted(areas, key=lambda a: (a[1], a[0])):
        geom = shapely.make_valid(shapely.from_wkb(wkb))
        if geom.is_empty or not geom.intersects(bounds):
            continue
        row = {"name": tags.get("name", ""), "osm_id": osm_id, "geometry": geom}
        if tags.get("boundary") == "administrative" and not from_way:
            admin.append(row)
        elif tags.get("landuse") == "residential":
            resid.append(row)
    cols = ["name", "osm_id", "geometry"]
    return (gpd.GeoDataFrame(admin, columns=cols, geometry="geometry", crs=WGS84),
            gpd.GeoDataFrame(resid, columns=cols, geometry="geometry", crs=WGS84))


def _points(points: list[tuple[int, dict[str, str], float, float]], bbox: BBox
            ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    places: list[dict[str, Any]] = []
    postal: list[dict[str, Any]] = []
    gates: list[dict[str, Any]] = []
    for osm_id, tags, lon, lat in sorted(points, key=lambda p: p[0]):
        if not _inside(lon, lat, bbox):
            continue
        name = tags.get("name")
        amenity = tags.get("amenity")
        if "place" in tags and name:
            places.append({"name": name, "place": tags["place"], "osm_id": osm_id,
                           "geometry": Point(lon, lat)})
        if amenity == "post_office" or (amenity == "post_box" and "快递" in (name or "")):
            postal.append({"name": name or "", "osm_id": osm_id, "kind": amenity,
                           "geometry": Point(lon, lat)})
        kind = _gate_kind(tags)
        if kind is not None:
            gates.append({"osm_id": osm_id, "kind": kind, "geometry": Point(lon, lat)})
    gate_frame = (gpd.GeoDataFrame(gates, geometry="geometry", crs=WGS84) if gates
                  else _empty_gates())
    return (gpd.GeoDataFrame(places, columns=["name", "place", "osm_id", "geometry"],
                             geometry="geometry", crs=WGS84),
            gpd.GeoDataFrame(postal, columns=["name", "osm_id", "kind", "geometry"],
                             geometry="geometry", crs=WGS84),
            gate_frame)
