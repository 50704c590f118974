"""The shared inputs of coverage, courier reach and siting, read once with one column set."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo.errors import InvalidInputError
from geo.store.cities import get_city
from geo.store.inputs import (
    DEMAND_KINDS,
    read_compound_demand,
    read_compounds,
    read_grid_links,
    read_services,
    unit_links,
)


@pytest.fixture
def guixi(demo: Connection) -> int:
    return get_city(demo, "guixi").id


def test_compounds_have_one_column_set_for_every_analysis(demo: Connection, guixi: int) -> None:
    compounds = read_compounds(demo, guixi)
    assert list(compounds.columns) == ["id", "external_id", "name", "community_id", "street_id",
                                       "residents", "households", "elderly", "age_0_14", "age_15_59",
                                       "age_60_plus", "gates", "inferred_gates", "geometry"]
    n = int(demo.execute(text("SELECT count(*) FROM compound WHERE city_id = :c"),
                         {"c": guixi}).scalar_one())
    assert len(compounds) == n and compounds["id"].is_monotonic_increasing
    assert compounds.crs.to_epsg() == 4326 and compounds["gates"].crs.to_epsg() == 4326
    assert (compounds["elderly"] >= 0).all()
    # the demo's age groups are whole people adding up to the residents; 60+ is ``elderly``
    groups = compounds[["age_0_14", "age_15_59", "age_60_plus"]]
    assert groups.notna().all().all() and (groups >= 0).all().all()
    assert (groups.sum(axis=1) == compounds["residents"]).all()
    assert (compounds["age_60_plus"] == compounds["elderly"]).all()


def test_services_of_one_type_are_a_subset_of_all(demo: Connection, guixi: int) -> None:
    every = read_services(demo, guixi)
    couriers = read_services(demo, guixi, service_type="courier_station")
    assert list(every.columns) == ["id", "external_id", "type", "name", "opening_hours",
                                   "geometry"]
    assert len(couriers) and set(couriers["type"]) == {"courier_station"}
    assert couriers["id"].tolist() == every.loc[every["type"] == "courier_station", "id"].tolist()


def test_unit_links_take_the_grid_links_and_whole_compounds(demo: Connection,
                                                            guixi: int) -> None:
    compounds = read_compounds(demo, guixi)
    links = unit_links(demo, guixi, compounds)
    grid = read_grid_links(demo, guixi)
    assert set(links) == {"grid", "community", "street"}
    assert links["grid"]["unit_id"].tolist() == grid["grid_id"].tolist()
    assert links["community"]["share"].eq(1.0).all()
    assert len(links["community"]) == int(compounds["community_id"].notna().sum())


def test_imported_compound_demand_is_empty_without_an_import(demo: Connection,
                                                             guixi: int) -> None:
    assert len(read_compound_demand(demo, guixi, "compound_demand")) == 0


def test_unknown_demand_kind_lists_the_kinds(demo: Connection, guixi: int) -> None:
    with pytest.raises(InvalidInputError) as err:
        read_compound_demand(demo, guixi, "parcels")
    assert all(k in str(err.value.errors[0]) for k in DEMAND_KINDS)
