"""Gates inferred from OSM at city add / compound import / demo load, and the origin that
coverage used (stored, listed by the compound table)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, text

from geo.network.gates import infer_gates
from geo.network.osm import OsmExtract
from geo.runs.coverage import run_coverage
from geo.store.cities import City, create_city, get_city
from geo.store.coverage import compound_rows
from geo.store.imports import import_file
from geo.store.inputs import read_compounds
from geo.store.osm import write_osm_network
from geo.store.write import upsert_features


@pytest.fixture
def osm_city(conn: Connection, wudaokou: OsmExtract) -> City:
    """City ``t-gates``: the Wudaokou network, its figures and gate nodes, as ``city add``."""
    c = create_city(conn, "t-gates", name_zh="门", name_en="Gates", bounds=wudaokou.bounds)
    write_osm_network(conn, c.id, nodes=wudaokou.nodes, edges=wudaokou.edges,
                      gate_points=wudaokou.gate_points, walk_rules=wudaokou.walk_rules)
    return c


def _compounds_file(tmp_path, wudaokou: OsmExtract, *, user_gate_for: str) -> tuple:
    areas = wudaokou.residential_areas.reset_index(drop=True)
    inferred = infer_gates(areas, wudaokou.gate_points, wudaokou.edges, metric_epsg=32650)
    with_osm = areas[inferred.geometry.notna().to_numpy()]["name"].tolist()
    without = areas[inferred.geometry.isna().to_numpy()]["name"].tolist()
    assert with_osm and without and user_gate_for in with_osm
    rows = []
    for _, a in areas.iterrows():
        gates = None
        if a["name"] == user_gate_for:  # the user's own gate: the outline's first vertex
            p = shapely.get_point(shapely.get_exterior_ring(
                max(shapely.get_parts(a.geometry), key=lambda g: g.area)), 0)
            gates = shapely.to_wkt(shapely.multipoints([p]), rounding_precision=7)
        rows.append({"external_id": f"K{a['osm_id']}", "name": a["name"], "households": 100,
                     "residents": 250, "gates": gates, "geometry": a.geometry})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    path = tmp_path / "compounds.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path, with_osm, without


def test_city_add_keeps_gate_nodes_and_figures(conn: Connection, osm_city: City,
                                               wudaokou: OsmExtract) -> None:
    n = conn.execute(text("SELECT count(*) FROM osm_gate WHERE city_id = :c"),
                     {"c": osm_city.id}).scalar_one()
    assert n == len(wudaokou.gate_points) > 0
    fig = conn.execute(text("SELECT network_figures FROM city WHERE id = :c"),
                       {"c": osm_city.id}).scalar_one()
    walk = wudaokou.edges[wudaokou.edges["walk"]]
    assert fig["walk"]["n_nodes"] == len(set(walk["u"]) | set(walk["v"]))
    assert fig["walk"]["length_m"] == pytest.approx(walk["length_m"].sum())
    rules = {r["rule"]: r for r in fig["walk_rules"]}
    assert rules["cycleway"]["walkable"] is False and rules["cycleway"]["km"] > 5
    assert rules["pedestrian_area"]["walkable"] is True
    json.dumps(fig, allow_nan=False)


def test_import_infers_gates_where_the_file_gives_none(conn: Connection, osm_city: City,
                                                       wudaokou: OsmExtract, tmp_path) -> None:
    path, with_osm, without = _compounds_file(tmp_path, wudaokou, user_gate_for="西院")
    import_file(conn, osm_city.code, "compounds", path)
    comp = read_compounds(conn, osm_city.id).set_index("name")
    for name in with_osm:
        assert comp.loc[name, "inferred_gates"] is not None, name
    for name in without:
        assert comp.loc[name, "inferred_gates"] is None, name
    assert comp.loc["西院", "gates"] is not None  # the user's gate is kept as given
    assert len(comp.loc["西院", "gates"].geoms) == 1


def test_coverage_names_the_origin_it_used(conn: Connection, osm_city: City,
                                           wudaokou: OsmExtract, tmp_path) -> None:
    path, with_osm, without = _compounds_file(tmp_path, wudaokou, user_gate_for="西院")
    import_file(conn, osm_city.code, "compounds", path)
    c = wudaokou.bounds.centroid
    svc = gpd.GeoDataFrame({"external_id": ["S1"], "type": ["parcel_station"], "name": ["驿站"]},
                           geometry=[c], crs=4326)
    upsert_features(conn, "service_point", osm_city.id, svc)
    run_coverage(conn, get_city(conn, osm_city.code))
    rows = compound_rows(conn, osm_city.id, service_type="parcel_station")
    kinds = {r["name"]: r["origin_kind"] for r in rows}
    assert kinds["西院"] == "gate"  # user-given gates win over inferred ones
    assert all(kinds[n] == "inferred_gate" for n in with_osm if n != "西院")
    assert all(kinds[n] == "interior_point" for n in without)


def test_gate_layer_lists_user_and_inferred_gates(conn: Connection, osm_city: City,
                                                  wudaokou: OsmExtract, tmp_path) -> None:
    path, with_osm, _ = _compounds_file(tmp_path, wudaokou, user_gate_for="西院")
    import_file(conn, osm_city.code, "compounds", path)
    rows = conn.execute(text(
        "SELECT g.name, g.origin_kind, g.used FROM compound_gate g WHERE g.city_id = :c"),
        {"c": osm_city.id}).all()
    used = {(r.name, r.origin_kind): r.used for r in rows}
    assert used[("西院", "gate")] is True
    assert used[("西院", "inferred_gate")] is False  # shown, not used: the user's gate wins
    other = [n for n in with_osm if n != "西院"]
    assert all(used[(n, "inferred_gate")] for n in other)
    ids = conn.execute(text("SELECT count(*), count(DISTINCT id) FROM compound_gate "
                            "WHERE city_id = :c"), {"c": osm_city.id}).one()
    assert ids[0] == ids[1] > 0



def test_wudaokou_demo_compounds_get_gates_from_osm(demo: Connection) -> None:
    city = get_city(demo, "wudaokou")
    comp = read_compounds(demo, city.id)
    osm = comp["inferred_gates"].notna()
    assert osm.sum() >= 3
    # OSM gates where OSM has them; generated gates only for the others
    assert comp.loc[osm, "gates"].isna().all()
    assert comp.loc[~osm, "gates"].notna().all()
    run_coverage(demo, city)
    rows = compound_rows(demo, city.id)
    kinds = {r["external_id"]: r["origin_kind"] for r in rows}
    for ext, inferred in zip(comp["external_id"], osm, strict=True):
        assert kinds[ext] == ("inferred_gate" if inferred else "gate")


def test_demo_cities_keep_honest_network_figures(demo: Connection) -> None:
    from geo.store.network import network_figures_by_city

    figs = network_figures_by_city(demo)
    for code in ("guixi", "wudaokou"):
        walk = figs[code]["walk"]
        n = demo.execute(text(
            "SELECT count(DISTINCT n) FROM (SELECT u AS n FROM street_edge e JOIN city c "
            "ON c.id = e.city_id WHERE c.code = :c AND walk UNION SELECT v FROM street_edge e "
            "JOIN city c ON c.id = e.city_id WHERE c.code = :c AND walk) x"),
            {"c": code}).scalar_one()
        assert walk["n_nodes"] == n
        assert 0.8 < walk["largest_share"] <= 1.0
