"""A generated province: ``n`` cities of realistic sizes for the batch and its benchmarks.

Each city is built as the demo builds Guixi (:mod:`geo.demo.guixi`), at its own size: a
seeded street plan is written as an OpenStreetMap extract and read by the same reader as
``city add`` (:func:`geo.network.osm.read_osm`: walkability rules, network figures), then
the demo's generators fill it — compounds tiling the street blocks, communities (Voronoi
cells of named quarters) grouped into three streets 街道, grids, service points of every
type and twelve months of grid cases. Everything is deterministic from ``seed``.

Sizes follow a county-level city of a Chinese province: compounds per city log-normal
around :data:`MEDIAN_COMPOUNDS` (clipped to :data:`COMPOUND_RANGE`), about 104 households a
compound and 0.44 grid cases a household a year (Guixi's figures), a built-up square of
about :data:`COMPOUNDS_PER_KM2` compounds per km² on a street plan of 200–260 m blocks
with arterials every fourth street and 12 % of the minor street sides missing.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point
from sqlalchemy import Connection

from geo.demo import load_city
from geo.demo.cases import HotSpots, generate_cases
from geo.demo.compounds import generate_compounds, street_blocks
from geo.demo.geometry import voronoi_partition
from geo.demo.guixi import SERVICE_COUNTS, balance_households
from geo.demo.model import DemoCity, finish, metric_extract, rng_for
from geo.demo.services import generate_service_points
from geo.demo.units import locate, partition_grids
from geo.network.osm import read_osm

SEED = 20261201
MEDIAN_COMPOUNDS = 450
COMPOUND_RANGE = (150, 1200)
COMPOUNDS_PER_KM2 = 30.0
HOUSEHOLDS_PER_COMPOUND = 104
CASES_PER_HOUSEHOLD = 0.44
#: Guixi's service points per compound, the counts of a generated city scale with it.
GUIXI_COMPOUNDS = 520
RESIDENTS_PER_GRID = 1_400.0
#: Where the cities lie (lon/lat): Jiangxi's extent.
REGION = (114.0, 25.0, 118.0, 29.5)
_ROAD_NAMES = ["人民路", "建设路", "解放路", "中山路", "胜利路", "新华路", "和平路", "文化路",
               "朝阳路", "光明路", "长青路", "滨江路", "站前路", "工业路", "学府路", "环城路"]
_QUARTERS = ["东城", "西城", "南门", "北门", "花园", "新华", "城南", "城北", "滨江", "河东",
             "河西", "湖滨", "站前", "工业园", "文昌", "桂花", "龙山", "凤凰", "翠湖", "新城",
             "老街", "紫荆", "锦绣", "春晖"]
_CITY_NAMES = "安康乐平宁远兴华瑞金永丰泰和崇义信丰广昌丰城高安樟树靖安奉新宜丰万载上栗芦溪分宜"


def city_sizes(n: int, *, seed: int = SEED) -> list[int]:
    """Compounds of each of ``n`` cities: log-normal (σ = 0.45) around
    :data:`MEDIAN_COMPOUNDS`, clipped to :data:`COMPOUND_RANGE`."""
    rng = rng_for(seed, "sizes")
    raw = MEDIAN_COMPOUNDS * rng.lognormal(0.0, 0.45, n)
    return [int(v) for v in np.clip(np.round(raw), *COMPOUND_RANGE)]


def city_code(i: int) -> str:
    """Code of the ``i``-th generated city (``gen001`` …)."""
    return f"gen{i + 1:03d}"


def street_plan_osm(path: Path, *, centre: tuple[float, float], side_m: float,
                    rng: np.random.Generator) -> None:
    """Write a street plan as an OSM XML extract: a jittered grid of streets 200–260 m
    apart over a ``side_m`` square around ``centre`` (lon, lat), every fourth street an
    arterial (primary/secondary), 12 % of the minor street sides missing, and one
    ``place=quarter`` node per 1.2 km² (the communities' sites)."""
    lon0, lat0 = centre
    m_lat = 111_320.0
    m_lon = m_lat * math.cos(math.radians(lat0))
    spacing = float(rng.uniform(200, 260))
    k = max(3, round(side_m / spacing) + 1)
    xs = (np.arange(k) - (k - 1) / 2) * spacing
    jx = rng.normal(0, 12, (k, k))
    jy = rng.normal(0, 12, (k, k))
    lon = lon0 + (xs[None, :] + jx) / m_lon
    lat = lat0 + (xs[:, None] + jy) / m_lat
    node = np.arange(k * k).reshape(k, k) + 1
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="servicecircle">']
    half = (k - 1) / 2 * spacing + 60
    out.append(f'<bounds minlat="{lat0 - half / m_lat:.7f}" minlon="{lon0 - half / m_lon:.7f}" '
               f'maxlat="{lat0 + half / m_lat:.7f}" maxlon="{lon0 + half / m_lon:.7f}"/>')
    for i in range(k):
        for j in range(k):
            out.append(f'<node id="{node[i, j]}" lat="{lat[i, j]:.7f}" lon="{lon[i, j]:.7f}"/>')
    n_quarters = max(3, round((side_m / 1000) ** 2 / 1.2))
    qx = rng.uniform(-half * 0.8, half * 0.8, n_quarters)
    qy = rng.uniform(-half * 0.8, half * 0.8, n_quarters)
    for q in range(n_quarters):
        name = _QUARTERS[q % len(_QUARTERS)] + ("" if q < len(_QUARTERS) else str(q))
        out.append(f'<node id="{k * k + 1 + q}" lat="{lat0 + qy[q] / m_lat:.7f}" '
                   f'lon="{lon0 + qx[q] / m_lon:.7f}"><tag k="place" v="quarter"/>'
                   f'<tag k="name" v={quoteattr(name + "社区")}/></node>')
    way = 0
    for horizontal in (True, False):
        for a in range(k):
            major = a % 4 == 0
            highway = ("primary" if a % 8 == 0 else "secondary") if major else "residential"
            ids = [int(node[a, b] if horizontal else node[b, a]) for b in range(k)]
            keep = np.ones(k - 1, dtype=bool) if major else rng.random(k - 1) > 0.12
            run: list[int] = [ids[0]]
            for b in range(k - 1):
                if keep[b]:
                    run.append(ids[b + 1])
                    if b < k - 2:
                        continue
                if len(run) > 1:
                    way += 1
                    name = _ROAD_NAMES[(a + (0 if horizontal else 7)) % len(_ROAD_NAMES)]
                    out.append(f'<way id="{way}">' + "".join(f'<nd ref="{r}"/>' for r in run)
                               + f'<tag k="highway" v="{highway}"/>'
                               f'<tag k="name" v={quoteattr(name)}/></way>')
                run = [ids[b + 1]]
    out.append("</osm>")
    path.write_text("\n".join(out), encoding="utf-8")


def build_city(i: int, *, seed: int = SEED, compounds: int | None = None) -> DemoCity:
    """The ``i``-th city of the province of ``seed`` (``compounds``: its size, default
    :func:`city_sizes`), generated as the Guixi demo is (rules in the module docstring)."""
    rng = rng_for(seed + i, "city")
    n_comp = compounds or city_sizes(i + 1, seed=seed)[i]
    side_m = math.sqrt(n_comp / COMPOUNDS_PER_KM2) * 1000
    minx, miny, maxx, maxy = REGION
    centre = (float(rng.uniform(minx, maxx)), float(rng.uniform(miny, maxy)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.osm"
        street_plan_osm(path, centre=centre, side_m=side_m, rng=rng)
        x = read_osm(path)
    m = metric_extract(x, built_up_buffer_m=300.0)
    epsg, edges_m, built = m.epsg, m.edges, m.built
    code = city_code(i)
    prefix = code.upper()
    places = x.places.to_crs(epsg).reset_index(drop=True)
    seeds = np.column_stack([places.geometry.x, places.geometry.y])
    cells = voronoi_partition(seeds, built)
    ctr = built.centroid
    street_of = np.where(seeds[:, 0] < ctr.x, "JD01", np.where(seeds[:, 1] < ctr.y, "JD02",
                                                               "JD03"))
    street_of = np.array([f"{prefix}-{s}" for s in street_of])
    communities = gpd.GeoDataFrame(
        {"external_id": [f"{prefix}-SQ{j + 1:02d}" for j in range(len(places))],
         "name": places["name"], "street": street_of}, geometry=cells, crs=epsg)
    present = sorted(set(street_of))
    streets = gpd.GeoDataFrame(
        {"external_id": present,
         "name": [f"{_QUARTERS[j]}街道" for j in range(len(present))]},
        geometry=[shapely.union_all(communities.geometry[street_of == s]) for s in present],
        crs=epsg)
    blocks = street_blocks(shapely.MultiLineString(list(edges_m.geometry)), built)
    households = n_comp * HOUSEHOLDS_PER_COMPOUND
    comp = generate_compounds(blocks, count=n_comp, total_households=households,
                              centre=(ctr.x, ctr.y), streets=list(edges_m.geometry),
                              rng=rng_for(seed + i, "compounds"), crs=epsg)
    comp_xy = np.column_stack([comp.geometry.centroid.x, comp.geometry.centroid.y])
    comp.insert(0, "external_id", [f"{prefix}-XQ{j + 1:04d}" for j in range(len(comp))])
    comp["community"] = communities["external_id"].to_numpy()[
        locate(comp_xy, list(communities.geometry))]
    # communities without compounds keep their land; households ∝ sqrt(area) over the others
    balance_households(comp, communities[communities["external_id"].isin(comp["community"])],
                       int(comp["households"].sum()))
    grids = partition_grids(communities, comp, residents_per_grid=RESIDENTS_PER_GRID,
                            equal_grids=2, rng=rng_for(seed + i, "grids"),
                            id_prefix=f"{prefix}-WG")
    scale = len(comp) / GUIXI_COMPOUNDS
    counts = {t: max(1, round(v * scale)) for t, v in SERVICE_COUNTS.items()}
    services = generate_service_points(
        communities=communities, community_sites=list(places.geometry), grids=grids,
        compounds=comp, edges=edges_m, counts=counts, rng=rng_for(seed + i, "services"),
        id_prefix=f"{prefix}-FW")
    cases = generate_cases(comp, grids, HotSpots(markets=[Point(ctr.x, ctr.y)],
                                                 centre=(ctr.x, ctr.y)),
                           n=int(comp["households"].sum() * CASES_PER_HOUSEHOLD),
                           rng=rng_for(seed + i, "cases"), id_prefix=f"{prefix}-SJ")
    layers = {"street": finish(streets, "generated"),
              "community": finish(communities, "generated"),
              "grid": finish(grids, "generated"), "compound": finish(comp, "generated"),
              "service_point": finish(services, "generated"),
              "grid_case": finish(cases, "generated")}
    name = _CITY_NAMES[(2 * i) % len(_CITY_NAMES):(2 * i) % len(_CITY_NAMES) + 2]
    return DemoCity(code=code, name_zh=f"{name}市{i + 1}", name_en=f"Generated city {i + 1}",
                    bounds=x.bounds, metric_epsg=epsg, nodes=x.nodes, edges=x.edges,
                    layers=layers, gate_points=x.gate_points, walk_rules=x.walk_rules)


def build_province(n: int, *, seed: int = SEED,
                   compounds: int | None = None) -> list[DemoCity]:
    """``n`` generated cities (``compounds`` each, default their realistic sizes)."""
    sizes = [compounds] * n if compounds else city_sizes(n, seed=seed)
    return [build_city(i, seed=seed, compounds=s) for i, s in enumerate(sizes)]


def load_province(conn: Connection, n: int, *, seed: int = SEED, compounds: int | None = None,
                  progress: Callable[[str, int, int], None] | None = None
                  ) -> dict[str, dict[str, int]]:
    """Generate ``n`` cities (:func:`build_city`) and load each through the writers of
    ``geo.store`` (:func:`geo.demo.load_city`, no basemap); the caller commits. Reloading
    the same ``seed`` leaves the same rows. ``progress(city, done, n)`` after each city.
    Returns the row counts per city code and table."""
    sizes = [compounds] * n if compounds else city_sizes(n, seed=seed)
    counts: dict[str, dict[str, int]] = {}
    for i, size in enumerate(sizes):
        city = build_city(i, seed=seed, compounds=size)
        counts[city.code] = load_city(conn, city)
        if progress is not None:
            progress(city.code, i + 1, n)
    return counts
