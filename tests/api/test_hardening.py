"""Medium/low defects of the security review, one behaviour per test: hot-spot seeds,
forged Host headers, restricted layers' extents, keys in access logs."""

from __future__ import annotations

import logging

import httpx
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


# --- Host header ---------------------------------------------------------------------------

FORGED = "evil.example"
LINKED = ["/", "/collections", "/collections/compounds", "/collections/compounds/items?limit=1",
          "/tiles/compounds/tilejson.json", "/layers", "/layers/compounds"]


@pytest.mark.parametrize("path", LINKED)
def test_a_forged_host_gets_a_400_problem_and_no_links(client: TestClient, path: str) -> None:
    r = client.get(path, headers={"Host": FORGED})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid-host"
    assert FORGED not in r.text


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000", "testserver"])
def test_trusted_hosts_are_served_and_linked(client: TestClient, host: str) -> None:
    r = client.get("/collections/compounds/items?limit=1", headers={"Host": host})
    assert r.status_code == 200
    assert all(link["href"].startswith(f"http://{host}/") for link in r.json()["links"])


def test_allowed_hosts_come_from_the_settings() -> None:
    from api.hosts import host_name, is_trusted, trusted_hosts
    from geo.settings import Settings

    s = Settings.from_env({"SERVICECIRCLE_ALLOWED_HOSTS": "grid.example.org, *.city.gov.cn",
                           "SERVICECIRCLE_HOST": "0.0.0.0"})
    trusted = trusted_hosts(s)
    assert "0.0.0.0" not in trusted
    assert is_trusted(host_name("GRID.example.org:443"), trusted)
    assert is_trusted(host_name("map.city.gov.cn"), trusted)
    assert not is_trusted(host_name("city.gov.cn.evil.example"), trusted)
    assert not is_trusted(host_name("grid.example.org.evil.example"), trusted)


# --- extents of restricted layers ----------------------------------------------------------

#: Bounds of the sample city testville; its 20 raw cases lie strictly inside.
TESTVILLE = [117.0, 28.2, 117.1, 28.3]


def test_the_raw_case_collection_shows_its_cities_bounds_not_its_cases(
        client: TestClient) -> None:
    body = client.get("/collections/grid_cases").json()
    assert body["extent"]["spatial"]["bbox"] == [pytest.approx(TESTVILLE)]
    listed = {c["id"]: c for c in client.get("/collections").json()["collections"]}
    assert listed["grid_cases"]["extent"] == body["extent"]


def test_the_raw_case_tilejson_shows_its_cities_bounds(client: TestClient) -> None:
    assert client.get("/tiles/grid_cases/tilejson.json").json()["bounds"] == \
        pytest.approx(TESTVILLE)


def test_public_layers_keep_their_exact_extent(client: TestClient) -> None:
    bbox = client.get("/collections/compounds").json()["extent"]["spatial"]["bbox"][0]
    assert bbox != pytest.approx(TESTVILLE)
    assert TESTVILLE[0] < bbox[0] < bbox[2] < TESTVILLE[2]


# --- no API key in the access log ----------------------------------------------------------

class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_keys_in_urls_do_not_reach_the_access_log(server: str, api_keys: dict[str, str]) -> None:
    key = api_keys["analyst"]
    access = logging.getLogger("uvicorn.access")
    lines, level = _Lines(), access.level
    access.addHandler(lines)
    access.setLevel(logging.INFO)
    try:
        for url in (f"/collections/compounds/items?limit=1&api_key={key}",
                    "/keys/me?token=hunter2hunter2&x=1", f"/layers/{key}"):
            httpx.get(server + url, timeout=30)
    finally:
        access.removeHandler(lines)
        access.setLevel(level)
    logged = "\n".join(lines.lines)
    assert len(lines.lines) == 3, logged
    assert key not in logged and key.partition("_")[2] not in logged
    assert "hunter2" not in logged
    assert logged.count("[redacted]") == 3
    assert "limit=1" in logged and "x=1" in logged  # the rest of the line is kept


def test_redact_keeps_ordinary_parameters() -> None:
    from api.logs import redact

    assert redact("/collections/x/items?city=guixi&limit=10") == \
        "/collections/x/items?city=guixi&limit=10"
    assert redact("/a?monkey=1&key=sc1_abcdefghijklmnopqrstu") == "/a?monkey=1&key=[redacted]"
