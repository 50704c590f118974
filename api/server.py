"""Running the HTTP service under uvicorn: one process, or several sharing one socket.

``run(host, port, workers=N)`` serves ``api.app:create_app``. With ``N > 1`` uvicorn's
supervisor binds the listening socket and hands it to N worker processes; the kernel
spreads connections over them. The processes hold no state of their own besides caches
(the tile cache they share lives in PostgreSQL, :mod:`geo.store.tile_cache`).

One correction to uvicorn: its ``Config.bind_socket`` creates the socket with protocol 0,
accepted connections inherit it, and asyncio only sets ``TCP_NODELAY`` on sockets whose
protocol is ``IPPROTO_TCP`` — so with several processes Nagle's algorithm stays on and, on
Linux, every keep-alive response after the first waits about 40 ms for the client's
delayed ACK (uvicorn issue #3149; one process is unaffected: asyncio builds that socket
from ``getaddrinfo``, protocol 6). :class:`TcpConfig` hands the supervisor the same socket
labelled ``IPPROTO_TCP``, so every worker's connections get ``TCP_NODELAY`` as one
process's do.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "api.app:create_app"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, its TCP listening socket labelled ``IPPROTO_TCP``."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto:
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp


def run(*, host: str, port: int, workers: int = 1, log_level: str = "info",
        access_log: bool = True) -> None:
    """Serve the API and map on ``host:port`` with ``workers`` processes until stopped."""
    config = TcpConfig(APP, factory=True, host=host, port=port, workers=workers,
                       log_level=log_level, access_log=access_log)
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
