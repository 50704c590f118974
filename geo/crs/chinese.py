"""Chinese offset coordinates: GCJ-02 ("Mars" coordinates) and BD-09, to and from WGS-84.

Maps published in mainland China (AMap/Gaode, Tencent, Google China) use GCJ-02, an
obfuscated WGS-84 with a non-linear offset of a few hundred metres; Baidu adds a second
offset on top (BD-09). The forward formulas are the widely published ones (Krasovsky
ellipsoid constants ``a = 6378245.0``, ``ee = 0.00669342162296594323``). The inverses are
solved iteratively (fixed-point iteration of the forward transform) to better than 1e-9°
(≈ 0.1 mm), far inside the 0.5 m required.

Outside China the GCJ-02 offset is zero. "China" is the usual bounding box
lon 72.004–137.8347°E, lat 0.8293–55.8271°N (the same box as most open-source
implementations, so results agree with theirs near borders). BD-09's own offset applies
everywhere, as Baidu does.

All functions take and return lon/lat degrees, vectorised over numpy arrays or scalars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs.utm import WGS84

A = 6378245.0
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
_TOL_DEG = 1e-10
_MAX_ITER = 50

Offset = Literal["gcj02", "bd09"]
Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (lon, lat) lies inside :data:`CHINA_BOX` (where GCJ-02 shifts)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    minx, miny, maxx, maxy = CHINA_BOX
    return np.asarray((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))


def _delta(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Pair:
    x, y = lon - 105.0, lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x.astype(float, copy=True), y.astype(float, copy=True)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS-84 → GCJ-02 (degrees); unchanged outside :data:`CHINA_BOX`."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _delta(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def _invert(forward: object, lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Solve forward(w) = target by fixed-point iteration w ← w − (forward(w) − target)."""
    tx, ty = _arrays(lon, lat)
    wx, wy = tx.copy(), ty.copy()
    for _ in range(_MAX_ITER):
        fx, fy = forward(wx, wy)  # type: ignore[operator]
        ex, ey = fx - tx, fy - ty
        wx, wy = wx - ex, wy - ey
        err = np.nanmax(np.abs(np.concatenate([np.ravel(ex), np.ravel(ey)])), initial=0.0)
        if err < _TOL_DEG:
            break
    return wx, wy


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 → WGS-84 (degrees), iterative inverse accurate to < 1e-9° (≈ 0.1 mm)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 → BD-09 (degrees)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 → GCJ-02 (degrees), iterative inverse of :func:`gcj02_to_bd09`."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS-84 → BD-09 (degrees)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 → WGS-84 (degrees)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _apply(geoms: NDArray[np.object_], fn: object) -> NDArray[np.object_]:
    def coords(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = fn(xy[:, 0], xy[:, 1])  # type: ignore[operator]
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, coords), dtype=object)


def to_wgs84(gdf: gpd.GeoDataFrame, offset: Offset) -> gpd.GeoDataFrame:
    """Convert every geometry of ``gdf`` (any type, given in ``offset``) to WGS-84.

    ``gdf``'s declared CRS is ignored (offset coordinates have no EPSG code); the result
    is declared EPSG:4326. Other geometry columns (e.g. compound ``gates``) are converted
    too.
    """
    return _convert(gdf, _TO_WGS84[offset])


def from_wgs84(gdf: gpd.GeoDataFrame, offset: Offset) -> gpd.GeoDataFrame:
    """Convert every geometry of ``gdf`` (WGS-84) to ``offset`` coordinates (GCJ-02/BD-09)."""
    return _convert(gdf, _FROM_WGS84[offset])


def _convert(gdf: gpd.GeoDataFrame, fn: object) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, gpd.array.GeometryDtype):
            arr = _apply(np.asarray(out[col].values, dtype=object), fn)
            out[col] = gpd.GeoSeries(arr, index=out.index, crs=WGS84)
    return out.set_crs(WGS84, allow_override=True)


@dataclass(frozen=True)
class OffsetCheck:
    """Median distance (metres) of features to the nearest street, as given and as if they
    were GCJ-02 or BD-09; ``suspected`` names the offset that fits the streets clearly and
    significantly better than the coordinates as given (``None`` if none does).

    ``points`` is the number of coordinates looked at, ``features`` the number of features
    they belong to (the independent units of the test), ``p_value`` the one-sided sign-test
    p-value of the best offset (``nan`` when no test was made).
    """

    points: int
    median_m: float
    median_gcj02_m: float
    median_bd09_m: float
    suspected: Offset | None
    features: int = 0
    p_value: float = float("nan")


def sign_test_p(better: int, n: int) -> float:
    """One-sided sign-test p-value: P(X ≥ ``better``) for X ~ Binomial(``n``, ½)."""
    if n <= 0 or better <= 0:
        return 1.0
    if better > n:
        return 0.0
    return sum(math.comb(n, k) for k in range(better, n + 1)) / 2**n


def detect_offset(lon: ArrayLike, lat: ArrayLike, streets: gpd.GeoSeries, *, metric_epsg: int,
                  groups: ArrayLike | None = None, min_features: int = 10, ratio: float = 0.5,
                  min_gain_m: float = 15.0, alpha: float = 1e-3) -> OffsetCheck:
    """Do WGS-84 features look GCJ-02/BD-09-shifted against a city's streets (EPSG:4326)?

    Each feature (its coordinates share a ``groups`` label; by default every point is a
    feature of its own) is summarised by the median distance of its coordinates to the
    nearest street (in ``metric_epsg``, metres), as given and converted from GCJ-02 / BD-09
    to WGS-84. An offset is suspected only when all of these hold:

    * there are at least ``min_features`` features: a handful of features (one district
      polygon, three communities) cannot tell a shift from chance;
    * a one-sided sign test over the features (does the converted feature lie closer to
      the streets than the feature as given?) is significant at ``alpha``: coordinates of
      one feature are not independent, so features, not coordinates, are the sample;
    * the median over features is below ``ratio`` × the median as given and at least
      ``min_gain_m`` smaller.
    """
    x, y = _arrays(lon, lat)
    g = np.arange(x.size) if groups is None else np.asarray(groups).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, g = x[ok], y[ok], g[ok]
    labels = np.unique(g, return_inverse=True)[1] if len(g) else np.zeros(0, dtype=int)
    n_features = int(labels.max()) + 1 if len(labels) else 0
    nan = float("nan")
    if n_features < min_features or len(streets) == 0:
        return OffsetCheck(len(x), nan, nan, nan, None, n_features)
    lines = np.asarray(streets.to_crs(metric_epsg).values, dtype=object)
    tree = shapely.STRtree(lines)

    def per_feature(px: NDArray[np.float64], py: NDArray[np.float64]) -> NDArray[np.float64]:
        pts = gpd.GeoSeries(gpd.points_from_xy(px, py), crs=WGS84).to_crs(metric_epsg)
        _, dist = tree.query_nearest(np.asarray(pts.values, dtype=object), return_distance=True,
                                     all_matches=False)
        return np.asarray(pd.Series(dist).groupby(labels).median().to_numpy(), dtype=float)

    raw = per_feature(x, y)
    shifted: dict[Offset, NDArray[np.float64]] = {"gcj02": per_feature(*gcj02_to_wgs84(x, y)),
                                                  "bd09": per_feature(*bd09_to_wgs84(x, y))}
    raw_m = float(np.median(raw))
    medians = {o: float(np.median(d)) for o, d in shifted.items()}
    best: Offset = "gcj02" if medians["gcj02"] <= medians["bd09"] else "bd09"
    d = shifted[best]
    p = sign_test_p(int(np.sum(d < raw)), int(np.sum(d != raw)))
    best_m = medians[best]
    suspected = best if (p < alpha and best_m < ratio * raw_m
                         and raw_m - best_m >= min_gain_m) else None
    return OffsetCheck(len(x), raw_m, medians["gcj02"], medians["bd09"], suspected, n_features,
                       p)
