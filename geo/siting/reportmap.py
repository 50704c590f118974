"""The siting report's map: inline SVG that prints offline, on the city's own basemap.

Bottom to top: the stored OpenStreetMap basemap (built-up land, green, water, waterways,
streets cased by class), compounds covered before (green), brought inside by the
proposals (orange) and still outside (red), the proposals' walking circles, existing
stations (squares in their type's colour) and the proposed sites (numbered circles),
then place and street names (Chinese first, placed greedily without overlaps), a scale
bar, a north arrow and the attribution "© OpenStreetMap contributors".

The map is drawn in the UTM zone of the sites (metres), so the scale bar is exact and
north is up (grid north; within 2° of true north in China's UTM zones). The frame holds
the circles (else the sites and compounds) with a margin. Every name is escaped; the
rest is numbers and constants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, TypeGuard

import geopandas as gpd
import numpy as np
import shapely
from markupsafe import Markup, escape
from shapely.geometry import box

from geo.domain import BROUGHT_INSIDE_COLOR, PROPOSED_SITE_COLOR

#: Compound fills: covered before, brought inside, still outside.
COLORS = {"before": "#4caf50", "after": BROUGHT_INSIDE_COLOR, "outside": "#e53935"}
_BASE = {"bg": "#f2efe9", "builtup": "#e4ddd4", "green": "#cde6b8", "water": "#aad3df",
         "casing": "#b9b1a7", "road": "#ffffff", "major": "#fde4b0", "rail": "#8a8a8a",
         "text": "#333333", "halo": "#ffffff"}
#: Street classes drawn wider (px) and tinted; others 1.2 px.
_ROAD_WIDTH = {"motorway": 3.4, "trunk": 3.4, "primary": 3.0, "secondary": 2.6,
               "tertiary": 2.2, "motorway_link": 2.0, "trunk_link": 2.0,
               "primary_link": 2.0, "secondary_link": 1.8, "residential": 1.6,
               "unclassified": 1.6, "living_street": 1.4}
_MAJOR = {"motorway", "trunk", "primary", "secondary", "tertiary"}
_MINOR_SKIP = {"footway", "path", "steps", "cycleway", "platform", "construction", "proposed",
               "corridor", "bridleway", "elevator"}
_RAIL = {"rail", "subway", "light_rail", "tram"}
MARGIN = 0.08
MIN_SPAN_M = 800.0
FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"


def _present(g: gpd.GeoDataFrame | None) -> TypeGuard[gpd.GeoDataFrame]:
    return g is not None and len(g) > 0 and bool((~g.geometry.isna()).any())


class _Frame:
    """Metres (UTM) → SVG pixels: ``(x0, y0)`` at the bottom left, ``s`` px per metre."""

    def __init__(self, bounds: np.ndarray, width: int, height: int) -> None:
        x0, y0, x1, y1 = bounds
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        span_x = max(x1 - x0, MIN_SPAN_M) * (1 + 2 * MARGIN)
        span_y = max(y1 - y0, MIN_SPAN_M * height / width) * (1 + 2 * MARGIN)
        self.s = min(width / span_x, height / span_y)
        self.w, self.h = width, height
        self.x0, self.y0 = cx - width / 2 / self.s, cy - height / 2 / self.s
        self.box = box(self.x0, self.y0, self.x0 + width / self.s, self.y0 + height / self.s)

    def xy(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack([(coords[:, 0] - self.x0) * self.s,
                                self.h - (coords[:, 1] - self.y0) * self.s])

    def path(self, geom: Any, closed: bool) -> str:
        """SVG path data of a (multi)line or (multi)polygon, rings closed when ``closed``."""
        parts = []
        for part in shapely.get_parts(geom):
            rings = ([part.exterior, *part.interiors] if part.geom_type == "Polygon"
                     else [part])
            for ring in rings:
                xy = self.xy(shapely.get_coordinates(ring))
                if len(xy) < 2:
                    continue
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in xy)
                parts.append(f"M{pts}{'Z' if closed else ''}")
        return "".join(parts)


def _clip(g: gpd.GeoDataFrame, frame: _Frame, epsg: Any) -> gpd.GeoDataFrame:
    """``g`` in the map's CRS, cut to the frame, simplified to half a pixel."""
    out = g[~g.geometry.isna()].to_crs(epsg)
    out = out[out.intersects(frame.box)].copy()
    if not len(out):
        return out
    out["geometry"] = shapely.simplify(shapely.intersection(out.geometry.values, frame.box),
                                       0.5 / frame.s)
    return out[~out.geometry.is_empty]


def _label_width(text: str, size: float) -> float:
    return sum(size if ord(c) > 0x2E80 else 0.6 * size for c in text)


class _Labels:
    """Greedy label placement: a label is drawn only where it overlaps none drawn before."""

    def __init__(self, frame: _Frame, taken: Iterable[tuple[float, float, float, float]]) -> None:
        self.frame, self.boxes = frame, list(taken)
        self.out: list[str] = []

    def add(self, text: str, x: float, y: float, size: float, *, bold: bool = False) -> bool:
        w, h = _label_width(text, size) + 4, size + 4
        b = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        if b[0] < 2 or b[1] < 2 or b[2] > self.frame.w - 2 or b[3] > self.frame.h - 40:
            return False
        if any(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for o in self.boxes):
            return False
        self.boxes.append(b)
        weight = ' font-weight="bold"' if bold else ""
        self.out.append(
            f'<text x="{x:.1f}" y="{y + size * 0.35:.1f}" font-size="{size:g}"{weight} '
            f'text-anchor="middle" fill="{_BASE["text"]}" stroke="{_BASE["halo"]}" '
            f'stroke-width="3" paint-order="stroke" stroke-linejoin="round">'
            f"{escape(text)}</text>")
        return True


def _name(row: Any) -> str | None:
    for col in ("name_zh", "name"):
        v = getattr(row, col, None)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _nice_metres(limit_m: float) -> float:
    """The longest 1/2/5 × 10ⁿ metres not above ``limit_m``."""
    e = 10 ** math.floor(math.log10(limit_m))
    return max(m * e for m in (1, 2, 5) if m * e <= limit_m)


def _basemap(base: gpd.GeoDataFrame, frame: _Frame, epsg: Any, out: list[str]) -> gpd.GeoDataFrame:
    """Areas, waterways and streets of the basemap into ``out``; returns the named streets
    drawn (for their labels)."""
    b = _clip(base[base["layer"] != "labels"], frame, epsg)
    for layer in ("builtup", "green", "water"):
        for g in b.loc[b["layer"] == layer, "geometry"]:
            out.append(f'<path d="{frame.path(g, True)}" fill="{_BASE[layer]}" '
                       'fill-rule="evenodd" stroke="none"/>')
    for g in b.loc[b["layer"] == "waterways", "geometry"]:
        out.append(f'<path d="{frame.path(g, False)}" fill="none" stroke="{_BASE["water"]}" '
                   'stroke-width="2"/>')
    roads = b[(b["layer"] == "roads") & ~b["kind"].isin(_MINOR_SKIP)].copy()
    roads["w"] = roads["kind"].map(_ROAD_WIDTH).fillna(1.2)
    rail = roads["kind"].isin(_RAIL)
    for g in roads.loc[rail, "geometry"]:
        out.append(f'<path d="{frame.path(g, False)}" fill="none" stroke="{_BASE["rail"]}" '
                   'stroke-width="1.2" stroke-dasharray="4 3"/>')
    streets = roads[~rail].sort_values("w")
    for casing in (True, False):
        for g, w, kind in zip(streets.geometry, streets["w"], streets["kind"], strict=True):
            colour = _BASE["casing"] if casing else (
                _BASE["major"] if kind in _MAJOR else _BASE["road"])
            out.append(f'<path d="{frame.path(g, False)}" fill="none" stroke="{colour}" '
                       f'stroke-width="{w + 1.4 if casing else w:.1f}" stroke-linecap="round" '
                       'stroke-linejoin="round"/>')
    return streets


def _street_names(streets: gpd.GeoDataFrame, frame: _Frame, labels: _Labels) -> None:
    """Each named street once, at the middle of its longest drawn piece, longest first."""
    named = streets.assign(label=[_name(r) for r in streets.itertuples()])
    named = named[named["label"].notna()]
    if not len(named):
        return
    pieces = named.explode(index_parts=False)
    pieces["len"] = pieces.length
    best = pieces.sort_values("len", ascending=False).drop_duplicates("label")
    for r in best.itertuples():
        if r.len * frame.s < _label_width(r.label, 10) * 1.2:
            continue
        mid = shapely.line_interpolate_point(r.geometry, 0.5, normalized=True)
        x, y = frame.xy(shapely.get_coordinates(mid))[0]
        labels.add(r.label, x, y - 7, 10)


def _furniture(frame: _Frame) -> list[str]:
    """Scale bar (bottom left), north arrow (top right), attribution (bottom right)."""
    w, h = frame.w, frame.h
    metres = _nice_metres(w / 4 / frame.s)
    px = metres * frame.s
    text = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    x, y = 12, h - 16
    bar = [(f'<rect x="{x - 4}" y="{y - 16}" width="{px + 8:.1f}" height="24" fill="#fff" '
           'fill-opacity="0.8"/>'),
           f'<rect x="{x}" y="{y}" width="{px / 2:.1f}" height="4" fill="#222"/>',
           (f'<rect x="{x + px / 2:.1f}" y="{y}" width="{px / 2:.1f}" height="4" fill="#fff" '
           'stroke="#222" stroke-width="0.8"/>'),
           f'<text x="{x}" y="{y - 4}" font-size="10" fill="#222">0</text>',
           (f'<text x="{x + px:.1f}" y="{y - 4}" font-size="10" fill="#222" '
           f'text-anchor="end">{text}</text>')]
    nx, ny = w - 26, 16
    arrow = [(f'<rect x="{nx - 14}" y="{ny - 8}" width="28" height="44" fill="#fff" '
             'fill-opacity="0.8"/>'),
             f'<path d="M{nx},{ny} L{nx + 8},{ny + 22} L{nx},{ny + 17} Z" fill="#222"/>',
             (f'<path d="M{nx},{ny} L{nx - 8},{ny + 22} L{nx},{ny + 17} Z" fill="#fff" '
             'stroke="#222" stroke-width="0.8"/>'),
             (f'<text x="{nx}" y="{ny + 33}" font-size="10" font-weight="bold" '
             'text-anchor="middle" fill="#222">N 北</text>')]
    attribution = [(f'<text x="{w - 6}" y="{h - 6}" font-size="9" text-anchor="end" fill="#444" '
                   'stroke="#fff" stroke-width="3" paint-order="stroke">'
                   "© OpenStreetMap contributors</text>")]
    return bar + arrow + attribution


def report_map(sites: gpd.GeoDataFrame, *, compounds: gpd.GeoDataFrame | None,
               stations: gpd.GeoDataFrame | None, circles: gpd.GeoDataFrame | None,
               basemap: gpd.GeoDataFrame | None, width: int, height: int,
               station_color: str) -> Markup:
    """The report map as an SVG element ``width`` × ``height`` px: ``sites`` with
    ``rank``, ``compounds`` with ``covered_before``/``covered_after``, existing
    ``stations``, the sites' walking ``circles`` and the stored ``basemap`` (any may be
    None); empty markup when there are no sites."""
    if not _present(sites):
        return Markup("")
    epsg = sites.to_crs(4326).estimate_utm_crs()
    extent: list[gpd.GeoDataFrame] = [g for g in (circles, sites) if _present(g)]
    if not _present(circles):
        extent += [g for g in (compounds, stations) if _present(g)]
    bounds = np.array([g[~g.geometry.isna()].to_crs(epsg).total_bounds for g in extent])
    frame = _Frame(np.array([*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0)]),
                   width, height)
    out = [(f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="{FONT}">'),
           f'<rect width="{width}" height="{height}" fill="{_BASE["bg"]}"/>']
    streets = None
    if _present(basemap):
        streets = _basemap(basemap, frame, epsg, out)
    if _present(compounds):
        comp = _clip(compounds, frame, epsg)
        for geom, before, after in zip(comp.geometry.values, comp["covered_before"],
                                       comp["covered_after"], strict=True):
            colour = COLORS["before" if before else ("after" if after else "outside")]
            for poly in shapely.get_parts(geom):
                if poly.geom_type != "Polygon":
                    continue
                ring = frame.xy(shapely.get_coordinates(poly.exterior))
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in ring)
                out.append(f'<polygon points="{pts}" fill="{colour}" fill-opacity="0.7" '
                           'stroke="#555" stroke-width="0.4"/>')
    if _present(circles):
        for g in _clip(circles, frame, epsg).geometry:
            out.append(f'<path d="{frame.path(g, True)}" fill="{PROPOSED_SITE_COLOR}" '
                       f'fill-opacity="0.12" fill-rule="evenodd" stroke="{PROPOSED_SITE_COLOR}" '
                       'stroke-width="1.5" stroke-dasharray="5 3"/>')
    taken = []
    if _present(stations):
        st = stations.to_crs(epsg)
        st = st[st.intersects(frame.box)]
        for x, y in frame.xy(shapely.get_coordinates(st.geometry.values)):
            out.append(f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" '
                       f'height="8" fill="{station_color}" stroke="#222" stroke-width="1"/>')
    sites = sites.to_crs(epsg)
    for rank, (x, y) in zip(sites["rank"], frame.xy(shapely.get_coordinates(
            sites.geometry.values)), strict=True):
        taken.append((x - 11, y - 11, x + 11, y + 11))
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="{PROPOSED_SITE_COLOR}" '
                   'stroke="#fff" stroke-width="2"/>'
                   f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="12" font-weight="bold" '
                   f'text-anchor="middle" fill="#fff">{int(rank)}</text>')
    labels = _Labels(frame, taken)
    if _present(basemap):
        places = _clip(basemap[basemap["layer"] == "labels"], frame, epsg)
        for r in places.sort_values("rank").itertuples():
            name = _name(r)
            if name and r.geometry.geom_type == "Point":
                x, y = frame.xy(np.array([[r.geometry.x, r.geometry.y]]))[0]
                size = 13 if r.rank <= 1 else (11 if r.rank <= 3 else 9)
                labels.add(name, x, y, size, bold=r.rank <= 1)
        if streets is not None:
            _street_names(streets, frame, labels)
    out += labels.out
    out += _furniture(frame)
    out.append("</svg>")
    return Markup("".join(out))  # names escaped above; everything else numbers and constants
