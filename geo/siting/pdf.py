"""Print an HTML page to PDF with headless Chromium, cut off from files and the network.

The page is never opened from a file: Chromium is driven over its DevTools pipe
(``--remote-debugging-pipe``) and the HTML becomes the content of an ``about:blank`` tab,
so ``file://`` URLs in it are refused as cross-origin. Every request the page makes is
failed through the DevTools ``Fetch`` domain, a dead proxy (loopback included) catches
anything that slips by, scripts are disabled, and the browser is killed at a deadline.
Run as root, Chromium is started as the unprivileged ``nobody`` with its sandbox on;
without a usable sandbox it falls back to ``--no-sandbox`` (logged).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pwd
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from geo.errors import GeoError

log = logging.getLogger("servicecircle.pdf")

#: Flags that keep the browser quiet, offline and script-free.
FLAGS = ("--headless", "--remote-debugging-pipe", "--disable-gpu", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-sync",
         "--disable-background-networking", "--disable-component-update", "--disable-quic",
         "--disable-default-apps", "--mute-audio", "--blink-settings=scriptEnabled=false",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--host-resolver-rules=MAP * ~NOTFOUND")
# Chromium reads commands from fd 3 and writes replies to fd 4. The pipes come in as stdin
# and stdout and a shell moves them there (no Python code runs between fork and exec).
_SHELL = 'exec 3<&0 4>&1 </dev/null >/dev/null; exec "$@"'


def chromium_path() -> str:
    """The headless browser used for PDF output; GeoError if none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise GeoError("PDF output needs Chromium (package 'chromium'); HTML is available")


class _Browser:
    """One Chromium process and its DevTools pipe; requests are failed as they come."""

    def __init__(self, exe: str, tmp: Path, *, sandbox: bool, deadline: float) -> None:
        self.deadline, self.buf, self.next_id = deadline, b"", 0
        self.events: list[dict[str, Any]] = []
        self.closed = False
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()
        args = [*FLAGS, f"--user-data-dir={tmp / 'profile'}"]
        if not sandbox:
            args.append("--no-sandbox")
        env = {"HOME": str(tmp), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "XDG_CONFIG_HOME": str(tmp), "XDG_CACHE_HOME": str(tmp), "LANG": "C.UTF-8"}
        self.stderr = (tmp / "stderr.log").open("wb")
        try:
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", _SHELL, "sh", exe, *args], stdin=cmd_r, stdout=out_w,
                stderr=self.stderr, env=env, start_new_session=True, **_unprivileged(tmp))
        except OSError:
            os.close(self.cmd_w)
            os.close(self.out_r)
            self.stderr.close()
            raise
        finally:
            os.close(cmd_r)
            os.close(out_w)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> int:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send a command and wait for its result."""
        mid = self.send(method, params, session)
        while True:
            msg = self._read()
            if msg.get("id") == mid:
                if "error" in msg:
                    raise GeoError(f"PDF rendering failed ({method})")
                return msg.get("result", {})  # type: ignore[no-any-return]

    def wait_event(self, method: str) -> None:
        """Wait until the event ``method`` has arrived (also if it came earlier)."""
        while not any(e.get("method") == method for e in self.events):
            self._read()

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            ready = select.select([self.out_r], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                raise TimeoutError
            chunk = os.read(self.out_r, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium exited")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        msg: dict[str, Any] = json.loads(raw)
        if msg.get("method") == "Fetch.requestPaused":  # nothing is ever fetched
            self.send("Fetch.failRequest", {"requestId": msg["params"]["requestId"],
                                            "errorReason": "BlockedByClient"},
                      msg.get("sessionId"))
        elif "method" in msg:
            self.events.append(msg)
        return msg

    def close(self) -> None:
        """Kill the browser and everything it started; close the pipes (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        for fd in (self.cmd_w, self.out_r):
            os.close(fd)
        self.stderr.close()


def _unprivileged(tmp: Path) -> dict[str, Any]:
    """Popen arguments running the browser as ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        log.warning("running Chromium as root: no 'nobody' user")
        return {}
    os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def _print(b: _Browser, html: str) -> bytes:
    target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    sid = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    b.call("Emulation.setScriptExecutionDisabled", {"value": True}, sid)
    b.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, sid)
    b.call("Page.enable", {}, sid)
    frame = b.call("Page.getFrameTree", {}, sid)["frameTree"]["frame"]["id"]
    b.events.clear()
    b.call("Page.setDocumentContent", {"frameId": frame, "html": html}, sid)
    b.wait_event("Page.loadEventFired")
    pdf = b.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                     "displayHeaderFooter": False}, sid)["data"]
    return base64.b64decode(pdf)


def render_pdf(html: str, *, timeout_s: float = 20.0) -> bytes:
    """Print ``html`` to an A4 PDF; the page can load nothing and run nothing.

    Raises :class:`GeoError` when Chromium is missing, fails or exceeds ``timeout_s``.
    """
    exe = chromium_path()
    deadline = time.monotonic() + timeout_s
    for sandbox in (True, False):
        with tempfile.TemporaryDirectory(prefix="sc-pdf-") as tmp:
            b: _Browser | None = None
            try:
                b = _Browser(exe, Path(tmp), sandbox=sandbox, deadline=deadline)
                return _print(b, html)
            except ConnectionError as exc:
                if b is not None:
                    b.close()
                err = (Path(tmp) / "stderr.log").read_text(errors="replace").lower()
                if sandbox and "sandbox" in err:
                    log.warning("Chromium has no usable sandbox here; printing without it")
                    continue
                raise GeoError("PDF rendering failed") from exc
            except (TimeoutError, OSError, KeyError, ValueError) as exc:
                raise GeoError("PDF rendering failed") from exc
            finally:
                if b is not None:
                    b.close()
    raise GeoError("PDF rendering failed")  # pragma: no cover
