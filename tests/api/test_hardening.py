"""Medium/low defects of the security review, one behaviour per test: hot-spot seeds,
forged Host headers, restricted layers' extents, keys in access logs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HOTSPOTS = "/cities/testville/cases/hotspots"
COMPARISON = "/cities/testville/cases/comparison"
PERIODS = {"before_start": "2026-03-01", "before_end": "2026-03-11",
           "after_start": "2026-03-11", "after_end": "2026-03-21"}


@pytest.mark.parametrize("seed", [2**32, -1, 10**30])
def test_hotspot_seed_outside_32_bits_is_a_422_problem(client: TestClient,
                                                       api_keys: dict[str, str],
                                                       seed: int) -> None:
    for path, params in ((HOTSPOTS, {}), (COMPARISON, PERIODS)):
        r = client.get(path, params={**params, "seed": seed, "resolution": 7,
                                     "permutations": 99},
                       headers={"X-API-Key": api_keys["analyst"]})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["seed"]


def test_hotspot_seed_of_32_bits_is_accepted(client: TestClient,
                                             api_keys: dict[str, str]) -> None:
    r = client.get(HOTSPOTS, params={"seed": 2**32 - 1, "resolution": 7, "permutations": 99},
                   headers={"X-API-Key": api_keys["analyst"]})
    assert r.status_code == 200, r.text
