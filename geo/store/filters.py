"""OGC API – Features filters as SQL with bound values: CQL2, ``sortby``, ``datetime``.

CQL2 text or JSON is parsed by the ``cql2`` package (the reference implementation) into
CQL2-JSON, then translated here for the *Basic CQL2* operators: comparisons
(``= <> < <= > >=``), ``AND``/``OR``/``NOT``, ``IS NULL``, ``LIKE``, ``IN`` and
``BETWEEN``, on queryable properties only. Every property is an identifier from the layer
registry (checked against the queryables), every literal a bound parameter whose type must
match the property's (a number for a numeric column, text for a text column, an instant
for a timestamp), so nothing a client writes is ever SQL text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import cql2

from geo.errors import Problem, QueryParameterError

#: JSON-Schema type of each PostgreSQL type name (``format_type`` output) we expose.
_PG_TYPES = {"integer": "integer", "bigint": "integer", "smallint": "integer",
             "double precision": "number", "real": "number", "numeric": "number",
             "boolean": "boolean", "text": "string", "character varying": "string",
             "timestamp with time zone": "date-time", "timestamp without time zone": "date-time",
             "date": "date"}
_COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
SUPPORTED_OPS = ("=", "<>", "<", "<=", ">", ">=", "and", "or", "not", "isNull", "like", "in",
                 "between")
_SORT = re.compile(r"^([+-]?)([A-Za-z_][A-Za-z0-9_]*)$")


def json_type(pg_type: str) -> str | None:
    """Queryable type of a PostgreSQL type: integer, number, boolean, string, date-time,
    date; ``None`` for types that are not queryable (arrays, JSON, geometry)."""
    base = re.sub(r"\(.*\)", "", pg_type).strip()
    return _PG_TYPES.get(base)


def _bad(reason: str, field: str = "filter") -> QueryParameterError:
    return QueryParameterError("invalid filter", [Problem(reason, field=field)])


def parse_cql2(value: str, lang: str) -> dict[str, Any]:
    """CQL2 ``value`` in ``lang`` (``cql2-text`` or ``cql2-json``) as a CQL2-JSON dict."""
    try:
        if lang == "cql2-json":
            expr = cql2.parse_json(value)
        elif lang == "cql2-text":
            expr = cql2.parse_text(value)
        else:
            raise QueryParameterError("invalid filter-lang", [Problem(
                f"{lang!r} is not supported; use cql2-text or cql2-json", field="filter-lang")])
        out = expr.to_json()
    except (ValueError, cql2.ParseError, cql2.ValidationError) as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else "cannot be parsed"
        raise _bad(f"not valid {lang}: {msg}") from None
    if not isinstance(out, dict):
        raise _bad(f"not a {lang} expression")
    return out


@dataclass
class _Builder:
    """Translates one CQL2-JSON tree; collects bound values in ``params``."""

    types: Mapping[str, str]  # queryable name → json type
    prefix: str
    params: dict[str, Any]

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def prop(self, node: Any) -> tuple[str, str]:
        if not (isinstance(node, dict) and set(node) == {"property"}):
            raise _bad("each comparison needs a property on one side and a value on the "
                       "other")
        name = node["property"]
        if name not in self.types:
            raise QueryParameterError("unknown property", [Problem(
                f"{name!r} is not a queryable property; use one of "
                f"{', '.join(self.types)}", field="filter")])
        return f't."{name}"', self.types[name]

    def literal(self, node: Any, kind: str, prop: str) -> Any:
        """``node`` converted to the Python value of a property of type ``kind``."""
        if isinstance(node, dict) and set(node) in ({"timestamp"}, {"date"}):
            node = next(iter(node.values()))
        if kind in ("integer", "number"):
            if isinstance(node, bool) or not isinstance(node, int | float):
                raise _bad(f"{prop} is a number; {json.dumps(node, ensure_ascii=False)} is not")
            return node
        if kind == "boolean":
            if not isinstance(node, bool):
                raise _bad(f"{prop} is true or false; {json.dumps(node)} is not")
            return node
        if kind in ("date-time", "date"):
            if not isinstance(node, str):
                raise _bad(f"{prop} is an instant; give TIMESTAMP('…') or DATE('…')")
            return parse_instant(node, field="filter")[0]
        if not isinstance(node, str):
            raise _bad(f"{prop} is text; quote the value ('…')")
        return node

    def sql(self, node: Any) -> str:
        if not isinstance(node, dict) or "op" not in node:
            raise _bad("expected a predicate (a comparison, AND, OR or NOT)")
        op, args = node["op"], node.get("args", [])
        if op in ("and", "or"):
            return "(" + f" {op.upper()} ".join(self.sql(a) for a in args) + ")"
        if op == "not":
            return f"(NOT {self.sql(args[0])})"
        if op == "isNull":
            col, _ = self.prop(args[0])
            return f"({col} IS NULL)"
        if op in _COMPARISONS:
            left, right = args
            flip = isinstance(right, dict) and "property" in right and not (
                isinstance(left, dict) and "property" in left)
            if flip:
                left, right = right, left
                op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            col, kind = self.prop(left)
            value = self.literal(right, kind, left["property"])
            return f"({col} {_COMPARISONS[op]} {self.bind(value)})"
        if op == "like":
            col, kind = self.prop(args[0])
            if kind != "string":
                raise _bad(f"LIKE needs a text property; {args[0]['property']} is {kind}")
            return f"({col} LIKE {self.bind(self.literal(args[1], kind, 'LIKE'))})"
        if op == "in":
            col, kind = self.prop(args[0])
            if not isinstance(args[1], list) or not args[1]:
                raise _bad("IN needs a list of values")
            values = [self.literal(v, kind, args[0]["property"]) for v in args[1]]
            return "(" + " OR ".join(f"{col} = {self.bind(v)}" for v in values) + ")"
        if op == "between":
            col, kind = self.prop(args[0])
            lo, hi = (self.literal(v, kind, args[0]["property"]) for v in args[1:3])
            return f"({col} BETWEEN {self.bind(lo)} AND {self.bind(hi)})"
        raise _bad(f"operator {op!r} is not supported; supported: {', '.join(SUPPORTED_OPS)}")


def cql2_sql(tree: Mapping[str, Any], queryables: Mapping[str, str], *,
             prefix: str = "cql") -> tuple[str, dict[str, Any]]:
    """SQL condition (over alias ``t``) and bound values of a CQL2-JSON ``tree``.

    ``queryables`` maps each property a client may name to its type (:func:`json_type`);
    any other property, an unsupported operator or a literal of the wrong type raises
    :class:`QueryParameterError` (400) naming the queryables.
    """
    b = _Builder(queryables, prefix, {})
    try:
        return b.sql(tree), b.params
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, QueryParameterError):
            raise
        raise _bad("malformed expression") from None


def sortby_sql(value: str, queryables: Mapping[str, str]) -> list[str]:
    """ORDER BY terms of ``sortby`` (``name,-residents``; ``+``/``-`` for ascending or
    descending) on queryable properties; NULLs last."""
    terms, problems = [], []
    for part in (p.strip() for p in value.split(",")):
        m = _SORT.match(part)
        if not m or m.group(2) not in queryables:
            problems.append(Problem(f"{part!r} is not a sortable property; use "
                                    f"[+|-]name with one of {', '.join(queryables)}",
                                    field="sortby"))
            continue
        direction = "DESC" if m.group(1) == "-" else "ASC"
        terms.append(f't."{m.group(2)}" {direction} NULLS LAST')
    if problems:
        raise QueryParameterError("invalid sortby", problems)
    return terms


def parse_instant(value: str, *, field: str = "datetime") -> tuple[datetime, datetime]:
    """``[start, end)`` of an RFC 3339 instant (a point: ``end = start``) or a date (the
    whole UTC day). A time without an offset is read as UTC."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start, start + timedelta(days=1)
        t = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise QueryParameterError("invalid datetime", [Problem(
            f"{value!r} is not an RFC 3339 date or date-time (e.g. 2024-05-01 or "
            "2024-05-01T08:00:00Z)", field=field)]) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t, t


@dataclass(frozen=True)
class Interval:
    """A closed-open time interval ``[start, end)``; ``None`` for an open end. An instant
    has ``start == end`` and matches exactly that instant."""

    start: datetime | None
    end: datetime | None

    def sql(self, expr: str, params: dict[str, Any]) -> str:
        """Condition on the SQL expression ``expr``; values added to ``params``."""
        if self.start is not None and self.start == self.end:
            params["dt0"] = self.start
            return f"{expr} = :dt0"
        out = []
        if self.start is not None:
            params["dt0"] = self.start
            out.append(f"{expr} >= :dt0")
        if self.end is not None:
            params["dt1"] = self.end
            out.append(f"{expr} < :dt1")
        return " AND ".join(out) if out else f"{expr} IS NOT NULL"


def parse_datetime(value: str) -> Interval:
    """The OGC ``datetime`` parameter: an instant, or ``start/end`` with ``..`` (or
    nothing) for an open end. An interval ends at the end of its last instant or day."""
    if "/" not in value:
        first, last = parse_instant(value)
        return Interval(first, last)
    a, _, b = value.partition("/")
    start: datetime | None = None if a.strip() in ("", "..") else parse_instant(a)[0]
    end: datetime | None = None
    if b.strip() not in ("", ".."):
        s, e = parse_instant(b)
        end = e if e != s else s + timedelta(microseconds=1)
    if start is not None and end is not None and end <= start:
        raise QueryParameterError("invalid datetime", [Problem(
            f"{value!r}: the interval ends before it starts", field="datetime")])
    if start is None and end is None and a.strip() != ".." and b.strip() != "..":
        raise QueryParameterError("invalid datetime", [Problem(
            f"{value!r} is not an interval", field="datetime")])
    return Interval(start, end)
