"""The one writer of response bodies: JSON, CSV and GeoJSON, with one shape and one rule.

- **JSON** (:class:`JSONBody`): NaN and ±infinity are ``null`` (unreachable, unknown), NumPy
  and pandas scalars plain numbers, timestamps ISO 8601 — in every body, nested or not.
- **Tables** (:func:`table`): ``{"meta": {...}, "count": n, "rows": [...]}``, or with
  ``format=csv`` the same rows as CSV by :mod:`geo.io.tables` (UTF-8 with BOM, whole
  people, formula injection neutralised).
- **Excel** (:func:`xlsx_response`): the same cells as CSV in an .xlsx workbook.
- **GeoJSON** (:func:`feature_collection`): a FeatureCollection (EPSG:4326) with a ``meta``
  member, ``application/geo+json``.

Routes declare the JSON shapes as response models (:mod:`api.schemas`); the CSV and
GeoJSON variants are documented with :func:`formats`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi.responses import JSONResponse, Response

from geo.io.tables import csv_text, xlsx_bytes

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Literal["json", "csv", "geojson"]


def jsonable(v: Any) -> Any:
    """``v`` as plain JSON values: non-finite floats and missing values ``None``."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, (str, int, bool)):
        return v
    if hasattr(v, "model_dump"):
        return jsonable(v.model_dump(mode="json"))
    return str(v)


class JSONBody(JSONResponse):
    """A JSON response written by the one rule of this module (no NaN in any body)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(jsonable(content), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")


class GeoJSONBody(JSONBody):
    media_type = GEOJSON


def render(body: Any) -> bytes:
    """``body`` as the bytes a :class:`JSONBody` would send (for caches)."""
    return JSONBody(None).render(body)


def records(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of ``frame`` (geometry left out) as JSON-ready dicts."""
    cols = [c for c in (columns or frame.columns) if c != "geometry"]
    return [{c: jsonable(v) for c, v in zip(cols, row, strict=True)}
            for row in frame[cols].itertuples(index=False, name=None)]


def csv_response(rows: Sequence[Mapping[str, Any]], name: str,
                 columns: Sequence[str] | None = None,
                 headers: Sequence[str] | None = None) -> Response:
    """A CSV attachment ``name.csv`` (see :mod:`geo.io.tables`); ``headers`` label the
    columns in the header line (default: the column names)."""
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    return Response(csv_text(cols, rows, headers), media_type=CSV, headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"'})


def xlsx_response(rows: Sequence[Mapping[str, Any]], name: str, columns: Sequence[str],
                  headers: Sequence[str] | None = None) -> Response:
    """An Excel attachment ``name.xlsx``: the same cells as :func:`csv_response`."""
    return Response(xlsx_bytes(columns, rows, headers, sheet=name), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def table(rows: Sequence[Mapping[str, Any]], *, meta: Mapping[str, Any],
          fmt: str = "json", name: str = "table",
          columns: Sequence[str] | None = None) -> Response:
    """A table: ``{"meta", "count", "rows"}`` as JSON, or CSV with ``fmt="csv"``."""
    if fmt == "csv":
        return csv_response(rows, name, columns)
    return JSONBody({"meta": meta, "count": len(rows), "rows": list(rows)})


def features(frame: gpd.GeoDataFrame, columns: Sequence[str] | None = None
             ) -> list[dict[str, Any]]:
    """GeoJSON features of ``frame`` (EPSG:4326) with ``columns`` as properties."""
    props = records(frame, columns)
    geoms = [None if g is None or g.is_empty else g.__geo_interface__
             for g in frame.geometry.values]
    return [{"type": "Feature", "geometry": g, "properties": p}
            for g, p in zip(geoms, props, strict=True)]


def collection(feats: list[dict[str, Any]], meta: Mapping[str, Any]) -> dict[str, Any]:
    """A FeatureCollection body with a ``meta`` member."""
    return {"type": "FeatureCollection", "features": feats, "meta": dict(meta)}


def feature_collection(feats: list[dict[str, Any]], meta: Mapping[str, Any]) -> Response:
    """A GeoJSON FeatureCollection response (``application/geo+json``) with ``meta``."""
    return GeoJSONBody(collection(feats, meta))


def frame_response(frame: gpd.GeoDataFrame, fmt: str, *, meta: Mapping[str, Any],
                   name: str) -> Response:
    """``frame`` as a table (JSON or CSV) or as GeoJSON, by ``fmt``."""
    if fmt == "geojson":
        return feature_collection(features(frame), meta)
    cols = [c for c in frame.columns if c != "geometry"]
    return table(records(frame, cols), meta=meta, fmt=fmt, name=name, columns=cols)


def formats(*kinds: Literal["csv", "geojson", "xlsx"]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entry documenting the CSV / GeoJSON / Excel variants of a 200."""
    content: dict[str, Any] = {}
    if "csv" in kinds:
        content["text/csv"] = {"schema": {"type": "string"},
                               "example": "\ufeffexternal_id,name,residents\n"}
    if "xlsx" in kinds:
        content[XLSX] = {"schema": {"type": "string", "format": "binary"}}
    if "geojson" in kinds:
        content[GEOJSON] = {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}
    return {200: {"content": content}}
