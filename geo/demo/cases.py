"""Twelve months of generated grid cases (网格事件) with spatial and seasonal patterns.

Rules (also in ``data/README.md``): each case lies in a compound drawn with a
category-specific weight — residents times hot-spot factors (markets and the old centre
for sanitation, clutter and public order; the urban fringe for illegal construction;
dense unmanaged compounds for disputes; old compounds with many elderly for safety
hazards) — plus 20 m jitter; months follow category seasonality; closure times are
log-normal per category; cases still open at the end of the period are recent.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geo.demo.geometry import random_points_in
from geo.demo.units import locate
from geo.domain import CaseCategory as C

TZ = "Asia/Shanghai"
PERIOD_START = pd.Timestamp("2025-11-01 00:00", tz=TZ)
PERIOD_END = pd.Timestamp("2026-11-01 00:00", tz=TZ)

#: share of cases, median hours to close, seasonal peak month, seasonal amplitude
CATEGORIES: dict[str, tuple[float, float, int, float]] = {
    C.LIVELIHOOD: (0.25, 30.0, 7, 0.15),
    C.SANITATION: (0.20, 10.0, 8, 0.5),
    C.CLUTTER: (0.15, 12.0, 6, 0.2),
    C.SAFETY_HAZARD: (0.12, 20.0, 1, 0.3),
    C.DISPUTE: (0.12, 72.0, 2, 0.4),
    C.ILLEGAL_CONSTRUCTION: (0.08, 120.0, 4, 0.6),
    C.PUBLIC_ORDER: (0.08, 8.0, 7, 0.2),
}
CHANNELS = (["patrol", "12345", "app", "wechat", "qr"], [0.45, 0.20, 0.15, 0.12, 0.08])
ISSUES: dict[str, list[str]] = {
    C.LIVELIHOOD: ["路灯不亮", "下水道堵塞", "电梯故障报修", "停水咨询", "楼道灯损坏", "公共座椅损坏"],
    C.SANITATION: ["垃圾清运不及时", "绿化带有垃圾", "垃圾桶满溢", "污水外溢", "宠物粪便未清理"],
    C.CLUTTER: ["楼道堆放杂物", "消防通道堆物", "电动车乱停放", "废旧家具占道"],
    C.SAFETY_HAZARD: ["电动车楼道充电", "飞线充电", "外墙脱落隐患", "消防设施损坏", "井盖缺失"],
    C.DISPUTE: ["邻里噪音纠纷", "漏水引发邻里矛盾", "停车位纠纷", "物业费争议"],
    C.ILLEGAL_CONSTRUCTION: ["违规搭建雨棚", "私自圈占绿地", "违章加建", "占用公共空间搭建"],
    C.PUBLIC_ORDER: ["夜间聚集喧哗", "可疑人员徘徊", "流动摊贩占道", "车辆乱停影响通行"],
}
_HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 9, 10, 12, 12, 11, 10, 9, 8,
                          6, 4, 2, 1], dtype=float)
_SATISFACTION = ([1, 2, 3, 4, 5], [0.005, 0.01, 0.025, 0.18, 0.78])


@dataclass(frozen=True)
class HotSpots:
    """Points (metric) that draw cases: markets / old centre, and the city centre."""

    markets: list[Point]
    centre: tuple[float, float]


def category_weights(compounds: gpd.GeoDataFrame, spots: HotSpots) -> dict[str, np.ndarray]:
    """Per category, the probability of each compound receiving a case (sums to 1)."""
    c = compounds.geometry.centroid
    xy = np.column_stack([c.x, c.y])
    res = compounds["residents"].to_numpy(dtype=float)
    unmanaged = (compounds["property_management"] == "unmanaged").to_numpy(dtype=float)
    old = compounds["elderly"].to_numpy(dtype=float) / np.maximum(res, 1)
    dense = res / compounds.geometry.area.to_numpy()
    dense = (dense >= np.quantile(dense, 0.7)).astype(float)
    market = np.zeros(len(xy))
    for m in spots.markets:
        d2 = (xy[:, 0] - m.x) ** 2 + (xy[:, 1] - m.y) ** 2
        market += np.exp(-d2 / (2 * 250.0 ** 2))
    dist = np.hypot(xy[:, 0] - spots.centre[0], xy[:, 1] - spots.centre[1])
    fringe = (dist >= np.quantile(dist, 0.8)).astype(float)
    w = {
        C.LIVELIHOOD: res,
        C.SANITATION: res * (1 + 6 * market + 1.5 * unmanaged),
        C.CLUTTER: res * (1 + 3 * market + 2 * unmanaged),
        C.SAFETY_HAZARD: res * (1 + 10 * np.clip(old - 0.15, 0, None) + 1.5 * unmanaged),
        C.DISPUTE: res * (1 + 5 * unmanaged * dense),
        C.ILLEGAL_CONSTRUCTION: res * (1 + 8 * fringe),
        C.PUBLIC_ORDER: res * (1 + 4 * market),
    }
    return {k: v / v.sum() for k, v in w.items()}


def _month_starts() -> list[pd.Timestamp]:
    return [PERIOD_START + pd.DateOffset(months=i) for i in range(12)]


def _report_times(n: int, peak: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    starts = _month_starts()
    months = np.array([s.month for s in starts])
    days = np.array([calendar.monthrange(s.year, s.month)[1] for s in starts])
    w = days * (1 + amplitude * np.cos(2 * np.pi * (months - peak) / 12))
    m = rng.choice(12, size=n, p=w / w.sum())
    day = (rng.random(n) * days[m]).astype(int)
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    minute = rng.integers(0, 60, n)
    base = np.array([s.value for s in starts], dtype=np.int64)[m]
    offset = ((day * 24 + hour) * 60 + minute).astype(np.int64) * 60 * 1_000_000_000
    out: np.ndarray = base + offset
    return out


def generate_cases(compounds: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, spots: HotSpots, *,
                   n: int, rng: np.random.Generator, id_prefix: str) -> gpd.GeoDataFrame:
    """``n`` grid cases over the 12 months from :data:`PERIOD_START` (metric CRS of inputs).

    Columns: external_id, category, reported_at, closed_at, status, satisfaction,
    handling_unit (grid name), channel, description, geometry. Ordered by reported_at.
    """
    weights = category_weights(compounds, spots)
    shares = np.array([v[0] for v in CATEGORIES.values()])
    per_cat = rng.multinomial(n, shares / shares.sum())
    polys = list(compounds.geometry)
    unmanaged = (compounds["property_management"] == "unmanaged").to_numpy()
    names = compounds["name"].tolist()
    frames = []
    end = PERIOD_END.value
    for (cat, (_, median_h, peak, amp)), k in zip(CATEGORIES.items(), per_cat, strict=True):
        which = rng.choice(len(polys), size=k, p=weights[cat])
        counts = np.bincount(which, minlength=len(polys))
        xy, idx = random_points_in(polys, counts, rng=rng)
        xy = xy + rng.normal(0, 20.0, xy.shape)
        reported = _report_times(k, peak, amp, rng)
        hours = rng.lognormal(np.log(median_h), 0.8, k) * np.where(unmanaged[idx], 1.3, 1.0)
        closed = reported + (hours * 3600).astype(np.int64) * 1_000_000_000
        age_days = (end - reported) / 8.64e13
        backlog = (age_days < 45) & (rng.random(k) < 0.12 * (1 - age_days / 45))
        is_open = (closed > end) | backlog
        issue = ISSUES[cat]
        frames.append(pd.DataFrame({
            "category": str(cat), "reported": reported, "closed": np.where(is_open, 0, closed),
            "open": is_open, "x": xy[:, 0], "y": xy[:, 1],
            "description": [f"{names[i]}{issue[j]}" for i, j in
                            zip(idx, rng.integers(0, len(issue), k), strict=True)]}))
    df = pd.concat(frames, ignore_index=True).sort_values(["reported", "category", "x"],
                                                          kind="stable").reset_index(drop=True)
    total = len(df)
    is_open = df["open"].to_numpy()
    status = np.where(is_open, rng.choice(["reported", "dispatched", "handling"], total,
                                          p=[0.2, 0.3, 0.5]), "closed")
    sat = rng.choice(_SATISFACTION[0], size=total, p=_SATISFACTION[1]).astype(float)
    sat[is_open] = np.nan
    grid_idx = locate(df[["x", "y"]].to_numpy(), list(grids.geometry))
    reported_at = pd.to_datetime(df["reported"].to_numpy(), utc=True).tz_convert(TZ)
    closed_at = pd.Series(pd.to_datetime(df["closed"].to_numpy(), utc=True).tz_convert(TZ))
    closed_at[is_open] = pd.NaT
    channel = rng.choice(CHANNELS[0], size=total, p=CHANNELS[1])
    return gpd.GeoDataFrame(
        {"external_id": [f"{id_prefix}{i + 1:06d}" for i in range(total)],
         "category": df["category"].to_numpy(), "reported_at": reported_at,
         "closed_at": closed_at, "status": status,
         "satisfaction": pd.array(sat, dtype="Int64"),
         "handling_unit": grids["name"].to_numpy()[grid_idx], "channel": channel,
         "description": df["description"].to_numpy()},
        geometry=gpd.points_from_xy(df["x"], df["y"]), crs=compounds.crs)
