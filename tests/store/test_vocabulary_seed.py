"""The lookup tables and CHECK constraints the migrations create agree with the vocabulary
(:mod:`geo.domain`), and the store reads added service types back as terms."""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from geo.domain import (
    CASE_CATEGORIES,
    SERVICE_TYPES,
    CaseStatus,
    PropertyManagement,
    added_type_color,
)
from geo.store.imports import add_service_type
from geo.store.vocabulary import service_type_terms


def _rows(conn: Connection, sql: str) -> dict[str, tuple[str, str]]:
    return {r.code: (r.name_zh, r.name_en) for r in conn.execute(text(sql))}


def _check_values(conn: Connection, name: str) -> set[str]:
    definition = conn.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                   "WHERE conname = :n AND coninhcount = 0"),  # not a partition's copy
                               {"n": name}).scalar_one()
    return set(re.findall(r"'([a-z_]+)'", definition))


def test_seeded_service_types_are_the_vocabulary(conn: Connection) -> None:
    seeded = _rows(conn, "SELECT code, name_zh, name_en FROM service_type WHERE builtin")
    assert seeded == {t.code: (t.zh, t.en) for t in SERVICE_TYPES.values()}


def test_seeded_case_categories_are_the_vocabulary(conn: Connection) -> None:
    seeded = _rows(conn, "SELECT code, name_zh, name_en FROM case_category")
    assert seeded == {t.code: (t.zh, t.en) for t in CASE_CATEGORIES.values()}


def test_status_and_property_checks_allow_exactly_the_vocabulary(conn: Connection) -> None:
    assert _check_values(conn, "grid_case_status_check") == {str(s) for s in CaseStatus}
    assert _check_values(conn, "compound_property_management_check") == {
        str(p) for p in PropertyManagement}


def test_added_type_is_read_back_after_the_built_ins(conn: Connection) -> None:
    add_service_type(conn, "youth_station", name_zh="青年驿站", name_en="Youth station")
    terms = service_type_terms(conn)
    assert [t.code for t in terms[:len(SERVICE_TYPES)]] == list(SERVICE_TYPES)
    added = terms[-1]
    assert (added.code, added.zh, added.en, added.builtin) == (
        "youth_station", "青年驿站", "Youth station", False)
    assert added.color == added_type_color("youth_station") and added.glyph == "青"
