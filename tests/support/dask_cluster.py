"""A Dask cluster of separate processes for the batch tests: ``dask scheduler`` and
``dask worker`` started as subprocesses on free ports, and a worker plugin that marks the
first task a worker starts (so a test can kill that worker in the middle of it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from distributed import Client
from distributed.diagnostics.plugin import WorkerPlugin

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(db_name: str, database_url: str | None = None) -> dict[str, str]:
    """The environment of a subprocess using this checkout and database ``db_name``."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, SERVICECIRCLE_DB_NAME=db_name, PYTHONPATH=path)
    if database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = database_url
    return env


@contextmanager
def dask_processes(n_workers: int, env: dict[str, str], log_dir: Path
                   ) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A scheduler and ``n_workers`` single-threaded workers without nannies (a killed
    worker stays dead), each its own process; yields the scheduler address and the
    worker processes once all workers have joined. Stopped on exit."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 -- closed with the process
        p = subprocess.Popen([sys.executable, "-m", "dask", *args], env=env, cwd=ROOT,
                             stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
              "--no-dashboard")
        workers = [start(f"worker{i}", "worker", address, "--nworkers", "1", "--nthreads", "1",
                         "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                         "--name", f"w{i}") for i in range(n_workers)]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(n_workers, timeout=120)
        yield address, workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class MarkFirstTask(WorkerPlugin):
    """On the first task any worker starts, that worker writes its process id to
    ``marker`` (created exclusively: one worker of the cluster writes it)."""

    name = "mark-first-task"

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing":
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))


def wait_for_file(path: Path, proc: subprocess.Popen[Any], *, timeout_s: float) -> str:
    """The content of ``path`` once it is written (polled; ``proc`` ending first or the
    timeout is an error)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        if proc.poll() is not None:
            raise AssertionError(f"the batch ended before {path.name} was written")
        time.sleep(0.05)
    raise AssertionError(f"{path.name} was not written within {timeout_s} s")
