"""A typed address read into the names to look for in the city's own data.

Our data names compounds (小区), stations and streets, not house numbers, so
:func:`address_names` gives the text as typed, then without a house, building or unit
number (``建设路12号`` → ``建设路``, ``春晖家园3栋2单元`` → ``春晖家园``) and without a
leading province/city (and district) (``贵溪市建设路`` → ``建设路``): the most specific first.
"""

from __future__ import annotations

import re

#: A trailing number of a house, building, unit, floor or room (Arabic or Chinese digits).
_NUMBER = re.compile(r"[\s\-—#]*(?:第)?[0-9０-９一二三四五六七八九十百零〇]+\s*"
                     r"(?:号院|号楼|号|栋|幢|座|单元|楼|层|室|弄|巷)?.*$")
#: A leading administrative prefix: … 省 and/or … 市, then perhaps … 区/县 (at most 8
#: characters each; a lone … 区 is not taken: 小区 names end so).
_PREFIX = re.compile(r"^(?:[^省市县区\s]{1,7}省(?:[^省市县区\s]{1,7}市)?|[^省市县区\s]{1,7}市)"
                     r"(?:[^省市县区\s]{1,7}[区县])?")
#: Longest text searched (characters).
MAX_QUERY = 100


def address_names(q: str) -> tuple[str, ...]:
    """The names a typed address ``q`` may be found under, most specific first (each
    non-empty and distinct; empty when ``q`` is blank)."""
    text = " ".join(str(q).split())[:MAX_QUERY]
    out: list[str] = []

    def add(v: str) -> None:
        v = v.strip()
        if v and v not in out:
            out.append(v)

    add(text)
    bare = _NUMBER.sub("", text) if _NUMBER.search(text) and _NUMBER.sub("", text) else text
    add(bare)
    for v in (text, bare):
        m = _PREFIX.match(v)
        if m and m.end() and v[m.end():].strip():
            add(v[m.end():])
    return tuple(out)
