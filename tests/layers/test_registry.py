"""The layer catalogue: declarations are valid and match the migrated database."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo.domain import ServiceType
from geo.errors import InvalidInputError, NotFoundError
from layers.catalog import default_registry, get_layer
from layers.registry import Layer, Registry, Source, Style


def _layer(**kw: object) -> Layer:
    base: dict[str, object] = {
        "name": "x", "title_zh": "甲", "title_en": "X", "geometry_type": "Point",
        "source": Source("service_point", columns=("name",)), "style": Style("circle", "#000")}
    base.update(kw)
    return Layer(**base)  # type: ignore[arg-type]


def test_base_layers_declared() -> None:
    names = default_registry().names()
    for n in ["streets", "communities", "grids", "compounds", "service_points", "street_edges",
              "grid_cases"]:
        assert n in names


def test_unknown_layer_raises_not_found() -> None:
    with pytest.raises(NotFoundError):
        get_layer("nope")


def test_raw_cases_are_restricted_and_base_units_public() -> None:
    assert get_layer("grid_cases").public is False
    assert get_layer("compounds").public is True


def test_every_service_type_has_a_distinct_colour_and_glyph() -> None:
    classes = get_layer("service_points").style.classes
    assert {c.value for c in classes} == {str(t) for t in ServiceType}
    assert len({c.color for c in classes}) == len(classes)
    assert len({c.icon for c in classes}) == len(classes)


def test_bad_identifier_rejected() -> None:
    with pytest.raises(InvalidInputError) as info:
        Registry().add(_layer(source=Source("service_point; drop table x", columns=("name",))))
    assert info.value.errors[0].field == "source.table"


def test_personal_column_must_be_exposed() -> None:
    with pytest.raises(InvalidInputError):
        Registry().add(_layer(source=Source("service_point", columns=("name",),
                                            personal=("address",))))


def test_duplicate_name_rejected() -> None:
    reg = Registry()
    reg.add(_layer())
    with pytest.raises(InvalidInputError):
        reg.add(_layer())


def test_zoom_range_checked() -> None:
    with pytest.raises(InvalidInputError):
        Registry().add(_layer(minzoom=15, maxzoom=10))


@pytest.mark.parametrize("name", default_registry().names())
def test_layer_source_matches_database(conn: Connection, name: str) -> None:
    layer = get_layer(name)
    s = layer.source
    cols = set(conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
        {"t": s.table}).scalars())
    assert cols, f"no table or view {s.table}"
    wanted = {s.id_column, s.geometry_column, *s.columns, *(c for c, _ in s.filters)}
    if s.city_column:
        wanted.add(s.city_column)
    if s.name_column:
        wanted.add(s.name_column)  # searched by /search
    assert wanted <= cols, wanted - cols
    versions = set(conn.execute(text("SELECT table_name FROM layer_version")).scalars())
    assert set(s.versions) <= versions


def test_popup_labels_in_both_languages() -> None:
    layer = get_layer("compounds")
    assert layer.labels("zh")["residents"] == "居民人数"
    assert layer.labels("en")["residents"] == "Residents"


@pytest.mark.parametrize("name", default_registry().names())
def test_layer_geometry_type_matches_database(conn: Connection, name: str) -> None:
    layer = get_layer(name)
    row = conn.execute(text(
        "SELECT type, srid FROM geometry_columns WHERE f_table_name = :t "
        "AND f_geometry_column = :g"),
        {"t": layer.source.table, "g": layer.source.geometry_column}).one_or_none()
    assert row is not None, "geometry column not registered in geometry_columns"
    declared = layer.geometry_type.upper().removeprefix("MULTI")
    stored = row.type.upper().removeprefix("MULTI")
    assert stored in (declared, "GEOMETRY"), (row.type, layer.geometry_type)
    assert row.srid in (4326, 0)  # views over EPSG:4326 tables may report 0
