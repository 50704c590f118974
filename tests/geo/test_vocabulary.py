"""The vocabulary (geo.domain): one term per code, colours for added service types."""

from __future__ import annotations

import re

from geo.domain import (
    CASE_CATEGORIES,
    GB50180_METRES,
    LIFE_CIRCLE_MINUTES,
    SERVICE_TYPES,
    WALK_MINUTES,
    CaseCategory,
    ServiceType,
    added_type_color,
    service_type_term,
)

HEX = re.compile(r"#[0-9a-f]{6}")


def test_every_code_has_one_term() -> None:
    assert list(SERVICE_TYPES) == [str(t) for t in ServiceType]
    assert list(CASE_CATEGORIES) == [str(c) for c in CaseCategory]
    assert all(type(t.code) is str for t in SERVICE_TYPES.values())  # plain text in JSON


def test_built_in_types_have_distinct_colours_and_glyphs() -> None:
    terms = list(SERVICE_TYPES.values())
    assert all(t.color and HEX.fullmatch(t.color) and t.glyph for t in terms)
    assert len({t.color for t in terms}) == len({t.glyph for t in terms}) == len(terms)
    assert len({t.color for t in CASE_CATEGORIES.values()}) == len(CASE_CATEGORIES)


def test_an_added_type_gets_a_stable_colour_and_its_stored_labels() -> None:
    term = service_type_term("youth_station", zh="青年驿站", en="Youth station")
    assert (term.zh, term.en, term.glyph, term.builtin) == ("青年驿站", "Youth station", "青", False)
    assert term.color == added_type_color("youth_station") == "#4024a8"  # same in every process
    assert HEX.fullmatch(added_type_color("library"))
    assert added_type_color("library") != added_type_color("youth_station")
    assert service_type_term("red_station", zh="x") is SERVICE_TYPES["red_station"]
    assert service_type_term("nameless").zh == "nameless"


def test_thresholds_agree() -> None:
    assert tuple(GB50180_METRES) == WALK_MINUTES
    assert LIFE_CIRCLE_MINUTES == max(WALK_MINUTES)
