"""Opening hours in the OpenStreetMap ``opening_hours`` syntax, and the moments they are read at.

The syntax is OpenStreetMap's (https://wiki.openstreetmap.org/wiki/Key:opening_hours/specification),
parsed and evaluated by ``opening-hours-py`` (the Python binding of the Rust crate
``opening-hours``), with China's public holidays (``PH``) and times in the city's local
time, China Standard Time (Asia/Shanghai).

Rules of this project:

- A **blank** value means the hours are unknown; such a service point counts as **always
  open** (a missing value never removes a station from coverage).
- A state ``unknown`` in the expression (e.g. ``"Mo-Fr 08:00-17:00; Sa unknown"``) counts
  as open for the same reason; only ``closed``/``off`` and times outside the ranges close
  a station.
- A **moment** (:class:`Moment`) is either a weekday and a time of day — evaluated in a
  fixed reference week, 8–14 January 2024, a week with no Chinese public holiday, so that
  it is reproducible — or an ISO date-time (China Standard Time without an offset), which
  also honours public holidays and date ranges.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import opening_hours as oh

from geo.errors import InvalidInputError, Problem

__all__ = ["LOCAL_TZ", "REFERENCE_MONDAY", "WEEKDAYS", "Moment", "hours_reason", "is_open",
           "open_mask", "parse_hours", "parse_moment", "week_moments"]

#: The cities' local time: opening hours are read in it.
LOCAL_TZ = "Asia/Shanghai"
#: Country of the public holidays (``PH``) in the expressions.
COUNTRY = "CN"
#: Monday of the reference week of weekday moments (8–14 January 2024: no public holiday).
REFERENCE_MONDAY = date(2024, 1, 8)
#: Years an ISO date-time may fall in.
YEARS = (1970, 2999)
#: OSM weekday codes, Monday first, with the Chinese and English spellings accepted.
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_WEEKDAY_SPELLINGS: dict[str, int] = {}
for _i, (_osm, _en, _zh) in enumerate(zip(
        WEEKDAYS, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        "一二三四五六日", strict=True)):
    for _s in (_osm.lower(), _en, _en[:3], f"周{_zh}", f"星期{_zh}"):
        _WEEKDAY_SPELLINGS[_s] = _i
_WEEKDAY_SPELLINGS["周天"] = _WEEKDAY_SPELLINGS["星期天"] = 6
#: What the parser raises for invalid syntax (``ParserError`` is missing from its type stubs).
_PARSE_ERRORS: tuple[type[Exception], ...] = (getattr(oh, "ParserError", SyntaxError),
                                               SyntaxError, ValueError)
_WEEKDAY_FORM = re.compile(r"^\s*(\S+?)\s*(\d{1,2})(?::(\d{2}))?\s*$")


@lru_cache(maxsize=4096)
def _parsed(text: str) -> oh.OpeningHours:
    return oh.OpeningHours(text, country=COUNTRY)


def hours_reason(text: str) -> str | None:
    """Why ``text`` is not valid ``opening_hours`` syntax (the parser's message, one line),
    or ``None`` when it is."""
    try:
        _parsed(text.strip())
    except _PARSE_ERRORS as exc:
        msg = str(exc)
        where = re.search(r"-->\s*\d+:(\d+)", msg)
        expected = re.search(r"= expected (.+)", msg)
        detail = ""
        if where:
            col = int(where.group(1))
            detail = f"at character {col}: {text.strip()[col - 1:col + 11]!r}"
            if expected and len(expected.group(1)) <= 40:
                detail += f", expected {expected.group(1)}"
        return ("not valid OpenStreetMap opening_hours syntax"
                + (f" ({detail})" if detail else "")
                + ', e.g. "Mo-Fr 08:30-17:30; Sa 09:00-12:00" or "24/7"')
    return None


def parse_hours(text: str | None) -> oh.OpeningHours | None:
    """The parsed expression, or ``None`` for a blank value (unknown: always open).
    Raises :class:`InvalidInputError` (field ``opening_hours``) for invalid syntax."""
    if text is None or not str(text).strip():
        return None
    reason = hours_reason(str(text))
    if reason is not None:
        raise InvalidInputError("invalid opening hours",
                                [Problem(reason, field="opening_hours")])
    return _parsed(str(text).strip())


@dataclass(frozen=True)
class Moment:
    """A moment opening hours are read at: ``label`` as stored with a run (``"Mo 22:00"``
    or an ISO date-time with its offset) and ``local`` the naive local date-time evaluated."""

    label: str
    local: datetime

    @property
    def weekday(self) -> str:
        """OSM weekday code (``Mo`` … ``Su``)."""
        return WEEKDAYS[self.local.weekday()]

    @property
    def time(self) -> str:
        """Time of day, ``HH:MM``."""
        return self.local.strftime("%H:%M")


def _weekday_moment(day: int, hour: int, minute: int) -> Moment:
    local = datetime.combine(REFERENCE_MONDAY + timedelta(days=day), datetime.min.time()) \
        + timedelta(hours=hour, minutes=minute)
    return Moment(f"{WEEKDAYS[day]} {hour:02d}:{minute:02d}", local)


def parse_moment(value: Any, field: str = "at") -> Moment:
    """``"Mo 22:00"`` (also ``mo 22``, ``Monday 22:00``, ``周一 22:00``) or an ISO date-time
    (China Standard Time without an offset; with one, converted to it) → :class:`Moment`.
    Raises :class:`InvalidInputError` naming ``field``."""
    if isinstance(value, Moment):
        return value
    if isinstance(value, datetime):
        return _datetime_moment(value)
    text = str(value).strip()
    m = _WEEKDAY_FORM.match(text)
    if m and m.group(1).lower().rstrip(",") in _WEEKDAY_SPELLINGS:
        hour, minute = int(m.group(2)), int(m.group(3) or 0)
        if hour > 23 or minute > 59:
            raise InvalidInputError("invalid time of day", [Problem(
                f"{text!r}: the time of day must be 00:00–23:59", field=field)])
        return _weekday_moment(_WEEKDAY_SPELLINGS[m.group(1).lower().rstrip(",")], hour, minute)
    try:
        moment = _datetime_moment(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise InvalidInputError("invalid moment", [Problem(
            f"{text!r} is neither a weekday and time (e.g. 'Mo 22:00', '周一 22:00') nor an ISO "
            "date-time (e.g. '2026-12-07T22:00', China Standard Time)", field=field)]) from None
    if not YEARS[0] <= moment.local.year <= YEARS[1]:
        raise InvalidInputError("invalid moment", [Problem(
            f"{text!r}: the year must be {YEARS[0]}–{YEARS[1]}", field=field)])
    return moment


def _datetime_moment(t: datetime) -> Moment:
    tz = ZoneInfo(LOCAL_TZ)
    aware = t.replace(tzinfo=tz) if t.tzinfo is None else t.astimezone(tz)
    return Moment(aware.isoformat(timespec="minutes"), aware.replace(tzinfo=None))


def is_open(text: str | None, at: Moment) -> bool:
    """Whether a service point with these hours is open at ``at`` (blank or ``unknown``:
    open). Raises :class:`InvalidInputError` for invalid syntax."""
    parsed = parse_hours(text)
    return parsed is None or not parsed.is_closed(at.local)


def open_mask(hours: Sequence[str | None] | Iterable[str | None], at: Moment, *,
              ids: Sequence[Any] | None = None) -> np.ndarray:
    """Boolean array: which of these service points are open at ``at`` (:func:`is_open`).
    Invalid expressions raise one :class:`InvalidInputError` naming each (by ``ids`` when
    given, else by row from 1)."""
    values = list(hours)
    problems = []
    for i, v in enumerate(values, start=1):
        reason = hours_reason(v) if isinstance(v, str) and v.strip() else None
        if reason is not None:
            problems.append(Problem(f"service point {ids[i - 1]}: {reason}",
                                    field="opening_hours") if ids is not None else
                            Problem(reason, row=i, field="opening_hours"))
    if problems:
        raise InvalidInputError("invalid opening hours", problems)
    return np.array([is_open(v if isinstance(v, str) else None, at) for v in values],
                    dtype=bool)


def week_moments(hours: Iterable[str | None], *, ids: Sequence[Any] | None = None
                 ) -> list[Moment]:
    """One moment of the reference week for each distinct set of open service points:
    the start of every interval in which no expression of ``hours`` changes state
    (weekday moments, Monday 00:00 first). Parsing as :func:`open_mask`."""
    values = list(hours)
    open_mask(values, _weekday_moment(0, 0, 0), ids=ids)  # checks the syntax once, raising for all
    start = datetime.combine(REFERENCE_MONDAY, datetime.min.time())
    end = start + timedelta(days=7)
    changes = {start}
    for text in {v.strip() for v in values if isinstance(v, str) and v.strip()}:
        for a, _b, _state, _comment in _parsed(text).intervals(start, end):
            if start <= a < end:
                changes.add(a.replace(tzinfo=None) if a.tzinfo else a)
    out = []
    for t in sorted(changes):
        d = (t.date() - REFERENCE_MONDAY).days
        out.append(_weekday_moment(d, t.hour, t.minute))
    return out
