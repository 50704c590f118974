"""Import courier demand: rider-demand points and per-compound parcel/order estimates.

All rows or none, like :func:`geo.store.imports.import_file`: the file is read with
:func:`geo.io.read_file` (formats, encodings, column maps), its CRS resolved with
:func:`geo.io.resolve_crs` (WGS-84, GCJ-02, BD-09 or EPSG:n), validated with
:mod:`geo.courier.demand`, and only then written, replacing the city's previous demand of
that kind. Never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geo.courier.demand import validate_compound_demand, validate_demand_points
from geo.errors import InvalidInputError, Problem
from geo.io.files import _decoded, apply_field_map, file_format, read_file, resolve_crs
from geo.settings import Settings
from geo.store.cities import get_city
from geo.store.imports import ImportReport, _size_guard

DemandKind = Literal["points", "compounds"]


def _table(path: Path, *, encoding: str | None, field_map: Mapping[str, str] | None
           ) -> pd.DataFrame:
    """Rows of a CSV/Excel file (no coordinates needed) or of any feature file."""
    fmt = file_format(path)
    if not path.exists():
        raise InvalidInputError(f"no such file: {path.name}", [Problem("file not found",
                                                                        field="file")])
    if fmt == "csv":
        import io

        df = pd.read_csv(io.BytesIO(_decoded(path, encoding)), dtype=str,
                         keep_default_na=False, na_values=[""])
    elif fmt == "excel":
        df = pd.read_excel(path, dtype=object)
    else:
        frame = read_file(path, encoding=encoding, field_map=field_map).frame
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return apply_field_map(df, field_map)


def import_demand(conn: Connection, city_code: str, kind: DemandKind, path: str | Path, *,
                  crs: str | None = None, field_map: Mapping[str, str] | None = None,
                  encoding: str | None = None, settings: Settings | None = None
                  ) -> ImportReport:
    """Replace the city's rider-demand points (``kind="points"``) or per-compound demand
    (``kind="compounds"``) with the rows of ``path``; all or none.

    Parameters
    ----------
    crs
        For points: ``wgs84``, ``gcj02``, ``bd09`` or ``EPSG:n`` (CSV/Excel default WGS-84).
    field_map
        Column renames ``{source: target}`` (targets ``external_id``, ``weight``,
        ``compound``, ``demand``).
    """
    if kind not in ("points", "compounds"):
        raise InvalidInputError(f"unknown demand kind {kind!r}; allowed: points, compounds",
                                [Problem("unknown kind", field="kind")])
    path = Path(path)
    _size_guard(path, settings)
    city = get_city(conn, city_code)
    if kind == "points":
        read = read_file(path, encoding=encoding, field_map=field_map)
        gdf = resolve_crs(read.frame, file_crs=read.crs, tabular=read.tabular, crs=crs,
                          unknown_crs=read.unknown_crs)
        valid = validate_demand_points(gdf, bounds=city.bounds)
        before = conn.execute(text("DELETE FROM courier_demand_point WHERE city_id = :c"),
                              {"c": city.id}).rowcount
        if len(valid):
            conn.execute(text("""
                INSERT INTO courier_demand_point (city_id, external_id, weight, geom)
                VALUES (:c, :eid, :w, ST_GeomFromWKB(:wkb, 4326))"""),
                [{"c": city.id, "eid": e, "w": float(w), "wkb": shapely.to_wkb(g)}
                 for e, w, g in zip(valid["external_id"], valid["weight"], valid.geometry,
                                    strict=True)])
        return ImportReport(kind="courier_demand_point", rows_read=len(read.frame),
                            inserted=len(valid), updated=0,
                            warnings=(f"replaced {before} previous point(s)",) if before else ())
    df = _table(path, encoding=encoding, field_map=field_map)
    rows = conn.execute(text("SELECT external_id, id FROM compound WHERE city_id = :c"),
                        {"c": city.id}).all()
    ids = {r.external_id: int(r.id) for r in rows}
    valid_c = validate_compound_demand(df, compounds=ids)
    before = conn.execute(text("DELETE FROM courier_compound_demand WHERE city_id = :c"),
                          {"c": city.id}).rowcount
    if len(valid_c):
        conn.execute(text("INSERT INTO courier_compound_demand (compound_id, city_id, demand) "
                          "VALUES (:cid, :c, :d)"),
                     [{"cid": ids[e], "c": city.id, "d": float(d)}
                      for e, d in zip(valid_c["compound"], valid_c["demand"], strict=True)])
    return ImportReport(kind="courier_compound_demand", rows_read=len(df),
                        inserted=len(valid_c), updated=0,
                        warnings=(f"replaced {before} previous estimate(s)",) if before else ())
