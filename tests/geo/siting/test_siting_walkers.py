"""Siting of an elderly type counts and walks as its coverage does, checked by brute force.

On a small street grid an elderly canteen's scenario must cover exactly the compounds with
a gate within ``minutes × 60`` metres of a station or site (residents 60+ walk at 60 m/min)
and weigh them by their residents 60+ (the compound column coverage reads, a compound of
unknown group size weighing nothing). The reference is independent of the siting engine:
plain Dijkstra (SciPy) between the grid's nodes, where the gates, stations and candidate
sites stand, and every set of ``p`` candidates enumerated.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from geo.domain import GROUP_COLUMNS, PopulationGroup, ServiceType
from geo.errors import InvalidInputError
from geo.network.graph import StreetNetwork
from geo.settings import DEFAULT_CELL_M, DEFAULT_TRIM_M
from geo.siting.circles import site_circles
from geo.siting.report import ReportData, render_html
from geo.siting.scenario import SitingDemand, plan_sites, prepare, siting_demand
from tests.support.netkit import UTM, X0, Y0, network, points

N, STEP = 7, 150.0  # a 7 × 7 grid of 150 m blocks
MINUTES = 8
ELDERLY_M = MINUTES * 60.0  # 480 m: the elderly's circle
EVERYONE_M = MINUTES * 75.0  # 600 m: the circle at the usual pace


def _node(i: int, j: int) -> int:
    return i * N + j


def _xy(node: int) -> tuple[float, float]:
    return (node % N) * STEP, (node // N) * STEP


PAIRS = [(_node(i, j), _node(i, j + 1)) for i in range(N) for j in range(N - 1)] + \
    [(_node(i, j), _node(i + 1, j)) for i in range(N - 1) for j in range(N)]
# every fifth street is missing, so walks are not plain Manhattan distances
PAIRS = [p for k, p in enumerate(PAIRS) if k % 5 != 3]

#: Compounds: gate nodes, residents, residents 60+ (None: not known).
GATES = [[0], [6, 13], [24], [42, 43], [48], [20], [30], [9], [36], [46]]
RESIDENTS = [900, 400, 1500, 700, 650, 800, 300, 1200, 500, 1000]
OLD = [150, 220, 90, None, 310, 60, 200, 100, 260, 40]
STATIONS = [0]  # the existing elderly canteen
CANDIDATES = [3, 10, 17, 21, 27, 31, 38, 45]
P = 2


def _net(speed: float) -> StreetNetwork:
    return network({n: _xy(n) for n in range(N * N)}, PAIRS, speed=speed)


def _compounds() -> gpd.GeoDataFrame:
    """Compounds as :func:`geo.store.inputs.read_compounds` gives them: a box north-east of
    the first gate, gates as MultiPoints on street nodes, the 60+ group a nullable column."""
    polys, gates = [], []
    for g in GATES:
        x, y = _xy(g[0])
        polys.append(shapely.box(X0 + x + 10, Y0 + y + 10, X0 + x + 60, Y0 + y + 60))
        gates.append(shapely.MultiPoint([(X0 + _xy(n)[0], Y0 + _xy(n)[1]) for n in g]))
    return gpd.GeoDataFrame({
        "id": np.arange(1, len(GATES) + 1), "name": [f"小区{k}" for k in range(len(GATES))],
        "residents": RESIDENTS, "households": [r // 3 for r in RESIDENTS],
        "elderly": [v or 0 for v in OLD], "age_60_plus": pd.array(OLD, dtype="Int64"),
        "gates": gpd.GeoSeries(gates, crs=UTM).to_crs(4326)},
        geometry=polys, crs=UTM).to_crs(4326)


def _at(nodes: list[int], **cols: object) -> gpd.GeoDataFrame:
    return points([_xy(n) for n in nodes], **cols)


def _distances() -> np.ndarray:
    """Shortest walks (metres) between every two grid nodes: plain Dijkstra."""
    u = np.array([a for a, _ in PAIRS])
    v = np.array([b for _, b in PAIRS])
    length = np.array([np.hypot(*np.subtract(_xy(a), _xy(b))) for a, b in PAIRS])
    graph = coo_matrix((length, (u, v)), shape=(N * N, N * N)).tocsr()
    out: np.ndarray = dijkstra(graph, directed=False)
    return out


def _covered(dist: np.ndarray, sites: list[int], budget_m: float) -> set[int]:
    """Compound ids with a gate within ``budget_m`` of one of ``sites`` (nodes)."""
    return {k + 1 for k, g in enumerate(GATES)
            if sites and dist[np.ix_(g, sites)].min() <= budget_m + 1e-6}


def _weight(ids: set[int], values: list[int | None]) -> float:
    return float(sum(values[i - 1] or 0 for i in ids))


@pytest.fixture(scope="module")
def dist() -> np.ndarray:
    return _distances()


@pytest.fixture(scope="module")
def elderly() -> SitingDemand:
    return siting_demand(ServiceType.ELDERLY_CANTEEN, default_speed_m_per_min=75.0)


def test_the_elderly_types_walkers_come_from_the_one_definition(elderly: SitingDemand) -> None:
    assert (elderly.group, elderly.column, elderly.speed_m_per_min) == (
        PopulationGroup.AGE_60_PLUS, GROUP_COLUMNS[PopulationGroup.AGE_60_PLUS], 60.0)
    assert elderly.budget_m(MINUTES) == ELDERLY_M
    assert elderly.statement("zh") == "60岁以上居民，步行60米/分钟"
    assert elderly.statement("en") == "residents 60+, walking 60 m/min"
    red = siting_demand(ServiceType.RED_STATION, default_speed_m_per_min=80.0)
    assert (red.group, red.column, red.speed_m_per_min) == ("all", "residents", 80.0)
    kids = siting_demand(ServiceType.AFTER_SCHOOL, default_speed_m_per_min=75.0)
    assert (kids.column, kids.speed_m_per_min) == ("age_0_14", 75.0)
    homes = siting_demand(ServiceType.ELDERLY_DAYCARE, "households", default_speed_m_per_min=75.0)
    assert (homes.group, homes.column, homes.speed_m_per_min) == (None, "households", 60.0)
    with pytest.raises(InvalidInputError, match="unknown demand measure"):
        siting_demand(ServiceType.ELDERLY_CANTEEN, "pets", default_speed_m_per_min=75.0)


def test_the_test_data_tell_the_two_paces_apart(dist: np.ndarray) -> None:
    sets = [list(s) for s in itertools.combinations(CANDIDATES, P)]
    assert any(_covered(dist, STATIONS + s, ELDERLY_M) != _covered(dist, STATIONS + s, EVERYONE_M)
               for s in sets)


def test_an_elderly_canteen_plan_is_the_brute_force_optimum(dist: np.ndarray,
                                                             elderly: SitingDemand) -> None:
    net = _net(elderly.speed_m_per_min)
    comp = _compounds()
    cands = _at(CANDIDATES, id=[f"c{n}" for n in CANDIDATES], kind="imported")
    plan = plan_sites(net, comp, _at(STATIONS), p=P, minutes=MINUTES, weight=elderly.column,
                      imported=cands, generate=False, method="exact")

    before = _covered(dist, STATIONS, ELDERLY_M)
    value = {s: _weight(_covered(dist, STATIONS + list(s), ELDERLY_M), OLD)
             for s in itertools.combinations(CANDIDATES, P)}
    best = max(value.values())
    chosen = [int(c[1:]) for c in plan.proposals["candidate"]]
    after = _covered(dist, STATIONS + chosen, ELDERLY_M)
    # the data make the optimum unique: the sites chosen are the brute force's
    assert [s for s, v in value.items() if v == best] == [tuple(sorted(chosen))]

    assert plan.total_weight == _weight(set(range(1, len(GATES) + 1)), OLD)
    assert plan.before_weight == _weight(before, OLD)
    assert plan.after_weight == best == _weight(after, OLD)
    got = plan.compounds.set_index("id")
    assert set(got.index[got["covered_before"]]) == before
    assert set(got.index[got["covered_after"]]) == after
    # the compound of unknown group size weighs nothing, whether inside or not
    assert got.loc[OLD.index(None) + 1, "weight"] == 0


def test_every_candidate_alone_reaches_what_dijkstra_says(dist: np.ndarray,
                                                          elderly: SitingDemand) -> None:
    wi = prepare(_net(elderly.speed_m_per_min), _compounds(), _at(STATIONS), minutes=MINUTES,
                 weight=elderly.column)
    before = _covered(dist, STATIONS, ELDERLY_M)
    res = wi.evaluate(_at(CANDIDATES))
    for k, node in enumerate(CANDIDATES):
        new = _covered(dist, STATIONS + [node], ELDERLY_M) - before
        assert res.sites["gain_alone"].iloc[k] == _weight(new, OLD), node


def test_all_residents_at_the_usual_pace_is_the_brute_force_of_that_definition(
        dist: np.ndarray) -> None:
    """A red station's scenario (all residents, 75 m/min — what siting did for every type)
    against the same reference at 600 m: the reference tells the definitions apart."""
    everyone = siting_demand(ServiceType.RED_STATION, default_speed_m_per_min=75.0)
    plan = plan_sites(_net(everyone.speed_m_per_min), _compounds(), _at(STATIONS), p=P,
                      minutes=MINUTES, weight=everyone.column, method="exact", generate=False,
                      imported=_at(CANDIDATES, id=[f"c{n}" for n in CANDIDATES], kind="imported"))
    best = max(_weight(_covered(dist, STATIONS + list(s), EVERYONE_M), RESIDENTS)
               for s in itertools.combinations(CANDIDATES, P))
    assert plan.before_weight == _weight(_covered(dist, STATIONS, EVERYONE_M), RESIDENTS)
    assert plan.after_weight == best


def test_the_circle_of_a_site_reaches_480_metres_not_600(elderly: SitingDemand) -> None:
    comp = _compounds()
    site = _at([CANDIDATES[2]])
    slow = site_circles(_net(elderly.speed_m_per_min), comp, _at(STATIONS), site,
                        minutes=MINUTES).to_crs(UTM).geometry.iloc[0]
    fast = site_circles(_net(75.0), comp, _at(STATIONS), site,
                        minutes=MINUTES).to_crs(UTM).geometry.iloc[0]
    x, y = _xy(CANDIDATES[2])
    centre = shapely.Point(X0 + x, Y0 + y)
    assert slow.area < fast.area
    # along the streets no farther than 480 m (plus the trim and a cell of the drawing)
    assert shapely.hausdorff_distance(slow, centre) <= ELDERLY_M + DEFAULT_TRIM_M + 2 * DEFAULT_CELL_M


def test_the_report_states_whom_it_counts_and_how_fast(elderly: SitingDemand) -> None:
    comp = _compounds()
    plan = plan_sites(_net(elderly.speed_m_per_min), comp, _at(STATIONS), p=1, minutes=MINUTES,
                      weight=elderly.column, spacing_m=150)
    html = render_html(ReportData(
        title="试算", city_name="测试", service_type=ServiceType.ELDERLY_CANTEEN,
        minutes=MINUTES, weight="residents", total_weight=plan.total_weight,
        before_weight=plan.before_weight, after_weight=plan.after_weight,
        sites=plan.proposals, demand=elderly))
    head = html.split("<table", 1)[0]
    assert "60岁以上居民，步行60米/分钟，8分钟480米" in head
    assert "residents 60+, walking 60 m/min: 480 m in 8 min" in head
    assert "总60岁以上居民" in head
