"""Styles and legends derive from the vocabulary: one colour per service type everywhere."""

from __future__ import annotations

import pytest

from geo.domain import (
    CASE_CATEGORIES,
    CASE_STATUSES,
    LIFE_CIRCLE_MINUTES,
    SERVICE_TYPES,
    WALK_MINUTES,
    ServiceType,
)
from geo.errors import InvalidInputError
from layers.catalog import default_registry, get_layer
from layers.registry import AnyCode, Source
from layers.styles import VALUE_LABELS, VOCABULARY_COLUMNS


def test_every_service_type_class_in_the_catalogue_has_the_vocabulary_colour() -> None:
    seen = 0
    for layer in default_registry():
        if VOCABULARY_COLUMNS.get(layer.style.property or "") != "service_types":
            continue
        for c in layer.style.classes:
            term = SERVICE_TYPES[str(c.value)]
            assert (c.color, c.label_zh, c.label_en) == (term.color, term.zh, term.en), layer.name
            seen += 1
    assert seen >= 2 * len(SERVICE_TYPES)  # service points and the coverage layers


def test_courier_layers_draw_their_station_type_in_its_colour() -> None:
    for layer, kind in (("courier_reach", ServiceType.COURIER_STATION),
                        ("parcel_reach", ServiceType.PARCEL_STATION)):
        assert get_layer(layer).style.color == SERVICE_TYPES[kind].color


def test_case_category_classes_are_the_vocabulary() -> None:
    classes = get_layer("grid_cases").style.classes
    assert [(c.value, c.color, c.label_zh) for c in classes] == [
        (t.code, t.color, t.zh) for t in CASE_CATEGORIES.values()]


def test_popup_value_labels_come_from_the_vocabulary() -> None:
    assert VALUE_LABELS["type"]["red_station"] == ("红色驿站", "Red station")
    assert VALUE_LABELS["status"] == {t.code: (t.zh, t.en) for t in CASE_STATUSES.values()}


def test_coverage_layers_follow_the_thresholds() -> None:
    names = default_registry().names()
    assert {m for m in WALK_MINUTES if f"coverage_circles_{m}" in names} == set(WALK_MINUTES)
    visible = [m for m in WALK_MINUTES if get_layer(f"coverage_circles_{m}").visible]
    assert visible == [LIFE_CIRCLE_MINUTES]
    bounds = [c.value for c in get_layer("coverage_compound_minutes").style.classes]
    assert bounds == [0, *WALK_MINUTES, 2 * LIFE_CIRCLE_MINUTES]
    filters = dict(get_layer("coverage_grid_share").source.query_filters)
    assert tuple(filters["minutes"]) == WALK_MINUTES


def test_service_type_filters_accept_any_well_formed_code() -> None:
    src = Source("t", columns=("service_type",),
                 query_filters=(("service_type", AnyCode(("red_station",))),))
    assert src.parse_query_filters({"service_type": "youth_station"}) == (
        ("service_type", "youth_station"),)
    for bad in ("x';drop", "Youth", "_x", "a" * 80, ""):
        with pytest.raises(InvalidInputError) as info:
            src.parse_query_filters({"service_type": bad})
        assert info.value.errors[0].field == "service_type"
    assert list(AnyCode(("red_station",))) == ["red_station"]  # what /layers lists
