import numpy as np
import pytest

from geo.errors import InvalidInputError
from geo.network.graph import StreetNetwork
from tests.support.netkit import grid_network, network


def test_components_are_counted(line_net: StreetNetwork) -> None:
    assert line_net.n_components == 2


def test_edge_lengths_and_minutes(line_net: StreetNetwork) -> None:
    assert line_net.n_edges == 3
    assert np.allclose(sorted(line_net.edge_length_m), [100, 100, 100], atol=1e-6)
    assert line_net.minutes(150.0) == pytest.approx(2.0)


def test_parallel_edges_keep_the_shortest() -> None:
    net = network({1: (0, 0), 2: (100, 0)}, [(1, 2), (2, 1)])
    assert net.graph[0, 1] == pytest.approx(100.0)
    assert net.graph.nnz == 2


def test_budget_from_minutes_or_metres(line_net: StreetNetwork) -> None:
    assert line_net.budget_m(minutes=15) == pytest.approx(1125.0)
    assert line_net.budget_m(metres=1000) == 1000.0
    with pytest.raises(InvalidInputError):
        line_net.budget_m(minutes=15, metres=1000)


def test_unknown_mode_is_rejected(line_net: StreetNetwork) -> None:
    nodes = line_net.edges_frame()
    with pytest.raises(InvalidInputError):
        StreetNetwork.from_edges(nodes, nodes, mode="fly")  # type: ignore[arg-type]


def test_grid_network_builds() -> None:
    net = grid_network()
    assert net.n_nodes == 146
    assert net.n_components >= 2
