"""Walking circles of proposed sites, by the one coverage definition.

A proposed site is one more service point of its type. Its circle is (4) of
:mod:`geo.coverage.analysis` with the site added to the existing stations: the land
reached from it within the budget (the detailed polygon, compounds left out) plus the
compounds that are inside and whose nearest station of the type it now is. The coverage
layer draws the circles of existing stations the same way, so a proposal's circle on the
map and in the report is what the coverage run would draw had the station been built.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coverage.analysis import compound_access, coverage_by_compound, coverage_circles
from geo.network.graph import StreetNetwork
from geo.settings import DEFAULT_CELL_M, DEFAULT_TRIM_M

#: The service type column given to the stations and sites (any code: one type at a time).
_TYPE = "site"


def site_circles(net: StreetNetwork, compounds: gpd.GeoDataFrame,
                 stations: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *, minutes: float,
                 trim_m: float = DEFAULT_TRIM_M, cell_m: float = DEFAULT_CELL_M,
                 max_snap_m: float = 250.0) -> gpd.GeoDataFrame:
    """The walking circle of each of ``sites`` (Points) added to ``stations`` (Points of
    the same type), ``minutes`` of walking along ``net``.

    ``compounds`` need ``id``, ``residents``, ``households``, polygons and optionally
    ``gates``. Returns one row per site, in the given order: ``site`` (position),
    ``snapped`` (the site lies within ``max_snap_m`` metres of a street; otherwise its
    circle is empty), ``compounds`` (ids of the inside compounds drawn in its circle) and
    the polygon, EPSG:4326.
    """
    n_old = len(stations)
    pts = pd.concat([stations.to_crs(4326).geometry, sites.to_crs(4326).geometry],
                    ignore_index=True)
    every = gpd.GeoDataFrame({"id": np.arange(len(pts)), "type": _TYPE}, geometry=pts.values,
                             crs=4326)
    near = compound_access(net, compounds, every, types=[_TYPE], max_snap_m=max_snap_m)
    cov = coverage_by_compound(compounds, near.table, [(float(minutes),
                                                        net.budget_m(minutes=minutes))])
    new = every.iloc[n_old:]
    circles = coverage_circles(net, new, compounds, cov, minutes=[minutes], trim_m=trim_m,
                               cell_m=cell_m, max_snap_m=max_snap_m).to_crs(4326)
    by_site = circles.set_index("service_id")
    inside = cov[cov["status"] == "inside"]
    served = inside.groupby("nearest_id")["compound_id"].agg(list)
    rows = []
    for k, sid in enumerate(new["id"].to_numpy()):
        hit = sid in by_site.index
        rows.append({"site": k, "snapped": bool(hit and by_site.loc[sid, "snapped"]),
                     "compounds": [x.item() if hasattr(x, "item") else x
                                   for x in served.get(sid, [])],
                     "geometry": by_site.loc[sid, "geometry"] if hit else None})
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["site", "snapped", "compounds",
                                                        "geometry"]),
                            geometry="geometry", crs=4326)
