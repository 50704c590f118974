"""Security headers on every response: pages, JSON, tiles, static files and errors.

Each HTML page gets a Content-Security-Policy of its own: the maps (``/map``, ``/finder``)
and the API docs run scripts from this origin only (no inline script); siting reports load
and run nothing.
The OGC API's HTML pages allow this origin's stylesheet only
(set by the route, :data:`OGC_HTML_CSP`). Every other response gets ``default-src 'none'``. All responses also carry
``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
``Referrer-Policy: no-referrer``. A header a route sets itself is kept.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.siting.report import REPORT_CSP
from layers.basemaps import online_basemap

_CLOSED = "base-uri 'none'; frame-ancestors 'none'"
API_CSP = f"default-src 'none'; form-action 'none'; {_CLOSED}"
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            f"form-action 'self'; {_CLOSED}")
REPORT_PAGE_CSP = f"{REPORT_CSP}; {_CLOSED}"
#: HTML pages of the OGC API resources: this origin's stylesheet, no script, no form.
OGC_HTML_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                f"form-action 'none'; {_CLOSED}")
#: Error pages of browser routes (:mod:`api.error_pages`): their own styles, nothing else.
ERROR_PAGE_CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; {_CLOSED}"
#: MapLibre's web worker (a script of its own: its requests follow its response's policy).
MAP_WORKER = "/static/vendor/maplibre/maplibre-gl-csp-worker.js"
HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
           "referrer-policy": "no-referrer"}


def basemap_source(url: str | None) -> str:
    """The CSP source of an XYZ basemap URL (``{s}`` subdomains as ``*``); '' if none."""
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "*"))
    if parts.scheme not in ("http", "https"):
        return ""
    if not re.fullmatch(r"[A-Za-z0-9.*:\[\]-]+", parts.netloc):
        return f"{parts.scheme}:"  # a templated or odd host: allow the scheme
    return f"{parts.scheme}://{parts.netloc}"


def map_csp(*basemap_urls: str | None) -> str:
    """The map's policy: scripts, styles and data from this origin; the tiles of an online
    basemap (MapLibre fetches them, then draws them as images)."""
    hosts = sorted({h for h in (basemap_source(u) for u in basemap_urls) if h})
    img = " ".join(["'self' data:", *hosts])
    connect = " ".join(["'self'", *hosts])
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src {connect}; object-src 'none'; form-action 'self'; "
            f"{_CLOSED}")


class SecurityHeaders:
    """ASGI middleware adding the headers; the policy is chosen by path."""

    def __init__(self, app: ASGIApp, *, map_policy: str) -> None:
        self.app, self.map_policy = app, map_policy

    def policy(self, path: str) -> str:
        """The Content-Security-Policy for a request path."""
        if path in ("/map", "/finder", MAP_WORKER):  # the worker fetches under its own policy
            return self.map_policy
        if path == "/docs":
            return DOCS_CSP
        if path.startswith("/cities/") and path.endswith("/report.html"):
            return REPORT_PAGE_CSP
        return API_CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = HEADERS | {"content-security-policy": self.policy(scope["path"])}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in extra.items():
                    headers.setdefault(k, v)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Wrap ``app``'s whole middleware stack, so even 500 responses get the headers."""
    build = app.build_middleware_stack
    settings = app.state.settings
    online = online_basemap(settings, center=None)  # also refuses incomplete settings
    meta = (online or {}).get("metadata", {})
    urls = [t for src in (online or {}).get("sources", {}).values() for t in src["tiles"]]
    urls += meta.get("sc:gcj02_tiles", [])
    policy = map_csp(settings.basemap_url, *urls)

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), map_policy=policy)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
