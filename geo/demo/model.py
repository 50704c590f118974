"""The generated content of one demo city, ready for the writers of ``geo.store.write``."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs.utm import utm_epsg
from geo.network.osm import OsmExtract

#: Load order: parents before children (street → community → grid/compound).
LAYERS = ("street", "community", "grid", "compound", "service_point", "grid_case")


@dataclass(frozen=True)
class DemoCity:
    """One demo city; every frame in EPSG:4326 with ``external_id`` and a ``source`` column.

    ``layers`` maps a writer kind (:data:`LAYERS`) to its frame; ``nodes``/``edges`` are
    the street network as returned by :func:`geo.network.osm.read_osm`.
    """

    code: str
    name_zh: str
    name_en: str
    bounds: Polygon
    metric_epsg: int
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame]


@dataclass(frozen=True)
class MetricExtract:
    """An OpenStreetMap extract in the UTM zone of its centre: ``epsg``, the street
    ``edges`` and the ``built`` area (the extract's bounds near streets), all in metres."""

    epsg: int
    edges: gpd.GeoDataFrame
    built: BaseGeometry


def metric_extract(x: OsmExtract, *, built_up_buffer_m: float) -> MetricExtract:
    """``x`` projected; ``built`` is its bounds within ``built_up_buffer_m`` metres of a
    street (where the demo places compounds and units)."""
    c = x.bounds.centroid
    epsg = utm_epsg(c.x, c.y)
    edges = x.edges.to_crs(epsg)
    bounds = gpd.GeoSeries([x.bounds], crs=4326).to_crs(epsg).iloc[0]
    return MetricExtract(epsg, edges, bounds.intersection(
        shapely.union_all(edges.buffer(built_up_buffer_m))))


def rng_for(seed: int, step: str) -> np.random.Generator:
    """A generator for one generation step: changing one step leaves the others unchanged."""
    return np.random.default_rng([seed, sum(ord(ch) * 31 ** i for i, ch in enumerate(step))
                                  % 2**32])


def finish(gdf: gpd.GeoDataFrame, source: str | pd.Series) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 with coordinates rounded to 1e-7° and a ``source`` column."""
    out = gdf.to_crs(4326)
    out = out.set_geometry(out.geometry.set_precision(1e-7))
    if "gates" in out.columns:
        gates = gpd.GeoSeries(out["gates"], crs=gdf.crs).to_crs(4326).set_precision(1e-7)
        out["gates"] = gates.to_numpy()
    out["source"] = source
    return out.reset_index(drop=True)
