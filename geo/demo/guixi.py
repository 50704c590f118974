"""Guixi 贵溪 demo city: real OSM streets, communities and 东门街道; the rest generated.

The rules are documented in ``data/README.md``; everything is deterministic from ``SEED``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point

from geo.demo.cases import HotSpots, generate_cases
from geo.demo.compounds import generate_compounds, street_blocks
from geo.demo.geometry import voronoi_partition
from geo.demo.model import DemoCity, finish, metric_extract, rng_for
from geo.demo.population import add_age_groups
from geo.demo.services import generate_service_points
from geo.demo.units import locate, partition_grids
from geo.domain import ServiceType as T
from geo.network.osm import read_osm

SEED = 20241118
BUILT_UP_BUFFER_M = 300.0
COMPOUNDS = 520
HOUSEHOLDS = 54_000
MAX_HOUSEHOLDS_PER_HA = 300
GRIDS_TARGET = 110
CASES = 24_000
OLD_TOWN = ("东街社区", "西街社区", "南街社区", "北街社区")
SERVICE_COUNTS: dict[str, int] = {T.PARTY_MASS_CENTRE: 16, T.RED_STATION: 25, T.GRID_STATION: 37,
                  T.CONVENIENCE_POINT: 25, T.COURIER_STATION: 10, T.PARCEL_STATION: 35,
                  T.ELDERLY_CANTEEN: 15, T.ELDERLY_DAYCARE: 4, T.AFTER_SCHOOL: 6}


def build_guixi(osm_path: str | Path, *, seed: int = SEED) -> DemoCity:
    """Generate the Guixi demo city from ``guixi_2024.osm`` (deterministic for ``seed``)."""
    x = read_osm(osm_path)
    m = metric_extract(x, built_up_buffer_m=BUILT_UP_BUFFER_M)
    epsg, edges_m, built = m.epsg, m.edges, m.built
    dongmen4326 = x.admin_boundaries.set_index("name").loc["东门街道"]
    dongmen = gpd.GeoSeries([dongmen4326.geometry], crs=4326).to_crs(epsg).iloc[0]
    places = x.places[x.places["place"] == "quarter"].to_crs(epsg).reset_index(drop=True)

    # streets (街道): 东门 real; other communities east of 东门's centroid → 花园, west → 雄石
    in_dm = places.geometry.within(dongmen).to_numpy()
    east = (places.geometry.x > dongmen.centroid.x).to_numpy()
    street_of = np.where(in_dm, "GX-JD01", np.where(east, "GX-JD02", "GX-JD03"))
    seeds = np.column_stack([places.geometry.x, places.geometry.y])
    cells: list[object] = [None] * len(places)
    for mask, region in ((in_dm, built.intersection(dongmen)), (~in_dm, built.difference(dongmen))):
        idx = np.flatnonzero(mask)
        for i, cell in zip(idx, voronoi_partition(seeds[idx], region), strict=True):
            cells[i] = cell
    communities = gpd.GeoDataFrame(
        {"external_id": [f"GX-SQ{i + 1:02d}" for i in range(len(places))],
         "name": places["name"], "street": street_of}, geometry=cells, crs=epsg)
    streets = gpd.GeoDataFrame(
        {"external_id": ["GX-JD01", "GX-JD02", "GX-JD03"],
         "name": ["东门街道", "花园街道", "雄石街道"],
         "source": ["osm", "generated", "generated"]},
        geometry=[dongmen,
                  shapely.union_all(communities.geometry[street_of == "GX-JD02"]),
                  shapely.union_all(communities.geometry[street_of == "GX-JD03"])], crs=epsg)

    old = places[places["name"].isin(OLD_TOWN)].geometry
    centre = (float(old.x.mean()), float(old.y.mean()))
    blocks = street_blocks(shapely.MultiLineString(list(edges_m.geometry)), built)
    compounds = generate_compounds(blocks, count=COMPOUNDS, total_households=HOUSEHOLDS,
                                   centre=centre, streets=list(edges_m.geometry),
                                   rng=rng_for(seed, "compounds"), crs=epsg)
    comp_xy = np.column_stack([compounds.geometry.centroid.x, compounds.geometry.centroid.y])
    compounds.insert(0, "external_id", [f"GX-XQ{i + 1:04d}" for i in range(len(compounds))])
    compounds["community"] = communities["external_id"].to_numpy()[
        locate(comp_xy, list(communities.geometry))]
    balance_households(compounds, communities, HOUSEHOLDS)
    add_age_groups(compounds, census="jiangxi", rng=rng_for(seed, "age-groups"))
    per_grid = compounds["residents"].sum() / GRIDS_TARGET
    grids = partition_grids(communities, compounds, residents_per_grid=per_grid, equal_grids=4,
                            rng=rng_for(seed, "grids"), id_prefix="GX-WG")
    services = generate_service_points(
        communities=communities, community_sites=list(places.geometry), grids=grids,
        compounds=compounds, edges=edges_m, counts=SERVICE_COUNTS,
        rng=rng_for(seed, "services"), id_prefix="GX-FW")
    named = places.set_index("name").geometry
    markets = [Point(centre), named["信江社区"], named["花园社区"]]
    cases = generate_cases(compounds, grids, HotSpots(markets=markets, centre=centre), n=CASES,
                           rng=rng_for(seed, "cases"), id_prefix="GX-SJ")
    layers = {
        "street": finish(streets.drop(columns="source"), streets["source"]),
        "community": finish(communities, "generated"),
        "grid": finish(grids, "generated"),
        "compound": finish(compounds, "generated"),
        "service_point": finish(services, "generated"),
        "grid_case": finish(cases, "generated"),
    }
    return DemoCity(code="guixi", name_zh="贵溪", name_en="Guixi", bounds=x.bounds,
                    metric_epsg=epsg, nodes=x.nodes, edges=x.edges, layers=layers,
                    gate_points=x.gate_points, walk_rules=x.walk_rules)


def balance_households(compounds: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                       total: int) -> None:
    """Rescale compounds in place so community totals are ∝ sqrt(community area).

    Small old-town communities are dense, large fringe ones sparse: a community's households
    are ``total`` × sqrt(area) / Σ sqrt(area); within a community the compounds keep their
    relative sizes, residents per household and elderly share (at least 20 households, at
    most :data:`MAX_HOUSEHOLDS_PER_HA` per hectare).
    """
    area = communities.set_index("external_id").geometry.area
    target = total * np.sqrt(area) / np.sqrt(area).sum()
    current = compounds.groupby("community")["households"].sum()
    factor = (target / current).reindex(compounds["community"]).to_numpy()
    per_household = compounds["residents"] / compounds["households"]
    share = compounds["elderly"] / compounds["residents"]
    cap = compounds.geometry.area.to_numpy() / 1e4 * MAX_HOUSEHOLDS_PER_HA
    households = np.clip(np.round(compounds["households"] * factor), 20, cap).astype(int)
    residents = np.round(households * per_household).astype(int)
    compounds["households"] = households
    compounds["residents"] = residents
    compounds["elderly"] = np.round(residents * share).astype(int)
