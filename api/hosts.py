"""Host header validation: links in responses (OGC API ``self``/``next``, TileJSON tile URLs,
the layer catalogue) are built from the request's ``Host``, so only trusted names may
reach the app.

Trusted are the loopback names (``localhost``, ``127.0.0.1``, ``::1``), the interface the
service listens on (``Settings.host``, unless a wildcard address) and
``Settings.allowed_hosts`` (``SERVICECIRCLE_ALLOWED_HOSTS``; ``*.example.org`` matches its
subdomains, ``*`` anything). Any other ``Host`` gets a 400 problem before routing; a
request without one (HTTP/1.0) is answered with links to the server's own address.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem
from geo.settings import Settings

LOOPBACK = ("localhost", "127.0.0.1", "::1")
_ANY_ADDRESS = ("0.0.0.0", "::", "")


def trusted_hosts(settings: Settings) -> tuple[str, ...]:
    """Host names (lower case, no port) the service answers to."""
    own = () if settings.host in _ANY_ADDRESS else (settings.host.strip("[]").lower(),)
    return tuple(dict.fromkeys((*LOOPBACK, *own, *settings.allowed_hosts)))


def host_name(header: str) -> str:
    """The name of a ``Host`` header value without its port (``[::1]:8000`` → ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def is_trusted(name: str, trusted: tuple[str, ...]) -> bool:
    """Whether host ``name`` matches one of ``trusted`` (exact, ``*.domain`` or ``*``)."""
    for pattern in trusted:
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


class HostCheck:
    """Pure ASGI middleware: 400 problem for a ``Host`` header naming an untrusted host."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trusted = trusted_hosts(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            values = [v for k, v in scope["headers"] if k == b"host"]
            if len(values) > 1 or (values and not is_trusted(
                    host_name(values[0].decode("latin-1")), self.trusted)):
                response = problem(400, "Invalid Host header",
                                   "This service does not answer to that host name.",
                                   code="invalid-host")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
