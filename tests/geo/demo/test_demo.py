"""Generated demo cities: determinism, plausibility and the documented rules (data/README.md)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.demo import OSM_DIR, demo_cities
from geo.demo.cases import PERIOD_END, PERIOD_START
from geo.demo.guixi import build_guixi
from geo.demo.model import DemoCity
from geo.domain import CaseCategory, ServiceType


@pytest.fixture(scope="module")
def guixi() -> DemoCity:
    return demo_cities()[0]


@pytest.fixture(scope="module")
def wudaokou() -> DemoCity:
    return demo_cities()[1]


def metric(city: DemoCity, kind: str):
    return city.layers[kind].to_crs(city.metric_epsg)


def test_same_seed_gives_identical_frames(guixi):
    again = build_guixi(OSM_DIR / "guixi_2024.osm")
    for kind, gdf in guixi.layers.items():
        pd.testing.assert_frame_equal(gdf.drop(columns="geometry"),
                                      again.layers[kind].drop(columns="geometry"), obj=kind)
        assert gdf.geometry.geom_equals_exact(again.layers[kind].geometry, 0).all(), kind


def test_another_seed_gives_other_compounds(guixi):
    other = build_guixi(OSM_DIR / "guixi_2024.osm", seed=1)
    assert not other.layers["compound"]["residents"].equals(guixi.layers["compound"]["residents"])


def test_guixi_sizes(guixi):
    sizes = {k: len(v) for k, v in guixi.layers.items()}
    assert sizes["community"] == 16
    assert 80 <= sizes["grid"] <= 150
    assert 300 <= sizes["compound"] <= 800
    assert sizes["grid_case"] >= 20_000


def test_guixi_population_and_households(guixi):
    c = guixi.layers["compound"]
    assert 130_000 <= c["residents"].sum() <= 170_000
    per_household = c["residents"] / c["households"]
    assert per_household.between(2.5, 3.1).all()
    assert (c["elderly"] <= c["residents"]).all()
    assert 0.18 <= (c["property_management"] == "unmanaged").mean() <= 0.32


def test_compounds_do_not_overlap(guixi):
    g = metric(guixi, "compound").geometry
    tree = shapely.STRtree(g.to_numpy())
    a, b = tree.query(g.to_numpy(), predicate="intersects")
    pairs = a < b
    overlap = shapely.area(shapely.intersection(g.to_numpy()[a[pairs]], g.to_numpy()[b[pairs]]))
    assert overlap.sum() < 1.0  # m²


def test_gates_on_compound_boundary_facing_a_street(guixi):
    comp = metric(guixi, "compound")
    edges = guixi.edges.to_crs(guixi.metric_epsg)
    streets = shapely.union_all(edges.geometry.to_numpy())
    gates = gpd.GeoSeries(guixi.layers["compound"]["gates"], crs=4326).to_crs(guixi.metric_epsg)
    for poly, gate in zip(comp.geometry, gates, strict=True):
        assert 1 <= len(gate.geoms) <= 3
        first = gate.geoms[0]
        assert poly.exterior.distance(first) < 0.5
        # the first gate is nearer the streets than the compound's far side
        assert streets.distance(first) <= streets.distance(poly.centroid) + 1.0


def test_communities_partition_and_street_assignment(guixi):
    comm = metric(guixi, "community")
    total = shapely.union_all(comm.geometry.to_numpy()).area
    assert total == pytest.approx(comm.geometry.area.sum(), rel=1e-6)  # no overlaps
    streets = guixi.layers["street"].set_index("external_id")
    assert streets.loc["GX-JD01", "name"] == "东门街道" and streets.loc["GX-JD01", "source"] == "osm"
    by_street = comm.groupby("street")["name"].apply(set)
    assert "雄石社区" in by_street["GX-JD01"]  # its place node lies inside 东门街道
    assert "花园社区" in by_street["GX-JD02"] and "西街社区" in by_street["GX-JD03"]


def test_grids_stay_in_their_community(guixi):
    grids = metric(guixi, "grid")
    comm = metric(guixi, "community").set_index("external_id").geometry
    for g, c in zip(grids.geometry, grids["community"], strict=True):
        assert g.difference(comm[c].buffer(0.01)).area < 1.0


def test_every_service_type_in_realistic_numbers(guixi):
    counts = guixi.layers["service_point"]["type"].value_counts()
    assert set(counts.index) == {str(t) for t in ServiceType}
    assert counts["party_mass_centre"] == 16
    assert 20 <= counts["red_station"] <= 30
    assert 25 <= counts["parcel_station"] <= 40
    sp = guixi.layers["service_point"]
    assert sp["name"].is_unique
    assert sp["name"].str.contains(r"[\u4e00-\u9fff]").all()
    assert sp["opening_hours"].notna().all() and sp["services"].map(len).gt(0).all()


def test_cases_cover_twelve_months_with_all_categories(guixi):
    c = guixi.layers["grid_case"]
    assert c["reported_at"].min() >= PERIOD_START and c["reported_at"].max() < PERIOD_END
    assert c["reported_at"].dt.month.nunique() == 12
    assert set(c["category"]) == {str(k) for k in CaseCategory}
    assert set(c["channel"]) == {"patrol", "12345", "app", "wechat", "qr"}


def test_case_status_closure_and_satisfaction(guixi):
    c = guixi.layers["grid_case"]
    closed = c["status"] == "closed"
    assert 0.984 <= closed.mean() <= 0.992
    assert c.loc[closed, "closed_at"].notna().all() and c.loc[~closed, "closed_at"].isna().all()
    assert (c.loc[closed, "closed_at"] >= c.loc[closed, "reported_at"]).all()
    assert (PERIOD_END - c.loc[~closed, "reported_at"]).max() < pd.Timedelta(days=46)
    rated = c["satisfaction"].dropna()
    assert 0.94 <= (rated >= 4).mean() <= 0.98


def test_disputes_close_slower_than_public_order(guixi):
    c = guixi.layers["grid_case"]
    hours = (c["closed_at"] - c["reported_at"]).dt.total_seconds() / 3600
    med = hours.groupby(c["category"]).median()
    assert med["dispute"] > 3 * med["public_order"]


def test_seasonality_sanitation_peaks_in_summer(guixi):
    c = guixi.layers["grid_case"]
    san = c.loc[c["category"] == "sanitation", "reported_at"].dt.month.value_counts()
    assert san[8] > 1.5 * san[2]


def test_illegal_construction_clusters_at_the_fringe(guixi):
    c = metric(guixi, "grid_case")
    cx, cy = c.geometry.x.mean(), c.geometry.y.mean()
    d = np.hypot(c.geometry.x - cx, c.geometry.y - cy)
    mean = d.groupby(c["category"]).mean()
    assert mean["illegal_construction"] > 1.15 * mean["livelihood"]


def test_case_descriptions_hold_no_personal_data(guixi):
    d = guixi.layers["grid_case"]["description"]
    assert not d.str.contains(r"\d{7,}").any()  # no phone or id numbers
    assert d.str.len().between(4, 40).all()


def test_handling_unit_is_a_grid_name(guixi):
    c = guixi.layers["grid_case"]
    assert set(c["handling_unit"]) <= set(guixi.layers["grid"]["name"])


def test_wudaokou_real_compounds_and_postal_points(wudaokou):
    comp = wudaokou.layers["compound"]
    assert len(comp) == 6 and (comp["source"] == "osm").all()
    assert comp["residents"].gt(0).all()
    parcel = wudaokou.layers["service_point"].query("type == 'parcel_station'")
    assert len(parcel) == 5 and (parcel["source"] == "osm").all()
    assert "紫荆十四号楼快递服务中心" in set(parcel["name"])


def test_wudaokou_every_layer_non_empty(wudaokou):
    assert all(len(v) > 0 for v in wudaokou.layers.values())
    assert len(wudaokou.layers["grid_case"]) >= 2_000


def test_external_ids_are_stable_codes(guixi):
    assert all(re.fullmatch(r"GX-[A-Z]{2}\d+", e) for e in guixi.layers["compound"]["external_id"])


def test_demo_opening_hours_are_valid_and_varied(guixi, wudaokou):
    """Every demo station has valid OSM opening hours; several kinds per type, and at
    22:00 on a weekday some stations are open (24/7 couriers) and others closed."""
    import opening_hours

    from geo.io.hours import hours_reason, open_mask, parse_moment

    for city in (guixi, wudaokou):
        sp = city.layers["service_point"]
        assert [h for h in sp["opening_hours"] if hours_reason(h)] == []
        at22 = open_mask(sp["opening_hours"], parse_moment("Tu 22:00"))
        assert at22.any() and not at22.all()
        by_type = sp.groupby("type")["opening_hours"].nunique()
        assert by_type[ServiceType.RED_STATION] >= 2 and by_type[ServiceType.COURIER_STATION] >= 2
    sp = guixi.layers["service_point"]
    party = sp[sp["type"] == ServiceType.PARTY_MASS_CENTRE]["opening_hours"]
    assert party.str.startswith("Mo-Fr 08:30-17:30").all()
    couriers = sp[sp["type"] == ServiceType.COURIER_STATION]["opening_hours"]
    assert (couriers == "24/7").any()
    monday_night = opening_hours.OpeningHours("Mo-Su 06:00-22:00").is_open(
        parse_moment("Mo 22:00").local)
    assert not monday_night and (couriers == "Mo-Su 06:00-22:00").any()  # closed at 22:00
