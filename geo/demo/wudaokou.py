"""Wudaokou 五道口 demo city: real OSM streets, 小区 polygons, their gates and postal points.

Compounds whose gates OpenStreetMap shows (gate nodes, walkable ways crossing the
outline: :mod:`geo.network.gates`) keep those; the others get generated gates facing
the nearest streets.

Households, residents, communities, grids, other service points and cases are generated
(rules in ``data/README.md``; deterministic from ``SEED``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPoint

from geo.demo.cases import HotSpots, generate_cases
from geo.demo.geometry import gates_facing, voronoi_partition, weighted_kmeans
from geo.demo.model import DemoCity, finish, metric_extract, rng_for
from geo.demo.population import add_age_groups
from geo.demo.services import PROFILES, generate_service_points, hours_of
from geo.demo.units import locate, partition_grids
from geo.domain import ServiceType as T
from geo.network.gates import infer_gates
from geo.network.osm import read_osm

SEED = 20170624
BUILT_UP_BUFFER_M = 200.0
COMMUNITIES = 3
RESIDENTS_PER_GRID = 700.0
CASES = 3_000
SERVICE_COUNTS: dict[str, int] = {T.PARTY_MASS_CENTRE: COMMUNITIES, T.RED_STATION: 3, T.GRID_STATION: 2,
                  T.CONVENIENCE_POINT: 2, T.COURIER_STATION: 2, T.ELDERLY_CANTEEN: 1,
                  T.ELDERLY_DAYCARE: 1, T.AFTER_SCHOOL: 1}
_STRIP = ("教师住宅区", "住宅区", "小区")


def _community_name(compound: str) -> str:
    for s in _STRIP:
        compound = compound.removesuffix(s)
    return f"{compound}社区"


def build_wudaokou(osm_path: str | Path, *, seed: int = SEED) -> DemoCity:
    """Generate the Wudaokou demo city from ``wudaokou_2017.osm`` (deterministic for ``seed``)."""
    x = read_osm(osm_path)
    m = metric_extract(x, built_up_buffer_m=BUILT_UP_BUFFER_M)
    epsg, edges_m, built = m.epsg, m.edges, m.built
    rng = rng_for(seed, "compounds")

    comp = x.residential_areas.to_crs(epsg).sort_values("osm_id").reset_index(drop=True)
    area_ha = comp.geometry.area.to_numpy() / 1e4
    households = np.round(area_ha * rng.uniform(120, 200, len(comp))).astype(int)
    residents = np.round(households * rng.uniform(2.6, 3.0, len(comp))).astype(int)
    elderly_noise = rng.normal(0.0, 0.04, len(comp))  # the 60+ share, around Beijing's
    tree = shapely.STRtree(list(edges_m.geometry))
    street_arr = np.asarray(list(edges_m.geometry), dtype=object)
    gates = [MultiPoint(gates_facing(p if p.geom_type == "Polygon" else max(p.geoms,
                                                                           key=lambda q: q.area),
                                     tree, street_arr, int(k)))
             for p, k in zip(comp.geometry, rng.choice([1, 2, 3], len(comp)), strict=True)]
    unmanaged = rng.random(len(comp)) < 0.25  # old compounds without a property company
    # more people of 60+ in the old compounds: 25 % there, 18.3 % elsewhere (20 % overall,
    # Beijing's 19.6 % in the 2020 census)
    elderly = np.round(residents * np.clip(np.where(unmanaged, 0.25, 0.183) + elderly_noise,
                                           0.05, 0.45))
    compounds = gpd.GeoDataFrame(
        {"external_id": [f"WDK-OSM-W{i}" for i in comp["osm_id"]], "name": comp["name"],
         "households": households, "residents": residents, "elderly": elderly.astype(int),
         "property_management": np.where(unmanaged, "unmanaged", "managed"),
         "gates": gpd.GeoSeries(gates, crs=epsg)},
        geometry=comp.geometry.to_numpy(), crs=epsg)

    add_age_groups(compounds, census="beijing", rng=rng_for(seed, "age-groups"))

    # communities: Voronoi cells of residents-weighted k-means centres of the compounds
    xy = np.column_stack([compounds.geometry.centroid.x, compounds.geometry.centroid.y])
    centres = weighted_kmeans(xy, residents.astype(float), COMMUNITIES,
                              rng=rng_for(seed, "communities"))
    centres = centres[np.lexsort((centres[:, 1], centres[:, 0]))]
    cells = voronoi_partition(centres, built)
    label = locate(xy, cells)
    names = []
    for j in range(len(cells)):
        members = np.flatnonzero(label == j)
        biggest = members[np.argmax(residents[members])] if len(members) else None
        names.append(_community_name(compounds["name"].iloc[biggest]) if biggest is not None
                     else f"五道口第{j + 1}社区")
    communities = gpd.GeoDataFrame(
        {"external_id": [f"WDK-SQ{j + 1:02d}" for j in range(len(cells))], "name": names,
         "street": "WDK-JD01"}, geometry=cells, crs=epsg)
    compounds["community"] = communities["external_id"].to_numpy()[label]
    streets = gpd.GeoDataFrame({"external_id": ["WDK-JD01"], "name": ["清华园街道"]},
                               geometry=[shapely.union_all(cells)], crs=epsg)
    grids = partition_grids(communities, compounds, residents_per_grid=RESIDENTS_PER_GRID,
                            equal_grids=1, rng=rng_for(seed, "grids"), id_prefix="WDK-WG")
    sites = [MultiPoint(list(compounds.gates.iloc[int(np.argmax(np.where(label == j, residents,
                                                                          -1)))].geoms)).geoms[0]
             for j in range(len(cells))]
    # gates from OpenStreetMap where it shows them (the loader infers them again from the
    # stored network and gate nodes); generated gates only where OSM shows none
    osm_gates = infer_gates(compounds, x.gate_points, x.edges, metric_epsg=epsg)
    compounds["gates"] = gpd.GeoSeries(
        np.where(osm_gates.geometry.isna().to_numpy(), compounds["gates"].to_numpy(), None),
        crs=epsg)
    services = generate_service_points(
        communities=communities, community_sites=sites, grids=grids, compounds=compounds,
        edges=edges_m, counts=SERVICE_COUNTS, rng=rng_for(seed, "services"),
        id_prefix="WDK-FW")
    services["source"] = "generated"
    postal = x.postal_points.to_crs(epsg)
    svc = PROFILES[T.PARCEL_STATION][1]
    parcel = gpd.GeoDataFrame(
        {"external_id": [f"WDK-OSM-N{i}" for i in postal["osm_id"]], "type": str(T.PARCEL_STATION),
         "name": [n or f"邮政网点（OSM {i}）" for n, i in zip(postal["name"], postal["osm_id"],
                                                              strict=True)],
         "address": "",
         "opening_hours": [hours_of(T.PARCEL_STATION, i) for i in range(len(postal))],
         "services": [list(svc)] * len(postal),
         "capacity": None, "floor_area_m2": None, "source": "osm"},
        geometry=postal.geometry.to_numpy(), crs=epsg)
    services = gpd.GeoDataFrame(
        pd_concat([services, parcel]), geometry="geometry", crs=epsg)
    spots = HotSpots(markets=list(postal.geometry), centre=(float(xy[:, 0].mean()),
                                                            float(xy[:, 1].mean())))
    cases = generate_cases(compounds, grids, spots, n=CASES, rng=rng_for(seed, "cases"),
                           id_prefix="WDK-SJ")
    layers = {
        "street": finish(streets, "generated"),
        "community": finish(communities, "generated"),
        "grid": finish(grids, "generated"),
        "compound": finish(compounds, "osm"),
        "service_point": finish(services.drop(columns="source"), services["source"].to_numpy()),
        "grid_case": finish(cases, "generated"),
    }
    return DemoCity(code="wudaokou", name_zh="五道口", name_en="Wudaokou", bounds=x.bounds,
                    metric_epsg=epsg, nodes=x.nodes, edges=x.edges, layers=layers,
                    gate_points=x.gate_points, walk_rules=x.walk_rules)


def pd_concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Row-wise concatenation with a fresh index."""
    import pandas as pd

    return pd.concat(frames, ignore_index=True)
