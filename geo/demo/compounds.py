"""Generated residential compounds (小区): block-filling rectangles near streets.

Everything here works in a metric CRS (metres). The rules are documented in
``data/README.md`` ("Generated data").
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.demo.geometry import gates_facing

SETBACK_M = 12.0  # compounds keep this distance from the street centre line
GAP_M = 10.0  # internal lanes between neighbouring compounds
MIN_AREA_M2 = 2500.0

_PREFIX = ["阳光", "幸福", "锦绣", "金桂", "翠苑", "丽景", "书香", "滨江", "信江", "东方", "华府",
           "康乐", "和谐", "铜都", "象山", "龙虎", "紫荆", "银杏", "桂花", "玉兰", "凤凰", "明珠",
           "盛世", "天和", "嘉禾", "怡景", "南苑", "北苑", "文苑", "春晖", "福泰", "安居", "乐居",
           "新城", "御景", "丰源", "瑞祥", "鑫源", "江南", "水岸", "清风", "绿洲", "星河", "锦江",
           "泰和", "永安", "长青", "万象", "宏达", "恒昌"]
_SUFFIX = ["小区", "花园", "苑", "家园", "新村", "公寓", "雅居", "华庭"]
_ORDINAL = ["", "二期", "三期", "四期", "五期", "六期", "七期", "八期"]


def street_blocks(streets: BaseGeometry, area: BaseGeometry) -> list[BaseGeometry]:
    """Faces enclosed by the (noded) street lines, clipped to ``area``; largest first."""
    noded = shapely.union_all(shapely.get_parts(streets))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    blocks = [f.intersection(area) for f in faces]
    blocks = [b for b in blocks if not b.is_empty and b.area > MIN_AREA_M2]
    return sorted(blocks, key=lambda b: (-round(b.area, 3), b.centroid.x))


def _orientation(poly: BaseGeometry) -> float:
    rect = poly.minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)
    seg = np.diff(xy, axis=0)
    k = int(np.argmax(np.hypot(seg[:, 0], seg[:, 1])))
    return math.degrees(math.atan2(seg[k, 1], seg[k, 0]))


def tile_block(block: BaseGeometry, *, rng: np.random.Generator) -> list[Polygon]:
    """Cut a street block into compound-sized rectangles aligned with its long side.

    Cells are 90–170 m × 70–140 m (one size per block), 10 m apart, 12 m from the streets;
    cut-off pieces smaller than 2,500 m² or under 45 % of a full cell are dropped.
    """
    inset = block.buffer(-SETBACK_M, join_style="mitre")
    if inset.is_empty:
        return []
    angle = _orientation(inset)
    origin = inset.centroid
    rot = affinity.rotate(inset, -angle, origin=origin)
    w, h = rng.uniform(90, 170), rng.uniform(70, 140)
    minx, miny, maxx, maxy = rot.bounds
    x0, y0 = minx - rng.uniform(0, w), miny - rng.uniform(0, h)
    cells: list[Polygon] = []
    for x in np.arange(x0, maxx, w):
        for y in np.arange(y0, maxy, h):
            cell = box(x + GAP_M / 2, y + GAP_M / 2, x + w - GAP_M / 2, y + h - GAP_M / 2)
            piece = cell.intersection(rot)
            if piece.is_empty:
                continue
            if piece.geom_type != "Polygon":
                parts = [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon"]
                if not parts:
                    continue
                piece = max(parts, key=lambda p: p.area)
            if piece.area >= MIN_AREA_M2 and piece.area >= 0.45 * cell.area:
                cells.append(affinity.rotate(piece, angle, origin=origin))
    return cells


def compound_names(n: int, *, rng: np.random.Generator) -> list[str]:
    """``n`` distinct plausible compound names (小区名)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for _ in range(n):
        base = f"{rng.choice(_PREFIX)}{rng.choice(_SUFFIX)}"
        k = seen.get(base, 0)
        seen[base] = k + 1
        names.append(base + (_ORDINAL[k] if k < len(_ORDINAL) else f"{k + 1}期"))
    return names


def generate_compounds(blocks: list[BaseGeometry], *, count: int, total_households: int,
                       centre: tuple[float, float], streets: list[BaseGeometry],
                       rng: np.random.Generator, crs: int) -> gpd.GeoDataFrame:
    """``count`` compounds in ``blocks`` with households, residents, elderly and gates.

    Returns a GeoDataFrame in ``crs`` (metric) with columns name, households, residents,
    elderly, property_management, gates (MultiPoint), geometry; ordered west to east.
    """
    cells: list[Polygon] = [c for b in blocks for c in tile_block(b, rng=rng)]
    count = min(count, len(cells))
    pick = np.sort(rng.choice(len(cells), size=count, replace=False))
    polys = [cells[i] for i in pick]
    cx = np.array([p.centroid.x for p in polys])
    cy = np.array([p.centroid.y for p in polys])
    dist = np.hypot(cx - centre[0], cy - centre[1])
    # denser and older towards the old centre
    density = (60 + 140 * np.exp(-dist / 3000)) * rng.lognormal(0, 0.25, count)
    area_ha = np.array([p.area for p in polys]) / 1e4
    raw = area_ha * density
    households = np.maximum(20, np.round(raw * total_households / raw.sum())).astype(int)
    residents = np.round(households * rng.uniform(2.6, 3.0, count)).astype(int)
    p_unmanaged = np.where(dist < 1500, 0.45, 0.18)
    unmanaged = rng.random(count) < p_unmanaged
    elderly_share = np.clip(rng.normal(np.where(unmanaged, 0.24, 0.15), 0.04), 0.05, 0.45)
    elderly = np.round(residents * elderly_share).astype(int)
    tree = shapely.STRtree(streets)
    street_arr = np.asarray(streets, dtype=object)
    n_gates = rng.choice([1, 2, 3], size=count, p=[0.35, 0.45, 0.2])
    gates = [MultiPoint(gates_facing(p, tree, street_arr, int(k)))
             for p, k in zip(polys, n_gates, strict=True)]
    gdf = gpd.GeoDataFrame(
        {"name": compound_names(count, rng=rng), "households": households,
         "residents": residents, "elderly": elderly,
         "property_management": np.where(unmanaged, "unmanaged", "managed"),
         "gates": gpd.GeoSeries(gates, crs=crs)},
        geometry=polys, crs=crs)
    order = np.lexsort((cy, cx))
    return gdf.iloc[order].reset_index(drop=True)
