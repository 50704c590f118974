"""What the HTTP benchmarks share: a server under uvicorn and a small keep-alive client.

:func:`uvicorn_server` starts an ASGI app in its own processes on 127.0.0.1 and waits until
it answers; :func:`load` sends a bounded list of GET requests from a number of keep-alive
HTTP/1.1 connections (each sends its next request when the last one is answered) and
reports throughput (requests per second), latencies (milliseconds) and statuses.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from geo.settings import Settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(settings: Settings) -> dict[str, str]:
    """The environment under which a server process uses ``settings``' database."""
    env = {**os.environ, "SERVICECIRCLE_DB_NAME": settings.db_name}
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url().replace("postgresql+psycopg://",
                                                                   "postgresql://")
    return env


#: ``uvicorn_server``'s name for our own service, started as users start it: ``servicecircle
#: serve`` (:mod:`api.server`, whose several processes keep TCP_NODELAY).
OURS = "servicecircle"


@contextmanager
def uvicorn_server(app: str, env: dict[str, str], *, port: int, ready_path: str,
                   workers: int = 1, start_s: float = 60.0, stop_s: float = 10.0,
                   access_log: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Our service (``app`` :data:`OURS`) or ``uvicorn <app>`` (another ASGI app, such as
    tipg) with ``workers`` processes on ``port``, once ``ready_path`` answers (within
    ``start_s`` seconds, else :class:`RuntimeError` with its last error output); terminated
    on exit (killed after ``stop_s`` seconds). With ``access_log`` the server's output, one
    line per request included, goes to that file."""
    level = "info" if access_log else "warning"
    common = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
              "--log-level", level]
    start = ([sys.executable, "-c", "from api.cli import main; main()", "serve"] if app == OURS
             else [sys.executable, "-m", "uvicorn", app])
    cmd = [*start, *common, *([] if access_log else ["--no-access-log"])]
    out = access_log.open("w") if access_log else None
    proc = subprocess.Popen(cmd, env=env, stdout=out or subprocess.DEVNULL,
                            stderr=out or subprocess.PIPE)
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = (access_log.read_text()[-2000:] if access_log else
                           proc.stderr.read().decode()[-2000:] if proc.stderr else "")
                    raise RuntimeError(f"server {app} did not start: {err}") from None
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_s)
        except subprocess.TimeoutExpired:
            proc.kill()
        if out:
            out.close()


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str,
               extra: bytes) -> tuple[int, int]:
    """One GET on a keep-alive connection: its status and body bytes."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + extra + b"\r\n")
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in head[1:] if line)}
    if "content-length" in headers:
        return status, len(await reader.readexactly(int(headers["content-length"])))
    n = 0
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            n += size
            if size == 0:
                break
    return status, n


async def load(port: int, paths: list[str], *, clients: int,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
    """GET every path once from ``clients`` keep-alive connections to 127.0.0.1:``port``.

    Returns ``requests, clients, seconds, throughput_rps``, latency percentiles
    ``p50_ms, p95_ms, p99_ms, max_ms``, ``statuses`` (count per status), ``errors``
    (answers other than 200/204 and failed requests, after which the client reconnects)
    and ``mb`` (body megabytes).
    """
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failed: list[str] = []
    nbytes = 0
    next_i = 0

    async def client() -> None:
        nonlocal next_i, nbytes
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_i < len(paths):
                path = paths[next_i]
                next_i += 1
                t0 = time.perf_counter()
                try:
                    status, n = await asyncio.wait_for(_get(reader, writer, path, extra), 60)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    failed.append(type(exc).__name__)
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                nbytes += n
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    lat = np.array(latencies) if latencies else np.array([np.nan])
    bad = sum(n for s, n in statuses.items() if s not in ("200", "204")) + len(failed)
    return {"requests": len(paths), "clients": clients, "seconds": round(wall, 2),
            "throughput_rps": round(len(paths) / wall, 1),
            **{f"p{q}_ms": round(float(np.percentile(lat, q)), 2) for q in (50, 95, 99)},
            "max_ms": round(float(np.max(lat)), 2),
            "statuses": dict(sorted(statuses.items())), "errors": bad,
            "mb": round(nbytes / 1e6, 2)}
