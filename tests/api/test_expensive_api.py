"""Expensive analyses: bounded before computing, cached by data version, limited per
client, and cut off by the database's statement timeout (real PostGIS, no mocks)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from api.app import create_app
from api.deps import ConnDep
from api.expensive import kernel_cells, limiter, max_bandwidth_m, result_cache
from geo.settings import Settings
from geo.store import migrate
from tests.api.test_cases_api import CASE, URL, case_db  # noqa: F401  (module fixture)

ATTACK = {"resolution": 10, "bandwidth_m": 5000, "area": "city"}


@pytest.fixture(scope="module")
def client(case_db: tuple[Settings, dict[str, str]]) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(create_app(case_db[0])) as c:
        yield c


@pytest.fixture(scope="module")
def tight(case_db: tuple[Settings, dict[str, str]]) -> Iterator[TestClient]:  # noqa: F811
    """An app with small caps: 300 cells, one analysis per client, two in all."""
    s = replace(case_db[0], public_max_cells=300, expensive_per_client=1, expensive_total=2)
    with TestClient(create_app(s)) as c:
        yield c


@pytest.fixture(scope="module")
def analyst(case_db: tuple[Settings, dict[str, str]]) -> dict[str, str]:  # noqa: F811
    return {"X-API-Key": case_db[1]["analyst"]}


def _problem(r: object, status: int) -> dict:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    return r.json()  # type: ignore[attr-defined,no-any-return]


def test_the_reported_density_request_is_refused_before_computing(client: TestClient) -> None:
    t = time.perf_counter()
    body = _problem(client.get(f"{URL}/density", params=ATTACK), 422)
    assert time.perf_counter() - t < 2.0
    (bw,) = [e for e in body["errors"] if e["field"] == "bandwidth_m"]
    limit = max_bandwidth_m(10, Settings.public_max_kernel_cells)
    assert f"{limit:g} m" in bw["reason"] and "2,000" in bw["reason"]
    assert kernel_cells(limit, 10) <= 2000 < kernel_cells(limit + 1, 10)
    ok = client.get(f"{URL}/density", params={**ATTACK, "bandwidth_m": limit})
    assert ok.status_code == 200, ok.text


def test_cell_cap_names_the_fields_and_analysts_get_more(tight: TestClient,
                                                        analyst: dict[str, str]) -> None:
    params = {"resolution": 10, "area": "city", "bandwidth_m": 100}
    body = _problem(tight.get(f"{URL}/density", params=params), 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"resolution", "area"}
    assert "at most 300" in body["errors"][0]["reason"]
    assert _problem(tight.get(f"{URL}/hotspots", params={**params, "permutations": 99}),
                    422)["errors"][0]["field"] == "resolution"
    assert tight.get(f"{URL}/density", params=params, headers=analyst).status_code == 200
    assert tight.get(f"{URL}/density", params={**params, "resolution": 9}).status_code == 200


def test_public_permutations_are_capped(client: TestClient, analyst: dict[str, str]) -> None:
    params = {"resolution": 8, "permutations": 9999}
    body = _problem(client.get(f"{URL}/hotspots", params=params), 422)
    assert body["errors"] == [{"row": None, "field": "permutations",
                               "reason": "callers without an analyst key may use at most "
                                         "999 permutations"}]
    comparison = {"before_start": "2026-01-01", "before_end": "2026-04-01",
                  "after_start": "2026-04-01", "after_end": "2026-07-01", **params}
    assert _problem(client.get(f"{URL}/comparison", params=comparison), 422)
    assert client.get(f"{URL}/hotspots", params=params, headers=analyst).status_code == 200


def test_results_are_cached_until_the_cases_change(
        client: TestClient, analyst: dict[str, str],
        case_db: tuple[Settings, dict[str, str]]) -> None:  # noqa: F811
    cache = result_cache(client)  # type: ignore[arg-type]
    params = {"resolution": 9, "bandwidth_m": 250, "start": "2026-02-01", "end": "2026-03-01"}
    first = client.get(f"{URL}/density", params=params, headers=analyst)
    hits, misses = cache.hits, cache.misses
    again = client.get(f"{URL}/density", params=params, headers=analyst)
    assert again.content == first.content and again.headers["content-type"] == \
        "application/geo+json"
    assert (cache.hits, cache.misses) == (hits + 1, misses)
    # public and analyst answers never share an entry
    pub = client.get(f"{URL}/density", params=params)
    assert cache.misses == misses + 1 and "n_near" not in pub.text
    eng = migrate.make_engine(case_db[0])
    try:
        with eng.begin() as conn:  # ten more cases in February: a new data version
            city = conn.execute(text("SELECT id FROM city WHERE code = 'casetown'")).scalar()
            conn.execute(text(CASE), [
                {"c": city, "e": f"cache{i}", "cat": "sanitation",
                 "t": datetime(2026, 2, 10, tzinfo=UTC), "closed": None, "status": "reported",
                 "sat": None, "x": 119.005, "y": 30.005} for i in range(10)])
        fresh = client.get(f"{URL}/density", params=params, headers=analyst)
        assert cache.misses == misses + 2 and fresh.content != first.content
    finally:
        with eng.begin() as conn:
            conn.execute(text("DELETE FROM grid_case WHERE external_id LIKE 'cache%'"))
        eng.dispose()


def test_a_client_running_its_share_gets_429_but_cached_answers(tight: TestClient) -> None:
    lim = limiter(tight)  # type: ignore[arg-type]
    cached = {"resolution": 8, "permutations": 99}
    assert tight.get(f"{URL}/hotspots", params=cached).status_code == 200
    with lim.slot("addr:testclient"):  # this client is busy with one analysis already
        body = _problem(tight.get(f"{URL}/hotspots", params={**cached, "seed": 1}), 429)
        r = tight.get(f"{URL}/density", params={"resolution": 8})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert body["code"] == "too-many-requests" and "per client" in body["detail"]
        assert tight.get(f"{URL}/hotspots", params=cached).status_code == 200  # cache hit
        assert tight.get(f"{URL}/hexes").status_code == 200  # cheap endpoints are not limited
    assert lim.running == 0
    assert tight.get(f"{URL}/hotspots", params={**cached, "seed": 1}).status_code == 200


def test_the_global_cap_refuses_every_client(tight: TestClient,
                                             analyst: dict[str, str]) -> None:
    lim = limiter(tight)  # type: ignore[arg-type]
    with ExitStack() as stack:
        for who in ("addr:10.0.0.1", "addr:10.0.0.2"):
            stack.enter_context(lim.slot(who))
        body = _problem(tight.get(f"{URL}/density", params={"resolution": 8, "seed": 2},
                                  headers=analyst), 429)
        assert "busy" in body["detail"]
        r = tight.post("/cities/casetown/siting/whatif",
                       json={"service_type": "red_station", "sites": [[119.01, 30.01]]})
        assert r.status_code == 429 and "Retry-After" in r.headers
    assert lim.running == 0


def test_siting_requests_of_the_public_are_bounded(client: TestClient) -> None:
    url = "/cities/casetown/siting/plan"
    body = _problem(client.post(url, json={"p": 100, "time_limit_s": 120, "spacing_m": 20}),
                    422)
    assert {e["field"] for e in body["errors"]} == {"p", "time_limit_s", "spacing_m"}
    # grid cases per compound are case counts finer than the public rule allows
    _problem(client.post(url, json={"weight": "cases"}), 401)
    _problem(client.post("/cities/casetown/siting/whatif",
                         json={"weight": "cases", "sites": [[119.01, 30.01]]}), 401)


def test_statement_timeout_cuts_long_queries_with_a_problem(
        case_db: tuple[Settings, dict[str, str]]) -> None:  # noqa: F811
    app = create_app(replace(case_db[0], statement_timeout_s=0.2))

    @app.get("/_slow")
    def slow(conn: ConnDep) -> dict[str, bool]:
        conn.execute(text("SELECT pg_sleep(3)"))
        return {"done": True}

    with TestClient(app) as c:
        with app.state.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "200ms"
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(3)"))

        async def tile_timeout() -> str:  # vector tiles render on their own pool
            async with app.state.tile_pool.connection() as tconn:
                cur = await tconn.execute("SHOW statement_timeout")
                row = await cur.fetchone()
            return str(row[0]) if row else ""

        assert c.portal is not None and c.portal.call(tile_timeout) == "200ms"
        t = time.perf_counter()
        body = _problem(c.get("/_slow"), 503)
        assert time.perf_counter() - t < 2.5
        assert body["code"] == "statement-timeout" and "pg_sleep" not in str(body)
