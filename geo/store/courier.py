"""Courier-station reach in PostGIS: runs stored (computed by :mod:`geo.runs.courier`), read.

Every function takes a connection and never commits. Geometries are EPSG:4326. Stored
station ids are ``service_point.id``; compound ids ``compound.id``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.courier.reach import CourierReach
from geo.store.cities import data_version

#: ``analysis_run.kind`` of a stored courier-reach run.
RUN_KIND = "courier_reach"
Weight = Literal["residents", "compound_demand", "demand_points"]
WEIGHTS: tuple[str, ...] = ("residents", "compound_demand", "demand_points")
INPUT_TABLES = ("compound", "grid_compound", "service_point", "street_edge",
                "courier_demand_point", "courier_compound_demand")


def _num(v: Any) -> float | None:
    """A float for SQL: NaN → NULL; ±inf kept (stored as ±Infinity)."""
    if v is None or v is pd.NA:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def store_courier_run(conn: Connection, city_id: int, reach: CourierReach, *,
                      service_type: str, params: Mapping[str, Any] | None = None) -> int:
    """Record one reach run (``analysis_run`` kind ``courier_reach``) and its rows.

    ``reach`` must be keyed by ``service_point.id`` and ``compound.id``. Returns the run id;
    the ``courier_*_latest`` views then show it for the city and service type.
    """
    full = {**dict(params or {}), "service_type": service_type, "mode": reach.mode,
            "speed_m_per_min": reach.speed_m_per_min, "budget_m": reach.budget_m,
            "minutes": reach.minutes, "weight": reach.weight,
            "overlap_min_share": reach.overlap_min_share, "metric_epsg": reach.metric_epsg}
    run_id = int(conn.execute(text("""
        INSERT INTO analysis_run (city_id, kind, params, data_version, summary)
        VALUES (:city, :kind, CAST(:params AS json), CAST(:version AS json),
                CAST(:summary AS json)) RETURNING id"""),
        {"city": city_id, "kind": RUN_KIND, "params": json.dumps(full, default=str),
         "version": json.dumps(data_version(conn, INPUT_TABLES)),
         "summary": json.dumps(reach.summary(), default=str)}).scalar_one())
    st = reach.stations
    geoms: list[Any] = [None] * len(st)
    if reach.catchments is not None:
        geoms = list(reach.catchments.geometry.values)
    conn.execute(text("""
        INSERT INTO courier_station (run_id, city_id, service_point_id, snapped, compounds, residents,
            households, grids, demand, catchment_street_m, catchment)
        VALUES (:run, :city, :sp, :snapped, :compounds, :residents, :households, :grids, :demand,
                :street_m, ST_Multi(ST_CollectionExtract(ST_MakeValid(
                    ST_GeomFromWKB(CAST(:wkb AS bytea), 4326)), 3)))"""),
        [{"run": run_id, "city": city_id, "sp": int(r.station_id), "snapped": bool(r.snapped),
          "compounds": int(r.compounds), "residents": float(r.residents),
          "households": float(r.households), "grids": int(r.grids), "demand": float(r.demand),
          "street_m": _num(r.catchment_street_m),
          "wkb": None if g is None or g.is_empty else shapely.to_wkb(g)}
         for r, g in zip(st.itertuples(), geoms, strict=True)])
    c = reach.compounds
    conn.execute(text("""
        INSERT INTO courier_compound (run_id, city_id, compound_id, snapped, n_stations, station_ids,
            best_station_id, best_m, reached, demand)
        VALUES (:run, :city, :cid, :snapped, :n, :ids, :best_id, :best_m, :reached, :demand)"""),
        [{"run": run_id, "city": city_id, "cid": int(r.compound_id), "snapped": bool(r.snapped),
          "n": int(r.n_stations), "ids": [int(i) for i in r.station_ids],
          "best_id": None if r.best_station_id is None else int(r.best_station_id),
          "best_m": _num(r.best_m), "reached": None if r.reached is pd.NA else bool(r.reached),
          "demand": _num(r.demand)} for r in c.itertuples()])
    if len(reach.grids):
        conn.execute(text("""
            INSERT INTO courier_grid (run_id, city_id, grid_id, residents, residents_reached,
                residents_unknown, share_reached, compounds, compounds_reached, n_stations,
                reached)
            VALUES (:run, :city, :gid, :res, :res_r, :res_u, :share, :n, :n_r, :n_s, :reached)"""),
            [{"run": run_id, "city": city_id, "gid": int(r.grid_id), "res": float(r.residents),
              "res_r": float(r.residents_reached), "res_u": float(r.residents_unknown),
              "share": _num(r.share_reached), "n": int(r.compounds),
              "n_r": int(r.compounds_reached), "n_s": int(r.n_stations),
              "reached": bool(r.reached)} for r in reach.grids.itertuples()])
    if len(reach.overlaps):
        conn.execute(text("""
            INSERT INTO courier_overlap (run_id, city_id, station_a, station_b, compounds, residents,
                demand, share_a, share_b, share, jaccard, beyond)
            VALUES (:run, :city, :a, :b, :n, :res, :dem, :sa, :sb, :s, :j, :beyond)"""),
            [{"run": run_id, "city": city_id, "a": int(r.station_a), "b": int(r.station_b),
              "n": int(r.compounds), "res": float(r.residents), "dem": float(r.demand),
              "sa": _num(r.share_a), "sb": _num(r.share_b), "s": _num(r.share),
              "j": _num(r.jaccard), "beyond": bool(r.beyond)}
             for r in reach.overlaps.itertuples()])
    return run_id


def latest_courier_run(conn: Connection, city_id: int, service_type: str
                       ) -> dict[str, Any] | None:
    """The newest reach run of a city and service type (id, created_at, params, summary)."""
    row = conn.execute(text("""
        SELECT id, created_at, params, summary FROM analysis_run
        WHERE city_id = :city AND kind = :kind AND params->>'service_type' = :type
        ORDER BY created_at DESC, id DESC LIMIT 1"""),
        {"city": city_id, "kind": RUN_KIND, "type": service_type}).one_or_none()
    if row is None:
        return None
    return {"id": int(row.id), "created_at": row.created_at, "params": row.params,
            "summary": row.summary}


def _frame(rows: Sequence[Any], cols: list[str], geom: str | None = "wkb") -> Any:
    df = pd.DataFrame([{c: getattr(r, c) for c in cols} for r in rows], columns=cols)
    if geom is None:
        return df
    g = [shapely.from_wkb(bytes(getattr(r, geom))) if getattr(r, geom) is not None else None
         for r in rows]
    return gpd.GeoDataFrame(df, geometry=g, crs=4326)


STATION_COLUMNS = ["service_point_id", "external_id", "name", "snapped", "compounds",
                   "residents", "households", "grids", "demand", "catchment_street_m"]


def read_run_stations(conn: Connection, city_id: int, run_id: int, *,
                      catchments: bool = False) -> gpd.GeoDataFrame:
    """Per-station reach of run ``run_id`` of city ``city_id``, largest reach first; geometry the station point or,
    with ``catchments``, the catchment polygon (None when the station is not snapped)."""
    geom = "s.catchment" if catchments else "p.geom"
    rows = conn.execute(text(f"""
        SELECT p.id AS service_point_id, p.external_id, p.name, s.snapped, s.compounds,
               s.residents, s.households, s.grids, s.demand, s.catchment_street_m,
               ST_AsBinary({geom}) AS wkb
        FROM courier_station s JOIN service_point p ON p.id = s.service_point_id
        WHERE s.city_id = :city AND s.run_id = :run
        ORDER BY s.residents DESC, p.external_id"""), {"city": city_id, "run": run_id}).all()
    return _frame(rows, STATION_COLUMNS)


COMPOUND_COLUMNS = ["compound_id", "external_id", "name", "residents", "households",
                    "snapped", "n_stations", "station_ids", "best_station", "best_m",
                    "reached", "demand"]


def read_run_compounds(conn: Connection, city_id: int, run_id: int, *,
                       unreached_only: bool = False) -> gpd.GeoDataFrame:
    """Per-compound redundancy of run ``run_id`` of city ``city_id`` (station ids as external ids), compound polygons;
    ``unreached_only`` keeps the snapped compounds no station reaches."""
    rows = conn.execute(text("""
        SELECT k.id AS compound_id, k.external_id, k.name, k.residents, k.households,
               c.snapped, c.n_stations,
               ARRAY(SELECT p.external_id FROM service_point p
                     WHERE p.id = ANY(c.station_ids) ORDER BY p.external_id) AS station_ids,
               b.external_id AS best_station, c.best_m, c.reached, c.demand,
               ST_AsBinary(k.geom) AS wkb
        FROM courier_compound c JOIN compound k ON k.id = c.compound_id AND k.city_id = c.city_id
        LEFT JOIN service_point b ON b.id = c.best_station_id
        WHERE c.city_id = :city AND c.run_id = :run AND (NOT :unreached OR c.reached IS FALSE)
        ORDER BY k.residents DESC, k.external_id"""),
        {"city": city_id, "run": run_id, "unreached": unreached_only}).all()
    return _frame(rows, COMPOUND_COLUMNS)


GRID_COLUMNS = ["grid_id", "external_id", "name", "residents", "residents_reached",
                "residents_unknown", "share_reached", "compounds", "compounds_reached",
                "n_stations", "reached"]


def read_run_grids(conn: Connection, city_id: int, run_id: int) -> gpd.GeoDataFrame:
    """Per-grid reach of run ``run_id`` of city ``city_id`` with the grid polygons."""
    rows = conn.execute(text("""
        SELECT g.id AS grid_id, g.external_id, g.name, c.residents, c.residents_reached,
               c.residents_unknown, c.share_reached, c.compounds, c.compounds_reached,
               c.n_stations, c.reached, ST_AsBinary(g.geom) AS wkb
        FROM courier_grid c JOIN grid g ON g.id = c.grid_id
        WHERE c.city_id = :city AND c.run_id = :run ORDER BY g.external_id"""),
        {"city": city_id, "run": run_id}).all()
    return _frame(rows, GRID_COLUMNS)


OVERLAP_COLUMNS = ["station_a", "name_a", "station_b", "name_b", "compounds", "residents",
                   "demand", "share_a", "share_b", "share", "jaccard", "beyond"]


def read_run_overlaps(conn: Connection, city_id: int, run_id: int, *,
                      min_share: float = 0.0) -> gpd.GeoDataFrame:
    """Overlapping station pairs of run ``run_id`` of city ``city_id`` with ``share ≥ min_share``, largest share first;
    geometry the line between the two stations."""
    rows = conn.execute(text("""
        SELECT a.external_id AS station_a, a.name AS name_a, b.external_id AS station_b,
               b.name AS name_b, o.compounds, o.residents, o.demand, o.share_a, o.share_b,
               o.share, o.jaccard, o.beyond, ST_AsBinary(ST_MakeLine(a.geom, b.geom)) AS wkb
        FROM courier_overlap o JOIN service_point a ON a.id = o.station_a
        JOIN service_point b ON b.id = o.station_b
        WHERE o.city_id = :city AND o.run_id = :run AND COALESCE(o.share, 0) >= :min_share
        ORDER BY o.share DESC NULLS LAST, o.demand DESC, a.external_id, b.external_id"""),
        {"city": city_id, "run": run_id, "min_share": float(min_share)}).all()
    return _frame(rows, OVERLAP_COLUMNS)

