"""Generated service points (阵地/站点) of every built-in type, in a metric CRS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.demo.units import locate
from geo.domain import ServiceType as T

MAIN_ROADS = ("primary", "secondary", "tertiary")

#: type → (opening hours in OSM syntax — the variants are given in turn to the stations of
#: the type —, services, capacity range, floor area range m²). Checked by the import's
#: validation (:mod:`geo.io.hours`); at 22:00 on a weekday only some red, parcel and
#: courier stations are open.
PROFILES: dict[str, tuple[tuple[str, ...], list[str], tuple[int, int], tuple[float, float]]] = {
    T.PARTY_MASS_CENTRE: (("Mo-Fr 08:30-17:30", "Mo-Fr 08:30-17:30; Sa 09:00-12:00"),
                          ["党员活动", "政务代办", "议事协商", "文体活动", "图书阅览", "法律咨询"],
                          (80, 200), (500, 1200)),
    T.RED_STATION: (("09:00-21:00", "Mo-Su 08:00-22:00", "Mo-Fr 07:00-23:00; Sa,Su 08:00-20:00"),
                    ["休息", "饮水", "议事", "志愿服务", "便民工具"], (10, 30), (30, 120)),
    T.GRID_STATION: (("Mo-Fr 08:30-17:30; Sa 09:00-12:00",), ["网格员值守", "矛盾调解", "信息采集",
                                                             "代办服务"], (5, 20), (20, 80)),
    T.CONVENIENCE_POINT: (("Mo-Su 08:00-18:00", "Mo-Sa 09:00-19:00"),
                          ["理发", "缝补", "家电维修", "磨刀", "血压测量"], (5, 15), (15, 60)),
    T.COURIER_STATION: (("24/7", "Mo-Su 06:00-22:00"), ["休息", "饮水", "充电", "微波炉加热",
                                                        "卫生间", "应急药箱", "雨具借用"],
                        (8, 25), (30, 100)),
    T.PARCEL_STATION: (("Mo-Su 08:00-21:00", "Mo-Su 09:00-22:30"),
                       ["快递代收", "快递代寄", "民情回音壁"], (200, 800), (20, 80)),
    T.ELDERLY_CANTEEN: (("Mo-Su 10:30-13:00,16:30-18:30",), ["助餐", "送餐上门", "老年人优惠"],
                        (40, 150), (80, 300)),
    T.ELDERLY_DAYCARE: (("Mo-Fr 08:00-17:30",), ["日间照料", "康复训练", "文娱活动", "助浴"],
                        (15, 40), (200, 600)),
    T.AFTER_SCHOOL: (("Mo-Fr 16:30-19:00",), ["作业辅导", "课外阅读", "兴趣活动"], (20, 60),
                     (60, 200)),
}


def hours_of(kind: str, i: int) -> str:
    """Opening hours of the ``i``-th station of ``kind`` (its variants in turn)."""
    variants = PROFILES[kind][0]
    return variants[i % len(variants)]


def _gate(compound: Any) -> Point:
    gates = compound.gates
    return gates.geoms[0] if gates is not None and not gates.is_empty else \
        compound.geometry.representative_point()


def _spread(points: list[Point], n: int, min_gap_m: float, rng: np.random.Generator
            ) -> list[int]:
    """Greedy choice of up to ``n`` of ``points`` at least ``min_gap_m`` apart."""
    order = rng.permutation(len(points))
    chosen: list[int] = []
    for i in order:
        if all(points[i].distance(points[j]) >= min_gap_m for j in chosen):
            chosen.append(int(i))
        if len(chosen) == n:
            break
    return chosen


def generate_service_points(*, communities: gpd.GeoDataFrame, community_sites: list[Point],
                            grids: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
                            edges: gpd.GeoDataFrame, counts: Mapping[str, int],
                            rng: np.random.Generator, id_prefix: str) -> gpd.GeoDataFrame:
    """Service points of every type in ``counts`` (metric CRS of the inputs).

    Placement rules: party-mass centres at each community's site (one per community);
    red stations, convenience points and parcel stations at compound gates (compounds
    drawn weighted by residents); grid stations at the main gate of the largest compound
    of the most populous grids; courier stations at main-road points ≥ 500 m apart;
    elderly canteens and day care at the compound with most elderly of the communities
    with most elderly; after-school rooms at the most populous compounds.
    """
    rows: list[dict[str, Any]] = []
    comp_comm = locate(np.column_stack([compounds.geometry.centroid.x,
                                        compounds.geometry.centroid.y]),
                       list(communities.geometry))
    comp = list(compounds.itertuples())
    residents = compounds["residents"].to_numpy(dtype=float)

    def add(kind: str, name: str, where: BaseGeometry, address: str) -> None:
        _, services, cap, area = PROFILES[kind]
        nth = sum(r["type"] == str(kind) for r in rows)
        rows.append({"type": str(kind), "name": name, "address": address,
                     "opening_hours": hours_of(kind, nth), "services": list(services),
                     "capacity": int(rng.integers(cap[0], cap[1] + 1)),
                     "floor_area_m2": float(round(rng.uniform(*area), 0)), "geometry": where})

    for comm, site in zip(communities.itertuples(), community_sites, strict=True):
        if len(rows) < counts.get(T.PARTY_MASS_CENTRE, 0):
            add(T.PARTY_MASS_CENTRE, f"{comm.name}党群服务中心", site, comm.name)
    for kind, label in ((T.RED_STATION, "近邻红色驿站"), (T.CONVENIENCE_POINT, "红色便民点"),
                        (T.PARCEL_STATION, "快递驿站")):
        n = min(counts.get(kind, 0), len(comp))
        for i in np.sort(rng.choice(len(comp), size=n, replace=False,
                                    p=residents / residents.sum())):
            add(kind, f"{comp[i].name}{label}", _gate(comp[i]), comp[i].name)
    n = counts.get(T.GRID_STATION, 0)
    if n:
        grid_of = locate(np.column_stack([compounds.geometry.centroid.x,
                                          compounds.geometry.centroid.y]), list(grids.geometry))
        per_grid = np.bincount(grid_of, weights=residents, minlength=len(grids))
        for g in np.argsort(-per_grid, kind="stable")[:n]:
            members = np.flatnonzero(grid_of == g)
            grid = grids.iloc[int(g)]
            where = (_gate(comp[members[np.argmax(residents[members])]]) if len(members)
                     else grid.geometry.representative_point())
            add(T.GRID_STATION, f"{grid['name']}服务站", where, grid["name"])
    n = counts.get(T.COURIER_STATION, 0)
    if n:
        main = edges[edges["highway"].isin(MAIN_ROADS)]
        mids = [g.interpolate(0.5, normalized=True) for g in main.geometry]
        names = main["name"].tolist()
        used: dict[str, int] = {}
        for k, i in enumerate(_spread(mids, n, 500.0, rng), start=1):
            road = names[i] if isinstance(names[i], str) and names[i] else None
            if road:
                used[road] = used.get(road, 0) + 1
                label = f"暖新驿站（{road}{'' if used[road] == 1 else used[road]}）"
            else:
                label = f"小哥驿站{k}号"
            add(T.COURIER_STATION, label, mids[i], road or "")
    elderly = compounds["elderly"].to_numpy(dtype=float)
    per_comm = np.bincount(comp_comm, weights=elderly, minlength=len(communities))
    ranked = np.argsort(-per_comm, kind="stable")
    for kind, label, rank in ((T.ELDERLY_CANTEEN, "孝老食堂", 0), (T.ELDERLY_DAYCARE,
                                                                   "日间照料中心", 1)):
        for c in ranked[:counts.get(kind, 0)]:
            members = np.flatnonzero(comp_comm == c)
            if not len(members):
                continue
            pick = members[np.argsort(-elderly[members], kind="stable")]
            chosen = comp[pick[min(rank, len(pick) - 1)]]
            cname = communities.iloc[int(c)]["name"]
            add(kind, f"{cname}{label}", _gate(chosen), chosen.name)
    for i in np.argsort(-residents, kind="stable")[:counts.get(T.AFTER_SCHOOL, 0)]:
        add(T.AFTER_SCHOOL, f"{comp[i].name}六点半课堂", _gate(comp[i]), comp[i].name)
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=compounds.crs)
    gdf.insert(0, "external_id", [f"{id_prefix}{i + 1:04d}" for i in range(len(gdf))])
    return gdf
