"""Names people give things (scenarios, candidate sites): bounded, single-line text.

Any other text is allowed — markup included — because every page escapes it on output;
what is refused is text that would break a table or a log line, or spoof its direction.
"""

from __future__ import annotations

import unicodedata

from geo.errors import InvalidInputError, Problem

#: Longest name accepted (characters).
MAX_NAME = 200
#: Bidirectional overrides and isolates (text that displays in another order than stored).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def label_reason(value: str, max_len: int = MAX_NAME) -> str | None:
    """Why ``value`` is not an acceptable name, or ``None`` if it is."""
    if len(value) > max_len:
        return f"too long ({len(value)} characters; at most {max_len})"
    if any(unicodedata.category(c) == "Cc" or c in _BIDI for c in value):
        return "contains control characters (line breaks, tabs, NUL, direction overrides)"
    return None


def check_label(value: str, field: str, max_len: int = MAX_NAME) -> str:
    """``value`` if acceptable; :class:`InvalidInputError` naming ``field`` otherwise."""
    reason = label_reason(value, max_len)
    if reason is not None:
        raise InvalidInputError(f"invalid {field}", [Problem(reason, field=field)])
    return value
