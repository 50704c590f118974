"""Coverage in people of a service type's target group at its walking speed, against a
plain Dijkstra written here (no code of the project's network engine)."""

from __future__ import annotations

import heapq

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.coverage.analysis import analyze_coverage, coverage_by_unit, type_walkers
from geo.domain import ELDERLY_WALK_SPEED_M_PER_MIN, PopulationGroup
from geo.errors import InvalidInputError
from tests.support.netkit import UTM, X0, Y0, network

N, SPACING = 9, 110.0  # 110 m blocks: no walk ties a 5/10/15-minute budget at 60 or 75 m/min


def _grid() -> tuple[dict[int, tuple[float, float]], list[tuple[int, int]]]:
    rng = np.random.default_rng(7)
    coords = {i * N + j: (j * SPACING, i * SPACING) for i in range(N) for j in range(N)}
    pairs = [(i * N + j, i * N + j + 1) for i in range(N) for j in range(N - 1)]
    pairs += [(i * N + j, (i + 1) * N + j) for i in range(N - 1) for j in range(N)]
    return coords, [p for p in pairs if rng.random() > 0.2]


def _dijkstra(coords, pairs, sources: list[int]) -> dict[int, float]:
    """Metres from the nearest source node to every node (heap-based Dijkstra)."""
    adj: dict[int, list[tuple[int, float]]] = {n: [] for n in coords}
    for u, v in pairs:
        d = float(np.hypot(coords[u][0] - coords[v][0], coords[u][1] - coords[v][1]))
        adj[u].append((v, d))
        adj[v].append((u, d))
    dist = {s: 0.0 for s in sources}
    heap = [(0.0, s) for s in sources]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist.get(u, np.inf):
            continue
        for v, w in adj[u]:
            if d + w < dist.get(v, np.inf):
                dist[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return dist


def _case():
    coords, pairs = _grid()
    used = sorted({n for p in pairs for n in p})
    rng = np.random.default_rng(11)
    gate_nodes = [int(n) for n in rng.choice(used, size=30, replace=False)]
    residents = rng.integers(100, 900, len(gate_nodes))
    elderly = np.floor(residents * rng.uniform(0.1, 0.35, len(gate_nodes))).astype(int)
    children = np.floor((residents - elderly) * 0.2).astype(int)
    sixty: list[int | None] = [int(e) for e in elderly]
    sixty[3] = None  # imported without age groups: unknown, never guessed
    polys = [shapely.box(X0 + coords[n][0] + 8, Y0 + coords[n][1] + 8,
                         X0 + coords[n][0] + 40, Y0 + coords[n][1] + 40) for n in gate_nodes]
    gates = [shapely.MultiPoint([(X0 + coords[n][0], Y0 + coords[n][1])]) for n in gate_nodes]
    compounds = gpd.GeoDataFrame(
        {"id": np.arange(1, len(gate_nodes) + 1), "residents": residents,
         "households": residents // 3, "age_0_14": children,
         "age_60_plus": pd.array(sixty, dtype="Int64"),
         "gates": gpd.GeoSeries(gates, crs=UTM).to_crs(4326).to_numpy()},
        geometry=polys, crs=UTM).to_crs(4326)
    canteen_nodes = [int(n) for n in rng.choice(used, size=2, replace=False)]
    station_nodes = [int(n) for n in rng.choice(used, size=2, replace=False)]
    nodes = canteen_nodes + station_nodes
    services = gpd.GeoDataFrame(
        {"id": [101, 102, 201, 202],
         "type": ["elderly_canteen"] * 2 + ["red_station"] * 2},
        geometry=[shapely.Point(X0 + coords[n][0], Y0 + coords[n][1]) for n in nodes],
        crs=UTM).to_crs(4326)
    net = network(coords, pairs)  # 75 m/min, the walking speed of everyone
    return coords, pairs, gate_nodes, canteen_nodes, station_nodes, compounds, services, net


def test_elderly_canteen_counts_residents_60_plus_at_the_slow_speed() -> None:
    coords, pairs, gate_nodes, canteens, _, compounds, services, net = _case()
    res = analyze_coverage(net, compounds, services, minutes=[5, 10, 15],
                           types=["elderly_canteen"], required_types=())
    dist = _dijkstra(coords, pairs, canteens)
    walk_min = np.array([dist.get(n, np.inf) for n in gate_nodes]) / ELDERLY_WALK_SPEED_M_PER_MIN
    sixty = compounds["age_60_plus"]
    known = sixty.notna().to_numpy()
    links = pd.DataFrame({"compound_id": compounds["id"], "unit_id": 1, "share": 1.0})
    units = coverage_by_unit(res.compounds, links).set_index("minutes")
    checked = 0
    for minutes in (5, 10, 15):
        inside = walk_min <= minutes
        expect_in = int(sixty[inside & known].sum())
        expect_out = int(sixty[~inside & known].sum())
        u = units.loc[float(minutes)]
        assert u["target_group"] == PopulationGroup.AGE_60_PLUS
        assert u["speed_m_per_min"] == ELDERLY_WALK_SPEED_M_PER_MIN
        assert u["budget_m"] == pytest.approx(minutes * ELDERLY_WALK_SPEED_M_PER_MIN)
        assert (u["target_in"], u["target_out"], u["target_unknown"]) == (expect_in, expect_out, 0)
        assert u["compounds_target_unknown"] == 1
        # residents still count everyone, classified at the same slow walk
        assert u["residents_in"] == int(compounds["residents"][inside].sum())
        gaps = res.gaps[res.gaps["minutes"] == minutes]
        assert int(gaps["target"].sum()) == expect_out  # the gap layer says the same
        assert set(gaps["target_group"]) <= {PopulationGroup.AGE_60_PLUS}
        checked += int(inside.sum()) * int((~inside).sum())
    assert checked > 0  # some compounds inside and some outside: the test can fail
    rows = res.nearest.table.set_index("origin")
    assert rows["nearest_min"].to_numpy() == pytest.approx(walk_min, abs=1e-6)


def test_the_slow_speed_leaves_out_compounds_a_75_m_min_walk_reaches() -> None:
    coords, pairs, gate_nodes, canteens, _, compounds, services, net = _case()
    slow = analyze_coverage(net, compounds, services, minutes=[10], types=["elderly_canteen"],
                            required_types=())
    fast = analyze_coverage(net, compounds, services, minutes=[10], types=["elderly_canteen"],
                            required_types=(), speed_m_per_min=75.0,
                            target_group=PopulationGroup.ALL)
    dist = np.array([_dijkstra(coords, pairs, canteens).get(n, np.inf) for n in gate_nodes])
    assert int(slow.compounds["status"].eq("inside").sum()) == int((dist <= 600).sum())
    assert int(fast.compounds["status"].eq("inside").sum()) == int((dist <= 750).sum())
    assert (dist <= 600).sum() < (dist <= 750).sum()
    # the override counts all residents, every compound known
    assert fast.compounds["target"].tolist() == fast.compounds["residents"].tolist()


def test_other_types_count_everyone_at_the_usual_speed() -> None:
    coords, pairs, gate_nodes, _, stations, compounds, services, net = _case()
    res = analyze_coverage(net, compounds, services, minutes=[15], types=["red_station"],
                           required_types=())
    dist = np.array([_dijkstra(coords, pairs, stations).get(n, np.inf) for n in gate_nodes])
    c = res.compounds
    assert set(c["target_group"]) == {"all"} and set(c["speed_m_per_min"]) == {75.0}
    assert int(c["target_in"].sum()) == int(compounds["residents"][dist <= 15 * 75].sum())


def test_unknown_group_or_bad_speed_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError) as exc:
        type_walkers(["red_station"], default_speed_m_per_min=75, target_group="seniors",
                     speed_m_per_min=-1)
    assert {p.field for p in exc.value.errors} == {"target_group", "speed_m_per_min"}
