"""Request bodies are limited before they are read, and uploads authenticated before parsing.

Raw sockets against a real uvicorn server: a client declares or streams a body and stops
sending as soon as the server answers; a wrapper counts the body bytes the app pulled.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, text

from api.app import create_app
from geo.settings import Settings
from tests.support.sample import live_server

UPLOAD = "/cities/testville/imports/service-points"
UPLOAD_LIMIT = 1024 * 1024
JSON_LIMIT = 64 * 1024
CHUNK = 16 * 1024


class BodyCounter:
    """ASGI wrapper counting the request body bytes the wrapped app has received."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.pulled = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.pulled += len(message.get("body", b""))
            return message

        await self.app(scope, counting_receive if scope["type"] == "http" else receive, send)


@pytest.fixture(scope="module")
def small(sample_settings: Settings) -> Iterator[tuple[str, BodyCounter]]:
    """A server with a 1 MiB upload and 64 KiB JSON limit, and its body counter."""
    s = replace(sample_settings, max_upload_bytes=UPLOAD_LIMIT, max_body_bytes=JSON_LIMIT)
    counter = BodyCounter(create_app(s))
    with live_server(counter) as url:
        yield url, counter


def _multipart(content: bytes, filename: str = "p.geojson") -> tuple[str, bytes]:
    boundary = "sc-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/geo+json\r\n\r\n").encode()
    return (f"multipart/form-data; boundary={boundary}",
            body + content + f"\r\n--{boundary}--\r\n".encode())


def _pieces(body: bytes, size: int = CHUNK) -> list[bytes]:
    return [body[i:i + size] for i in range(0, len(body), size)]


def _chunked(parts: Iterable[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def _send(base: str, method: str, path: str, headers: dict[str, str],
          body: Iterable[bytes] = ()) -> tuple[int, dict[str, str], bytes]:
    """Send the request head, then ``body`` piece by piece until the server answers."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=15) as sock:
        head = [f"{method} {path} HTTP/1.1", f"Host: {url.netloc}",
                *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for piece in body:
            if select.select([sock], [], [], 0.01)[0]:
                break  # answered before the body was sent in full
            sock.sendall(piece)
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            assert more, "connection closed without a response"
            data += more
        raw_head, _, rest = data.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        got = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        while len(rest) < int(got.get("content-length", 0)):
            more = sock.recv(65536)
            if not more:
                break
            rest += more
    return int(lines[0].split()[1]), got, rest


def _assert_413(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "too-large"


def test_declared_oversized_upload_is_413_before_any_body(server: str) -> None:
    ctype, _ = _multipart(b"")
    _assert_413(*_send(server, "POST", UPLOAD, {"Content-Type": ctype,
                                                "Content-Length": str(2 * 1024**3)}))


def test_anonymous_upload_is_401_before_any_body(server: str) -> None:
    # 40 MB declared, under the 50 MB upload limit; the server must not wait for it
    ctype, _ = _multipart(b"")
    status, headers, _ = _send(server, "POST", UPLOAD, {"Content-Type": ctype,
                                                        "Content-Length": str(40 * 1024**2)})
    assert status == 401 and headers["www-authenticate"] == "ApiKey"


def test_anonymous_upload_body_is_never_read(small: tuple[str, BodyCounter]) -> None:
    url, counter = small
    ctype, body = _multipart(b"x" * (UPLOAD_LIMIT // 2))
    before = counter.pulled
    status, _, _ = _send(url, "POST", UPLOAD, {"Content-Type": ctype,
                                               "Content-Length": str(len(body))}, _pieces(body))
    assert status == 401
    assert counter.pulled == before


def test_declared_oversized_json_is_413(small: tuple[str, BodyCounter]) -> None:
    url, _ = small
    _assert_413(*_send(url, "POST", "/keys", {"Content-Type": "application/json",
                                              "Content-Length": str(JSON_LIMIT + 1)}))


def test_chunked_json_over_the_limit_is_cut_off_with_413(small: tuple[str, BodyCounter]) -> None:
    url, counter = small
    body = json.dumps({"name": "x" * (4 * JSON_LIMIT)}).encode()
    before = counter.pulled
    status, headers, answer = _send(url, "POST", "/keys", {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        _chunked(_pieces(body)))
    _assert_413(status, headers, answer)
    assert counter.pulled - before <= JSON_LIMIT + CHUNK


def test_chunked_upload_over_the_limit_is_413_and_imports_nothing(
        small: tuple[str, BodyCounter], api_keys: dict[str, str], sample_engine: Engine) -> None:
    url, _ = small
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.05, 28.25]},
               "properties": {"external_id": "BIG", "type": "red_station", "name": "大文件"}}
    content = json.dumps({"type": "FeatureCollection", "features": [feature] * 20_000}).encode()
    assert len(content) > UPLOAD_LIMIT
    ctype, body = _multipart(content)
    _assert_413(*_send(url, "POST", f"{UPLOAD}?check_offset=false", {
        "Content-Type": ctype, "Transfer-Encoding": "chunked", "X-API-Key": api_keys["admin"]},
        _chunked(_pieces(body))))
    with sample_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM service_point "
                                 "WHERE external_id = 'BIG'")).scalar_one() == 0


def test_chunked_upload_within_the_limit_is_imported(small: tuple[str, BodyCounter],
                                                     api_keys: dict[str, str]) -> None:
    url, _ = small
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.05, 28.25]},
               "properties": {"external_id": "CHUNK1", "type": "red_station", "name": "分块"}}
    ctype, body = _multipart(json.dumps({"type": "FeatureCollection",
                                         "features": [feature]}).encode())
    status, _, answer = _send(url, "POST", f"{UPLOAD}?check_offset=false&dry_run=true", {
        "Content-Type": ctype, "Transfer-Encoding": "chunked", "X-API-Key": api_keys["admin"]},
        _chunked(_pieces(body, 256)))
    assert status == 201 and json.loads(answer)["inserted"] == 1


def test_upload_limit_applies_to_uploads_only(small: tuple[str, BodyCounter],
                                              api_keys: dict[str, str]) -> None:
    # a body over the JSON limit but under the upload limit reaches the import route
    url, _ = small
    ctype, body = _multipart(b"MZ" * JSON_LIMIT, filename="p.exe")
    status, _, answer = _send(url, "POST", UPLOAD, {
        "Content-Type": ctype, "Content-Length": str(len(body)), "X-API-Key": api_keys["admin"]},
        [body])
    assert status == 422 and json.loads(answer)["errors"][0]["field"] == "file"
