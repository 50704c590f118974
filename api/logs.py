"""Access logs without API keys.

Keys are read from headers only (:mod:`api.auth`), but a client may still put one in a
URL (``?api_key=…``, or a key pasted into a path). The access log of uvicorn writes every
request's path and query string, so :class:`RedactKeys` replaces, before a line is
written, the values of query parameters that usually carry secrets and anything shaped
like one of our keys (``sc<id>_<secret>``) with ``[redacted]``.
"""

from __future__ import annotations

import logging
import re

#: Query parameters whose values are never logged.
SECRET_PARAMS = ("api_key", "apikey", "api-key", "x-api-key", "key", "token",
                 "access_token", "auth", "authorization", "password", "secret")
REDACTED = "[redacted]"
_KEYLIKE = re.compile(r"sc\d{1,10}_[A-Za-z0-9_-]{8,}")
_NAMES = "|".join(map(re.escape, SECRET_PARAMS))
_PARAM = re.compile(rf"(?i)(^|[?&;])((?:{_NAMES})=)[^&;#]*")
ACCESS_LOGGER = "uvicorn.access"


def redact(text: str) -> str:
    """``text`` (a path with query string, or a log line) with secrets replaced."""
    text = _PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _KEYLIKE.sub(REDACTED, text)


class RedactKeys(logging.Filter):
    """A logging filter redacting keys from a record's message arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Attach :class:`RedactKeys` to uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactKeys) for f in logger.filters):
        logger.addFilter(RedactKeys())
