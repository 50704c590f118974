"""GeoJSON objects posted to the service (exclusion zones, candidate sites) as frames.

:func:`geojson_frame` reads a geometry, Feature or FeatureCollection in EPSG:4326, keeps
the properties and collects every bad feature before raising one
:class:`~geo.errors.InvalidInputError`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import shapely.errors
import shapely.geometry

from geo.errors import InvalidInputError, Problem


def geojson_frame(obj: dict[str, Any], field: str) -> gpd.GeoDataFrame:
    """Features of a GeoJSON geometry/Feature/FeatureCollection (EPSG:4326), properties kept.

    ``field`` names the input in the problems (row = the feature's position).
    """
    kind = obj.get("type")
    feats = (obj.get("features") or [] if kind == "FeatureCollection"
             else [obj] if kind == "Feature" else [{"geometry": obj, "properties": {}}])
    geoms, props, problems = [], [], []
    for i, f in enumerate(feats):
        try:
            g = shapely.geometry.shape(f.get("geometry") or {})
        except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GeometryTypeError):
            problems.append(Problem("not a GeoJSON geometry", row=i, field=field))
            continue
        if g.is_empty or not g.is_valid:
            problems.append(Problem("empty or invalid geometry", row=i, field=field))
            continue
        x0, y0, x1, y1 = g.bounds
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            problems.append(Problem("not lon/lat (EPSG:4326)", row=i, field=field))
            continue
        geoms.append(g)
        props.append(dict(f.get("properties") or {}))
    if problems:
        raise InvalidInputError(f"invalid {field}", problems)
    return gpd.GeoDataFrame(pd.DataFrame(props, index=range(len(geoms))), geometry=geoms,
                            crs=4326)


def polygon_zones(obj: dict[str, Any], field: str) -> gpd.GeoDataFrame:
    """:func:`geojson_frame` of polygons only (exclusion zones)."""
    frame = geojson_frame(obj, field)
    if not frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise InvalidInputError(f"invalid {field}", [Problem(
            "exclusion zones must be polygons", field=field)])
    return frame


def feature_frame(data: gpd.GeoDataFrame | dict[str, Any] | list[dict[str, Any]], *,
                  id_col: str = "id", required: tuple[str, ...] = (),
                  what: str = "features") -> gpd.GeoDataFrame:
    """Features as a GeoDataFrame (EPSG:4326) with an ``id_col`` column, whatever their form.

    ``data`` is a GeoDataFrame, a GeoJSON FeatureCollection, or a list of GeoJSON features
    as read from the service's own API: ids in each feature's top-level ``id``, attributes
    in ``properties``. When there is no ``id_col`` property the top-level feature id is used
    (``GeoDataFrame.from_features`` drops it; a frame read from GeoJSON by GDAL keeps it as
    the index name ``id``). ``required`` lists the other columns the caller needs. A missing
    id or column raises :class:`~geo.errors.InvalidInputError` naming the field.
    """
    if isinstance(data, gpd.GeoDataFrame):
        frame = data
        if id_col not in frame.columns and frame.index.name == id_col:
            frame = frame.reset_index()
    else:
        feats = data.get("features", []) if isinstance(data, dict) else list(data)
        if isinstance(data, dict) and data.get("type") == "Feature":
            feats = [data]
        try:
            frame = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"{what}: not GeoJSON features ({type(exc).__name__})",
                                    [Problem("not GeoJSON features", field=what)]) from exc
        if id_col not in frame.columns:
            ids = [f.get("id") if isinstance(f, dict) else None for f in feats]
            if feats and all(i is not None for i in ids):
                frame.insert(0, id_col, ids)
    missing = [c for c in (id_col, *required) if c not in frame.columns]
    if missing:
        problems = [Problem(f"missing field {c!r} (neither a column/property nor, for "
                            f"{id_col!r}, a feature id)", field=c) for c in missing]
        raise InvalidInputError(f"{what}: missing field(s) {', '.join(map(repr, missing))}",
                                problems)
    return frame
