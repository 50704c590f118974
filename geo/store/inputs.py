"""The shared inputs of the analyses, read once: compounds, service points, unit links, demand.

Coverage, courier reach and siting read a city's compounds, its service points, the
links of compounds to grids, communities and streets, and the demand imported for it
from here, with one column set each. Every function takes a connection and never
commits; geometries are EPSG:4326 and ids the database's (``compound.id``,
``service_point.id``, ``grid.id``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.cases.counts import check_categories, check_window
from geo.crs.utm import WGS84
from geo.errors import InvalidInputError, Problem

#: Demand kinds counted per compound by :func:`read_compound_demand`.
DEMAND_KINDS = ("cases", "rider_demand", "compound_demand")
#: Units a compound belongs to, in :func:`unit_links`.
UNIT_KINDS = ("grid", "community", "street")


def _wkb(v: Any) -> Any:
    return None if v is None else shapely.from_wkb(bytes(v))


def read_compounds(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """Compounds of ``city_id`` ordered by id: ``id, external_id, name, community_id,
    street_id`` (nullable integers), ``residents, households, elderly`` (0 where unknown),
    the age groups ``age_0_14, age_15_59, age_60_plus`` (nullable integers: null where
    unknown; ``age_60_plus`` is the stored ``elderly``),
    ``gates`` (the user's) and ``inferred_gates`` (from OSM, :mod:`geo.store.gates`) —
    MultiPoint or None, EPSG:4326 — and the polygon."""
    rows = conn.execute(text("""
        SELECT c.id, c.external_id, c.name, c.community_id, m.street_id, c.residents,
               c.households, COALESCE(c.elderly, 0) AS elderly, c.age_0_14, c.age_15_59,
               c.elderly AS age_60_plus,
               ST_AsBinary(c.gates) AS gates, ST_AsBinary(c.inferred_gates) AS inferred,
               ST_AsBinary(c.geom) AS wkb
        FROM compound c LEFT JOIN community m ON m.id = c.community_id
        WHERE c.city_id = :city ORDER BY c.id"""), {"city": city_id}).all()
    return gpd.GeoDataFrame(
        {"id": [int(r.id) for r in rows], "external_id": [r.external_id for r in rows],
         "name": [r.name for r in rows],
         "community_id": pd.array([r.community_id for r in rows], dtype="Int64"),
         "street_id": pd.array([r.street_id for r in rows], dtype="Int64"),
         "residents": [int(r.residents) for r in rows],
         "households": [int(r.households) for r in rows],
         "elderly": [int(r.elderly) for r in rows],
         **{g: pd.array([getattr(r, g) for r in rows], dtype="Int64")
            for g in ("age_0_14", "age_15_59", "age_60_plus")},
         "gates": gpd.GeoSeries([_wkb(r.gates) for r in rows], crs=WGS84),
         "inferred_gates": gpd.GeoSeries([_wkb(r.inferred) for r in rows], crs=WGS84)},
        geometry=[_wkb(r.wkb) for r in rows], crs=WGS84)


def read_services(conn: Connection, city_id: int, *, service_type: str | None = None
                  ) -> gpd.GeoDataFrame:
    """Service points of ``city_id`` (of one ``service_type`` if given) ordered by id:
    ``id, external_id, type, name, opening_hours`` (OSM syntax, None when unknown) and the
    point."""
    rows = conn.execute(text("""
        SELECT id, external_id, type, name, opening_hours, ST_AsBinary(geom) AS wkb
        FROM service_point
        WHERE city_id = :city AND (CAST(:type AS text) IS NULL OR type = :type)
        ORDER BY id"""), {"city": city_id, "type": service_type}).all()
    return gpd.GeoDataFrame(
        {"id": [int(r.id) for r in rows], "external_id": [r.external_id for r in rows],
         "type": [r.type for r in rows], "name": [r.name for r in rows],
         "opening_hours": [r.opening_hours for r in rows]},
        geometry=[_wkb(r.wkb) for r in rows], crs=WGS84)


def read_grid_links(conn: Connection, city_id: int) -> pd.DataFrame:
    """``compound_id, grid_id, share`` (``grid_compound.resident_share``) of a city."""
    rows = conn.execute(text("""
        SELECT compound_id, grid_id, resident_share FROM grid_compound
        WHERE city_id = :city ORDER BY compound_id, grid_id"""), {"city": city_id}).all()
    return pd.DataFrame({"compound_id": [int(r.compound_id) for r in rows],
                         "grid_id": [int(r.grid_id) for r in rows],
                         "share": [float(r.resident_share) for r in rows]})


def unit_links(conn: Connection, city_id: int, compounds: gpd.GeoDataFrame
               ) -> dict[str, pd.DataFrame]:
    """``compound_id, unit_id, share`` per unit kind of :data:`UNIT_KINDS`: grids by
    ``resident_share``, communities and streets whole (``compounds`` from
    :func:`read_compounds`)."""
    out = {"grid": read_grid_links(conn, city_id).rename(columns={"grid_id": "unit_id"})}
    for kind, col in (("community", "community_id"), ("street", "street_id")):
        has = compounds[col].notna().to_numpy()
        out[kind] = pd.DataFrame({"compound_id": compounds["id"].to_numpy()[has],
                                  "unit_id": compounds[col].to_numpy()[has].astype(int),
                                  "share": 1.0})
    return out


def read_compound_demand(conn: Connection, city_id: int, kind: str, *,
                         categories: Iterable[str] | None = None,
                         start: datetime | None = None, end: datetime | None = None) -> pd.Series:
    """Demand per compound of ``city_id``, indexed by ``compound.id`` and named ``kind``.

    ``cases``: every compound, with the number of grid cases whose point lies in its
    polygon (``ST_Covers``; a point on a shared edge counts for both), of ``categories``
    (all if ``None``) reported in ``[start, end)``. Cases outside every compound are not
    demand.
    ``rider_demand``: every compound (0 where none), with the imported per-compound order
    estimates (``courier_compound_demand``) if the city has any; otherwise the sum of the
    imported rider-demand points' weights, each point given to the compound whose polygon
    holds it, else to the compound with the nearest gate (its polygon where it has no
    gates; geodesic distance; ties to the lower id), so no point is dropped.
    :class:`InvalidInputError` when neither is imported.
    ``compound_demand``: the imported per-compound estimates only, for the compounds that
    have one (empty when none are imported).

    Raises :class:`InvalidInputError` for another kind.
    """
    if kind == "compound_demand":
        rows = conn.execute(text("""
            SELECT compound_id AS id, demand AS n FROM courier_compound_demand
            WHERE city_id = :city ORDER BY compound_id"""), {"city": city_id}).all()
    elif kind == "cases":
        cats = check_categories(categories)
        check_window(start, end)
        rows = conn.execute(text("""
            SELECT c.id, count(k.id) AS n FROM compound c
            LEFT JOIN grid_case k ON k.city_id = c.city_id AND ST_Covers(c.geom, k.geom)
              AND (CAST(:cats AS text[]) IS NULL OR k.category = ANY(CAST(:cats AS text[])))
              AND (CAST(:start AS timestamptz) IS NULL OR k.reported_at >= :start)
              AND (CAST(:end AS timestamptz) IS NULL OR k.reported_at < :end)
            WHERE c.city_id = :city GROUP BY c.id ORDER BY c.id"""),
            {"city": city_id, "cats": list(cats) if cats is not None else None,
             "start": start, "end": end}).all()
    elif kind == "rider_demand":
        rows = conn.execute(text("""
            SELECT c.id, COALESCE(d.demand, 0) AS n FROM compound c
            LEFT JOIN courier_compound_demand d ON d.compound_id = c.id AND d.city_id = c.city_id
            WHERE c.city_id = :city AND EXISTS (
                SELECT 1 FROM courier_compound_demand x WHERE x.city_id = :city)
            ORDER BY c.id"""), {"city": city_id}).all()
        if not rows:
            rows = conn.execute(text("""
                SELECT c.id, COALESCE(sum(a.weight), 0) AS n FROM compound c
                LEFT JOIN (
                    SELECT p.weight, (SELECT y.id FROM compound y WHERE y.city_id = :city
                                      ORDER BY NOT ST_Covers(y.geom, p.geom),
                                               ST_Distance(COALESCE(y.gates, y.geom)::geography,
                                                           p.geom::geography), y.id
                                      LIMIT 1) AS compound_id
                    FROM courier_demand_point p WHERE p.city_id = :city) a
                  ON a.compound_id = c.id
                WHERE c.city_id = :city AND EXISTS (
                    SELECT 1 FROM courier_demand_point q WHERE q.city_id = :city)
                GROUP BY c.id ORDER BY c.id"""), {"city": city_id}).all()
        if not rows:
            raise InvalidInputError("no rider demand imported", [Problem(
                "import courier demand first (servicecircle analyze courier-demand)",
                field="weight")])
    else:
        raise InvalidInputError("unknown demand kind", [Problem(
            f"{kind!r} is not one of {list(DEMAND_KINDS)}", field="weight")])
    return pd.Series([float(r.n) for r in rows], index=[int(r.id) for r in rows], name=kind,
                     dtype=float)


def read_demand_points(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """Imported rider-demand points of a city: ``id, external_id, weight`` and the point."""
    rows = conn.execute(text("""
        SELECT id, external_id, weight, ST_AsBinary(geom) AS wkb FROM courier_demand_point
        WHERE city_id = :city ORDER BY id"""), {"city": city_id}).all()
    return gpd.GeoDataFrame({"id": [int(r.id) for r in rows],
                             "external_id": [r.external_id for r in rows],
                             "weight": [float(r.weight) for r in rows]},
                            geometry=[_wkb(r.wkb) for r in rows], crs=WGS84)
