"""Request body limits, enforced before the app reads the body or checks a key.

Uploads (``/cities/{city}/imports/...``) may send ``Settings.max_upload_bytes``, every
other request ``Settings.max_body_bytes``. A declared ``Content-Length`` over the limit is
answered 413 at once, without reading the body; a body without one (chunked) is counted
as the app reads it and cut off with a 413 at the first chunk over the limit.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ContentTooLargeError, geo_problem
from geo.settings import Settings

UPLOAD_PATH = re.compile(r"^/cities/[^/]+/imports(/|$)")


class _BodyCutOff(HTTPException):
    """Raised to the app reading an over-long body; the 413 has already been sent."""

    def __init__(self) -> None:
        super().__init__(413)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects malformed lengths itself
    return None


def _too_large(limit: int) -> Response:
    return geo_problem(ContentTooLargeError(f"The request body may have at most {limit} bytes."))


class BodyLimit:
    """Pure ASGI middleware: 413 problem for request bodies over the route's limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_upload_bytes = settings.max_upload_bytes
        self.max_body_bytes = settings.max_body_bytes

    def limit(self, path: str) -> int:
        """The largest body accepted on ``path``."""
        return self.max_upload_bytes if UPLOAD_PATH.match(path) else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        length = _content_length(scope)
        if length is not None and length > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = cut_off = False

        async def limited_receive() -> Message:
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started and not cut_off:
                        cut_off = True
                        await _too_large(limit)(scope, receive, send)
                    raise _BodyCutOff()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut_off:
                return  # the app's answer to the cut-off body; the 413 went out instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyCutOff:
            if not cut_off:
                raise
