"""Seeded synthetic grid cases (for benchmarks and tests), following the cases contract."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.cases.counts import KNOWN_CATEGORIES


def synthetic_cases(n: int, *, seed: int = 0,
                    bounds: tuple[float, float, float, float] = (117.20, 28.22, 117.26, 28.28),
                    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
                    days: float = 365.0, clusters: int = 6,
                    cluster_share: float = 0.4) -> gpd.GeoDataFrame:
    """``n`` cases in ``bounds`` (lon/lat, EPSG:4326) over ``days`` from ``start``.

    A ``cluster_share`` of the cases sit in ``clusters`` Gaussian clusters (σ ≈ 300 m), the
    rest are uniform; 90 % are closed after an exponential time (mean 30 h).
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    x = rng.uniform(minx, maxx, n)
    y = rng.uniform(miny, maxy, n)
    k = int(n * cluster_share)
    if clusters and k:
        cx = rng.uniform(minx + 0.2 * (maxx - minx), maxx - 0.2 * (maxx - minx), clusters)
        cy = rng.uniform(miny + 0.2 * (maxy - miny), maxy - 0.2 * (maxy - miny), clusters)
        which = rng.integers(0, clusters, k)
        x[:k] = np.clip(cx[which] + rng.normal(0, 0.003, k), minx, maxx)
        y[:k] = np.clip(cy[which] + rng.normal(0, 0.003, k), miny, maxy)
    seconds = np.round(rng.uniform(0, days * 86400, n))
    reported = pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s")
    closed = rng.uniform(0, 1, n) < 0.9
    closed_at = pd.Series(reported + pd.to_timedelta(np.round(rng.exponential(30 * 3600, n)),
                                                      unit="s")).where(closed)
    return gpd.GeoDataFrame({
        "case_id": [f"syn-{i}" for i in range(n)],
        "category": rng.choice(np.array(KNOWN_CATEGORIES), n),
        "reported_at": pd.Series(reported),
        "closed_at": closed_at,
        "status": np.where(closed, "closed", "handling"),
        "satisfaction": np.where(closed, rng.integers(1, 6, n), np.nan),
    }, geometry=gpd.points_from_xy(x, y), crs=4326)
