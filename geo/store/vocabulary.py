"""The vocabulary as a database holds it: the built-in terms and service types added later.

Service types live in the lookup table ``service_type``: the built-in ones seeded by the
first migration (their labels agree with :data:`geo.domain.SERVICE_TYPES`, which a test
checks) and any added with ``servicecircle types add`` (:func:`geo.store.imports.add_service_type`).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from geo import vocab
from geo.domain import SERVICE_TYPES, Term, service_type_term


def service_type_terms(conn: Connection) -> tuple[Term, ...]:
    """Every service type of the lookup table as a :class:`~geo.domain.Term`.

    Built-in types first, in the vocabulary's order, with their labels, colours and glyphs
    from :mod:`geo.domain`; then the types added at run time, by code, with the labels of
    their table row and a colour of their own (:func:`geo.domain.service_type_term`).
    """
    rows = conn.execute(text("SELECT code, name_zh, name_en FROM service_type")).all()
    stored = {r.code: (r.name_zh, r.name_en) for r in rows}
    builtin = [term for code, term in SERVICE_TYPES.items() if code in stored]
    added = [service_type_term(code, zh=zh, en=en) for code, (zh, en) in sorted(stored.items())
             if code not in SERVICE_TYPES]
    return (*builtin, *added)


def resolve_service_type(conn: Connection, value: str, *, field: str = "service_type") -> str:
    """The code of the service type ``value`` names — a code, Chinese or English label of a
    built-in type or of one added at run time (:func:`geo.vocab.resolve_service_type`
    against :func:`service_type_terms`); else :class:`~geo.errors.InvalidInputError`
    ``unknown-service-type`` with "did you mean"."""
    return vocab.resolve_service_type(value, service_type_terms(conn), field=field)


def resolve_vocabulary_filters(conn: Connection, filters: dict[str, str]) -> dict[str, str]:
    """``filters`` (column → value) with the values of vocabulary columns (``type``,
    ``service_type``: service types; ``category``: case categories) turned from names —
    code, Chinese or English label — into codes; other columns as given. An unknown name
    raises :class:`~geo.errors.InvalidInputError` with "did you mean"."""
    out = dict(filters)
    for column, value in filters.items():
        if column in ("type", "service_type"):
            out[column] = resolve_service_type(conn, value, field=column)
        elif column == "category":
            out[column] = vocab.resolve_category(value, field=column)
    return out


def service_type_of(conn: Connection, code: str) -> Term | None:
    """The :class:`~geo.domain.Term` of service type ``code`` with the labels its table row
    has (a type added at run time included); ``None`` when the table has no such type."""
    row = conn.execute(text("SELECT name_zh, name_en FROM service_type WHERE code = :c"),
                       {"c": code}).first()
    return None if row is None else service_type_term(code, zh=row.name_zh, en=row.name_en)
