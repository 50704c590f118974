"""Residents by age group on compound import: Chinese column names, checks, nothing invented."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo.errors import InvalidInputError
from geo.io.files import write_file
from geo.store.imports import import_file


def _parents(conn, city, tmp_path, units) -> None:
    for kind, key in (("streets", "street"), ("communities", "community")):
        path = tmp_path / f"{key}.geojson"
        write_file(units[key], path)
        import_file(conn, city.code, kind, path)


def _compounds(tmp_path, gdf, name="compounds.geojson"):
    path = tmp_path / name
    write_file(gdf, path)
    return path


def _stored(conn, city):
    return conn.execute(text("SELECT residents, age_0_14, age_15_59, elderly FROM compound "
                             "WHERE city_id = :c"), {"c": city.id}).all()


def test_chinese_age_group_columns_are_stored(conn, city, tmp_path, units) -> None:
    _parents(conn, city, tmp_path, units)
    gdf = units["compound"].assign(**{"0-14岁": [96], "15-59岁": [544], "60岁以上": [160]})
    import_file(conn, city.code, "compounds", _compounds(tmp_path, gdf))
    assert [tuple(r) for r in _stored(conn, city)] == [(800, 96, 544, 160)]


def test_absent_groups_stay_unknown(conn, city, tmp_path, units) -> None:
    _parents(conn, city, tmp_path, units)
    gdf = units["compound"].assign(老年人口=[150])
    import_file(conn, city.code, "compounds", _compounds(tmp_path, gdf))
    assert [tuple(r) for r in _stored(conn, city)] == [(800, None, None, 150)]


@pytest.mark.parametrize(("cols", "field", "reason"), [
    ({"60岁以上": [900]}, "elderly", "elderly (900) exceeds residents (800)"),
    ({"0-14岁": [300], "15-59岁": [400], "老年人口": [200]}, "age_0_14+age_15_59+elderly",
     "the age groups add up to 900 (300 + 400 + 200), more than the residents (800)"),
    ({"0-14岁": [-1]}, "age_0_14", "must be ≥ 0"),
    ({"15-59岁": [12.5]}, "age_15_59", "whole number"),
])
def test_bad_age_groups_are_refused_naming_row_and_field(conn, city, tmp_path, units, cols,
                                                        field, reason) -> None:
    _parents(conn, city, tmp_path, units)
    with pytest.raises(InvalidInputError) as exc:
        import_file(conn, city.code, "compounds",
                    _compounds(tmp_path, units["compound"].assign(**cols)))
    problems = [(p.row, p.field, p.reason) for p in exc.value.errors]
    assert any(r == 1 and f == field and reason in why for r, f, why in problems), problems
    assert _stored(conn, city) == []  # nothing written
