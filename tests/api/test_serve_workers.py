"""``servicecircle serve --workers 2``: two real server processes share one tile cache, and
a committed edit reaches the tiles of both.

The server runs as a subprocess of the command line; every request opens a new connection,
so the kernel hands requests to either process; ``X-Served-By`` names the answering
process and ``X-Tile-Cache`` the cache that answered (``local``, ``shared``, ``render``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy import Engine, text

from geo.settings import PROJECT_ROOT, Settings
from tests.support.sample import free_port, tile_of

LON, LAT = 117.05, 28.25
DEADLINE_S = 60.0
#: Two processes importing the whole app on a busy 2-core machine may take a while.
STARTUP_S = 180.0


@pytest.fixture
def two_workers(sample_settings: Settings, sample_engine: Engine, tmp_path: Path
                ) -> Iterator[str]:
    """Base URL of ``serve --workers 2`` on the sample database."""
    port = free_port()
    env = {**os.environ, "SERVICECIRCLE_DB_NAME": sample_settings.database,
           "SERVICECIRCLE_HOME": str(sample_settings.home)}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--workers", "2",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def _features(content: bytes) -> int:
    if not content:
        return 0
    tile = mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})
    return len(tile["compounds"]["features"])


def _until(url: str, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """Request ``url`` on new connections until ``done(answers)``; every answer's pid,
    cache, ETag and feature count."""
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + DEADLINE_S
    while not done(answers):
        assert time.monotonic() < deadline, answers[-20:]
        r = httpx.get(url, headers={"Connection": "close"}, timeout=10)
        assert r.status_code == 200, r.text
        answers.append({"pid": r.headers["x-served-by"], "cache": r.headers["x-tile-cache"],
                        "etag": r.headers["etag"], "n": _features(r.content)})
    return answers


def test_two_processes_share_tiles_and_both_see_an_edit(two_workers: str,
                                                       sample_engine: Engine) -> None:
    z, x, y = tile_of(LON, LAT, 13)
    url = f"{two_workers}/tiles/compounds/{z}/{x}/{y}.mvt"
    before = _until(url, lambda a: len({b["pid"] for b in a}) >= 2 and len(a) >= 10)
    assert len({b["pid"] for b in before}) == 2
    assert len({b["etag"] for b in before}) == 1
    # rendered at most once (by whichever process came first, or earlier in the session):
    # the other process took it from the shared cache, not from rendering it again
    assert sum(b["cache"] == "render" for b in before) <= 1
    firsts = {b["pid"]: b["cache"] for b in reversed(before)}  # each process's first answer
    assert "shared" in firsts.values()
    old_etag, n_before = before[0]["etag"], before[0]["n"]
    with sample_engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM tile_cache WHERE layer = 'compounds' "
                                   "AND etag = :e"), {"e": old_etag}).scalar_one()
    assert stored >= 1

    with sample_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO compound (city_id, external_id, name, households, residents, geom) "
            "SELECT id, 'TMP_WORKERS', '临时小区', 1, 3, ST_Multi(ST_Buffer(ST_SetSRID("
            "ST_MakePoint(:lon, :lat), 4326), 0.0005)) FROM city WHERE code = 'testville'"),
            {"lon": LON, "lat": LAT})
    try:
        def both_new(a: list[dict[str, Any]]) -> bool:
            return len({b["pid"] for b in a if b["etag"] != old_etag}) == 2

        after = _until(url, both_new)
        new = [b for b in after if b["etag"] != old_etag]
        assert {b["n"] for b in new} == {n_before + 1}
        assert len({b["etag"] for b in new}) == 1
        assert sum(b["cache"] == "render" for b in new) == 1  # one render, shared by both
        # once a process has served the new tile it never goes back to the old one
        for pid in {b["pid"] for b in after}:
            mine = [b["etag"] for b in after if b["pid"] == pid]
            seen_new = mine.index(new[0]["etag"])
            assert set(mine[seen_new:]) == {new[0]["etag"]}
    finally:
        with sample_engine.begin() as conn:
            conn.execute(text("DELETE FROM compound WHERE external_id = 'TMP_WORKERS'"))


def test_worker_connections_get_tcp_nodelay() -> None:
    """The socket the supervisor hands the workers gives accepted connections TCP_NODELAY
    (without it every keep-alive answer after the first waits for a delayed ACK)."""
    import asyncio
    import socket

    from api.server import TcpConfig

    config = TcpConfig("api.app:create_app", factory=True, host="127.0.0.1", port=free_port(),
                       workers=2)
    listener = config.bind_socket()
    assert listener.proto == socket.IPPROTO_TCP and listener.get_inheritable()
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", config.port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(accept_one())
    assert seen and seen[0] != 0
