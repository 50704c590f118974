"""Grid cases in PostGIS: filtered reads, grids with residents, stored hot-spot runs.

Functions take a SQLAlchemy ``Connection`` and never commit. Geometries are EPSG:4326.
A run's public columns (``n_public``, ``density_public``, ``closure_rate_public`` …) are
computed here by :mod:`geo.cases.public` (the rule of :mod:`geo.cases.privacy`) and the
``case_*_latest`` views only show them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from geo.cases.counts import check_categories, check_window
from geo.cases.hotspots import DensitySurface, HotSpotResult
from geo.cases.privacy import PUBLIC_TZ, PublicWindow
from geo.cases.stats import GridCaseStats
from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.store.cities import data_version

#: ``analysis_run.kind`` of a stored hot-spot run.
RUN_KIND = "case_hotspots"


def read_cases(conn: Connection, city_id: int, *, categories: Iterable[str] | None = None,
               start: datetime | None = None, end: datetime | None = None
               ) -> gpd.GeoDataFrame:
    """Cases of city ``city_id`` of the given categories reported in ``[start, end)``.

    Filtering happens in SQL; the result follows the cases contract of :mod:`geo.cases`
    (EPSG:4326 points, ``case_id`` = external id, timestamps in UTC).
    """
    cats = check_categories(categories)
    check_window(start, end)
    rows = conn.execute(text("""
        SELECT external_id AS case_id, category, reported_at, closed_at, status,
               satisfaction, ST_X(geom) AS lon, ST_Y(geom) AS lat
        FROM grid_case
        WHERE city_id = :city
          AND (CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))
          AND (CAST(:start AS timestamptz) IS NULL OR reported_at >= :start)
          AND (CAST(:end AS timestamptz) IS NULL OR reported_at < :end)
        ORDER BY reported_at, id"""),
        {"city": city_id, "cats": list(cats) if cats is not None else None,
         "start": start, "end": end}).all()
    df = pd.DataFrame(rows, columns=["case_id", "category", "reported_at", "closed_at", "status",
                                     "satisfaction", "lon", "lat"])
    df["reported_at"] = pd.to_datetime(df["reported_at"], utc=True)
    df["closed_at"] = pd.to_datetime(df["closed_at"], utc=True)
    df["satisfaction"] = pd.to_numeric(df["satisfaction"], errors="coerce").astype(float)
    geometry = gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float))
    return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=geometry, crs=4326)


def case_month_counts(conn: Connection, city_id: int, *, end: datetime | None = None
                      ) -> pd.Series:
    """Cases of city ``city_id`` per calendar month of China Standard Time, all categories:
    a Series of counts indexed by 'YYYY-MM' (months without cases absent), oldest first,
    of cases reported before ``end`` (tz-aware; None: all)."""
    rows = conn.execute(text("""
        SELECT to_char(reported_at AT TIME ZONE :tz, 'YYYY-MM') AS month,
               count(*) AS n
        FROM grid_case
        WHERE city_id = :city AND (CAST(:end AS timestamptz) IS NULL OR reported_at < :end)
        GROUP BY 1 ORDER BY 1"""), {"city": city_id, "end": end, "tz": PUBLIC_TZ}).all()
    return pd.Series([int(r.n) for r in rows], index=[str(r.month) for r in rows],
                     dtype="int64", name="n_cases")


def read_grids(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """Grids of ``city_id`` with residents (compound residents × resident share, summed).

    Columns ``grid_id``, ``external_id``, ``name``, ``residents`` (float; 0 where no
    compound overlaps) and the grid polygon (EPSG:4326).
    """
    rows = conn.execute(text("""
        SELECT g.id AS grid_id, g.external_id, g.name,
               COALESCE(sum(c.residents * gc.resident_share), 0) AS residents,
               ST_AsBinary(g.geom) AS wkb
        FROM grid g
        LEFT JOIN grid_compound gc ON gc.grid_id = g.id AND gc.city_id = g.city_id
        LEFT JOIN compound c ON c.id = gc.compound_id AND c.city_id = gc.city_id
        WHERE g.city_id = :city
        GROUP BY g.id ORDER BY g.id"""), {"city": city_id}).all()
    return gpd.GeoDataFrame(
        {"grid_id": [int(r.grid_id) for r in rows], "external_id": [r.external_id for r in rows],
         "name": [r.name for r in rows], "residents": [float(r.residents) for r in rows]},
        geometry=[shapely.from_wkb(bytes(r.wkb)) for r in rows], crs=4326)


def study_area(conn: Connection, city_id: int, *,
               of: Literal["grids", "city"] = "grids") -> BaseGeometry:
    """The area hot spots are computed over (EPSG:4326).

    ``of="grids"``: the union of the city's grids (the governed area), or the city bounds
    when it has no grids; ``of="city"``: the city bounds.
    """
    if of not in ("grids", "city"):
        raise InvalidInputError("study area must be 'grids' or 'city'",
                                [Problem(f"got {of!r}", field="area")])
    wkb = conn.execute(text("""
        SELECT ST_AsBinary(COALESCE(
            CASE WHEN :of = 'grids' THEN
                (SELECT ST_UnaryUnion(ST_Collect(geom)) FROM grid WHERE city_id = :city) END,
            (SELECT bounds FROM city WHERE id = :city)))"""),
        {"city": city_id, "of": of}).scalar()
    if wkb is None:
        raise NotFoundError(f"no city with id {city_id}")
    return shapely.from_wkb(bytes(wkb))


def _num(v: Any) -> float | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return float(v)


def _int(v: Any) -> int | None:
    return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) \
        else int(v)


@dataclass(frozen=True)
class PublicFigures:
    """The public columns of a run, from :mod:`geo.cases.public` over ``window``.

    ``hexes``: ``h3``, ``n_cases`` (NA when withheld), ``suppressed``; ``density``: ``h3``,
    ``density_per_km2`` (NaN when withheld); ``grids``: a public closure table.
    """

    window: PublicWindow
    hexes: pd.DataFrame
    density: pd.DataFrame | None = None
    grids: pd.DataFrame | None = None


def store_hotspot_run(conn: Connection, city_id: int, hotspots: HotSpotResult, *,
                      params: Mapping[str, Any], kde: DensitySurface | None = None,
                      grid_stats: GridCaseStats | None = None,
                      summary: Mapping[str, Any] | None = None,
                      public: PublicFigures | None = None) -> int:
    """Record one hot-spot run (``analysis_run`` kind ``case_hotspots``) and its cells.

    ``params`` should hold the filters (categories, window), resolution and
    ``min_public_case_count``; the Gi* settings and KDE bandwidth are added here. Public
    columns come from ``public`` (without it the run publishes no figures). Returns the
    run id. The ``case_*_latest`` views then show this run for the city.
    """
    full = {**params, "k": hotspots.k, "permutations": hotspots.permutations,
            "seed": hotspots.seed, "fdr": hotspots.fdr, "resolution": hotspots.resolution}
    if kde is not None:
        full |= {"bandwidth_m": kde.bandwidth_m, "kde_epsg": kde.epsg}
    if public is not None:
        full["public_window"] = public.window.meta()
    version = data_version(conn, ["grid_case", "grid", "compound"])
    run_id = int(conn.execute(text("""
        INSERT INTO analysis_run (city_id, kind, params, data_version, summary)
        VALUES (:city, :kind, CAST(:params AS json), CAST(:version AS json),
                CAST(:summary AS json)) RETURNING id"""),
        {"city": city_id, "kind": RUN_KIND, "params": json.dumps(full, default=str),
         "version": json.dumps(version),
         "summary": json.dumps(dict(summary or {}), default=str)}).scalar_one())
    c = hotspots.cells
    pub_hex = (public.hexes.set_index("h3") if public is not None
               else pd.DataFrame(columns=["n_cases", "suppressed"]))
    conn.execute(text("""
        INSERT INTO case_hex (run_id, city_id, h3, n_cases, gi_z, p, q, bin, suppressed, n_public, geom)
        VALUES (:run, :city, :h3, :n, :z, :p, :q, :bin, :hidden, :n_public,
                ST_GeomFromWKB(:wkb, 4326))"""),
        [{"run": run_id, "city": city_id, "h3": h, "n": int(n), "z": _num(z), "p": _num(p), "q": _num(q),
          "bin": int(b), "wkb": shapely.to_wkb(g),
          **_public_hex(pub_hex, h, int(n), public is not None)}
         for h, n, z, p, q, b, g in zip(c["h3"], c["n_cases"], c["gi_z"], c["p"], c["q"],
                                        c["bin"], c.geometry)])
    if kde is not None:
        k = kde.cells
        pub_kde = (public.density.set_index("h3")["density_per_km2"]
                   if public is not None and public.density is not None else pd.Series())
        conn.execute(text("""
            INSERT INTO case_kde (run_id, city_id, h3, density_per_km2, n_near, density_public, geom)
            VALUES (:run, :city, :h3, :d, :n, :public, ST_GeomFromWKB(:wkb, 4326))"""),
            [{"run": run_id, "city": city_id, "h3": h, "d": float(d), "n": int(n),
              "public": _num(pub_kde.get(h)), "wkb": shapely.to_wkb(g)}
             for h, d, n, g in zip(k["h3"], k["density_per_km2"], k["n_near"], k.geometry)])
    if grid_stats is not None and len(grid_stats.table):
        cols = ["residents", "n_cases", "per_1000_residents", "n_closed", "closure_rate",
                "median_closure_h", "p90_closure_h", "n_open", "n_overdue", "mean_satisfaction"]
        table = grid_stats.table
        pub_grid = (public.grids.set_index("grid_id")
                    if public is not None and public.grids is not None else None)
        conn.execute(text(f"""
            INSERT INTO case_grid (run_id, city_id, grid_id, suppressed, n_public, closure_rate_public,
                                   median_closure_h_public, {", ".join(cols)})
            VALUES (:run, :city, :grid_id, :hidden, :n_public, :rate_public, :median_public,
                    {", ".join(":" + c for c in cols)})"""),
            [{"run": run_id, "city": city_id, "grid_id": int(r["grid_id"]),
              **_public_grid(pub_grid, int(r["grid_id"]), int(r["n_cases"])),
              **{c: (int(r[c]) if c.startswith("n_") else _num(r[c])) for c in cols}}
             for r in table.to_dict("records")])
    return run_id


def _public_hex(pub: pd.DataFrame, h3: str, n: int, known: bool) -> dict[str, Any]:
    """Public columns of one stored cell: its public count, or nothing when withheld."""
    if h3 in pub.index:
        return {"n_public": _int(pub.at[h3, "n_cases"]),
                "hidden": bool(pub.at[h3, "suppressed"])}
    return {"n_public": None, "hidden": n > 0 and not known}


def _public_grid(pub: pd.DataFrame | None, grid_id: int, n: int) -> dict[str, Any]:
    """Public columns of one stored grid (all None, suppressed, without public figures)."""
    if pub is None or grid_id not in pub.index:
        return {"hidden": n > 0, "n_public": None, "rate_public": None, "median_public": None}
    row = pub.loc[grid_id]
    return {"hidden": bool(row["suppressed"]), "n_public": _int(row["n_cases"]),
            "rate_public": _num(row["closure_rate"]),
            "median_public": _num(row["median_closure_h"])}


def latest_run(conn: Connection, city_id: int) -> dict[str, Any] | None:
    """The newest hot-spot run of ``city_id`` (id, created_at, params, summary), or None."""
    row = conn.execute(text("""
        SELECT id, created_at, params, summary FROM analysis_run
        WHERE city_id = :city AND kind = :kind
        ORDER BY created_at DESC, id DESC LIMIT 1"""),
        {"city": city_id, "kind": RUN_KIND}).one_or_none()
    if row is None:
        return None
    return {"id": int(row.id), "created_at": row.created_at, "params": row.params,
            "summary": row.summary}


def read_run_hexes(conn: Connection, city_id: int, run_id: int) -> gpd.GeoDataFrame:
    """Stored Gi* cells of run ``run_id`` of city ``city_id`` (``h3, n_cases, gi_z, p, q, bin``, hexagon)."""
    rows = conn.execute(text("""
        SELECT h3, n_cases, gi_z, p, q, bin, ST_AsBinary(geom) AS wkb
        FROM case_hex WHERE city_id = :city AND run_id = :run ORDER BY h3"""),
        {"city": city_id, "run": run_id}).all()
    return gpd.GeoDataFrame(
        {"h3": [r.h3 for r in rows], "n_cases": [int(r.n_cases) for r in rows],
         "gi_z": [_num(r.gi_z) for r in rows], "p": [_num(r.p) for r in rows],
         "q": [_num(r.q) for r in rows], "bin": [int(r.bin) for r in rows]},
        geometry=[shapely.from_wkb(bytes(r.wkb)) for r in rows], crs=4326)
