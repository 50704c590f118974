"""Fixtures of the network-engine tests."""

from __future__ import annotations

import pytest

from geo.network.graph import StreetNetwork
from tests.support.netkit import network


@pytest.fixture
def line_net() -> StreetNetwork:
    """A(1)=(0,0) — B(2)=(100,0) — C(3)=(200,0); and D(4)=(500,0) — E(5)=(600,0) apart."""
    return network({1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (500, 0), 5: (600, 0)},
                   [(1, 2), (2, 3), (4, 5)])
