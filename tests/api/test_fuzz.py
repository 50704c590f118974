"""Schemathesis over the OpenAPI document: generated requests to every operation,
anonymous and with a viewer, analyst and admin key, against a real server on a database
of its own (the fuzzer creates, imports and revokes).

Checked on every response: no server error (5xx), except a 503 problem with
``Retry-After`` (the documented answer of a busy or unreachable database), and every
error (4xx/5xx) is an RFC 9457 ``application/problem+json`` body whose ``status`` is the
response's — on the pages opened in a browser (``/map``, report pages) the HTML error page. Bounded for CI: a few derandomized examples per operation and role, no
shrinking, and a wall-clock budget after which the remaining operations are skipped.
"""

from __future__ import annotations

import os
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from api.app import create_app
from api.error_pages import is_page
from api.security import ERROR_PAGE_CSP
from geo.settings import Settings
from geo.store import cluster, keys, migrate
from geo.store.imports import CLI_KINDS
from layers.catalog import default_registry
from tests.support import TEST_HOSTS
from tests.support.sample import live_server, load_sample

POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
#: (role, kind of data, examples per operation): valid requests for every role, requests
#: breaking the schema anonymously and as an analyst.
RUNS = ((None, POSITIVE, 40), (None, NEGATIVE, 15), ("viewer", POSITIVE, 12),
        ("analyst", POSITIVE, 15), ("analyst", NEGATIVE, 8), ("admin", POSITIVE, 15))
#: Seconds after which the remaining operations are not fuzzed (reported as skipped).
BUDGET_S = 300.0
PROBLEM_FIELDS = ("type", "title", "status", "code")
_LAYERS = [layer.name for layer in default_registry()]
#: Values of path parameters that exist in the fuzzed database.
KNOWN = {"city": ["testville", "otherville"], "layer": _LAYERS, "collection_id": _LAYERS,
         "name": _LAYERS, "kind": list(CLI_KINDS), "fid": [1, 2, 4294967297]}


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[tuple[str, dict[str, str]]]:
    """A server on a fresh database with the sample cities, and a key per role."""
    base = Settings.from_env()
    if base.embedded:
        cluster.up(base)
    name = f"sc_fuzz_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    migrate.create_database(base, name)
    s = replace(base, db_name=name, allowed_hosts=TEST_HOSTS, db_wait_s=5.0,
                statement_timeout_s=5.0, public_max_solve_s=2.0, public_max_siting_p=5,
                public_max_cells=2_000, public_max_permutations=99)
    eng = migrate.make_engine(s)
    try:
        with eng.begin() as conn:
            migrate.upgrade(conn)
            load_sample(conn)
            plain = {role: keys.create_key(conn, f"fuzz-{role}", role=role)[1]
                     for role in ("viewer", "analyst", "admin")}
        eng.dispose()
        with live_server(create_app(s)) as url:
            yield url, plain
    finally:
        eng.dispose()
        migrate.drop_database(base, name)


def _header(response: schemathesis.Response, name: str) -> str:
    values = {k.lower(): v for k, v in response.headers.items()}.get(name, [])
    return values[0] if values else ""


def _problems(response: schemathesis.Response, path: str) -> list[str]:
    """What is wrong with ``response`` to a request for ``path`` (empty when it is fine)."""
    out = []
    status = response.status_code
    if status >= 500 and not (status == 503 and _header(response, "retry-after")):
        out.append(f"server error {status}")
    if status >= 400 and is_page(path):  # a page opened in a browser answers a page
        if not _header(response, "content-type").startswith("text/html") or \
                _header(response, "content-security-policy") != ERROR_PAGE_CSP:
            out.append(f"{status} of a browser page is not the HTML error page")
    elif status >= 400:
        ctype = _header(response, "content-type")
        if not ctype.startswith("application/problem+json"):
            out.append(f"{status} is {ctype or 'no content type'}, not problem+json")
        else:
            body = response.json()
            missing = [f for f in PROBLEM_FIELDS if f not in body]
            if missing or body.get("status") != status:
                out.append(f"{status} problem body lacks {missing or 'a matching status'}")
    return out


def _fuzz(op: Any, mode: schemathesis.GenerationMode, url: str, session: requests.Session,
          headers: dict[str, str], who: str, examples: int, statuses: dict[int, int],
          failures: dict[str, str]) -> None:
    """``examples`` generated requests to ``op``; failures recorded, not raised."""
    label = f"{who} {op.method.upper()} {op.path}"

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode), real=st.booleans())
    def run(case: Any, real: bool) -> None:
        if real:  # half the requests name things that exist, to get past the 404s
            for name, value in list(case.path_parameters.items()):
                if name in KNOWN:
                    case.path_parameters[name] = KNOWN[name][zlib.crc32(str(value).encode()) % len(KNOWN[name])]
        response = case.call(base_url=url, session=session, headers=headers, timeout=60)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        for p in _problems(response, urlsplit(case.formatted_path).path):
            failures.setdefault(f"{label}: {p}",
                                f"{case.method} {case.formatted_path} query={case.query} "
                                f"body={str(case.body)[:200]}")

    try:
        run()
    except Unsatisfiable:  # nothing to break: an operation without parameters or body
        pass


def test_fuzzed_requests_get_no_server_error_and_problem_errors(
        fuzz_server: tuple[str, dict[str, str]]) -> None:
    url, plain = fuzz_server
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 20
    session = requests.Session()
    failures: dict[str, str] = {}
    statuses: dict[int, int] = {}
    skipped = 0
    started = time.monotonic()
    for role, mode, examples in RUNS:
        headers = {"X-API-Key": plain[role]} if role else {}
        for op in operations:
            if time.monotonic() - started > BUDGET_S:
                skipped += 1
                continue

            _fuzz(op, mode, url, session, headers, f"{role or 'anonymous'} {mode.value}",
                  examples, statuses, failures)
    summary = (f"{sum(statuses.values())} requests in {time.monotonic() - started:.0f} s, "
               f"statuses {dict(sorted(statuses.items()))}, {skipped} operation runs skipped")
    print(summary)
    assert not failures, summary + "\n" + "\n".join(f"{k}\n    {v}" for k, v in failures.items())
    assert skipped == 0, summary
