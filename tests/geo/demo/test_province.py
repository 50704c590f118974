"""The generated province (geo/demo/province.py): seeded, sized as stated, complete."""

from __future__ import annotations

import pandas as pd

from geo.demo.model import LAYERS
from geo.demo.province import COMPOUND_RANGE, MEDIAN_COMPOUNDS, build_city, city_sizes


def test_sizes_are_seeded_and_within_the_stated_range() -> None:
    sizes = city_sizes(32)
    assert sizes == city_sizes(32) and sizes[:8] == city_sizes(8)
    assert all(COMPOUND_RANGE[0] <= s <= COMPOUND_RANGE[1] for s in sizes)
    assert 0.6 * MEDIAN_COMPOUNDS < sorted(sizes)[16] < 1.5 * MEDIAN_COMPOUNDS
    assert sizes != city_sizes(32, seed=1)


def test_a_city_is_the_same_for_the_same_seed_and_has_every_layer() -> None:
    a, b = build_city(2, compounds=50), build_city(2, compounds=50)
    for kind in LAYERS:
        assert len(a.layers[kind]) > 0, kind
        pd.testing.assert_frame_equal(a.layers[kind].to_wkb(), b.layers[kind].to_wkb())
    comp = a.layers["compound"]
    assert len(comp) == 50 and comp["external_id"].is_unique
    assert comp["external_id"].str.startswith("GEN003-").all()
    assert set(a.layers["service_point"]["type"]) >= {"party_mass_centre", "red_station",
                                                      "parcel_station"}
    assert a.edges["walk"].all() and len(a.nodes) > 20
    # every compound lies within its city's OSM bounds
    assert comp.geometry.within(a.bounds).all()
