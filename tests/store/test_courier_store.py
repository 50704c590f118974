"""Courier-reach storage on the demo database: runs, latest views, cascade, demand imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from geo.courier.reach import station_reach
from geo.errors import InvalidInputError
from geo.runs import CourierParams, run_courier
from geo.store.cities import data_version, get_city
from geo.store.courier import (
    latest_courier_run,
    read_run_compounds,
    read_run_overlaps,
    read_run_stations,
)
from geo.store.courier_demand import import_demand
from geo.store.inputs import (
    read_compound_demand,
    read_compounds,
    read_demand_points,
    read_grid_links,
    read_services,
)
from geo.store.network import read_network


def analyze_city_courier(conn: Connection, city: int, **params: Any) -> tuple[int, Any]:
    """A reach run through the run layer: ``(run id, reach)``."""
    run = run_courier(conn, city, CourierParams(**params))
    return run.run_id, run.result



@pytest.fixture
def guixi(demo: Connection) -> int:
    return get_city(demo, "guixi").id


def _count(conn: Connection, sql: str, **params: object) -> int:
    return int(conn.execute(text(sql), params).scalar_one())


def test_run_stores_every_station_and_compound(demo: Connection, guixi: int) -> None:
    run_id, reach = analyze_city_courier(demo, guixi, metres=1000)
    n_st = _count(demo, "SELECT count(*) FROM service_point WHERE city_id = :c "
                  "AND type = 'courier_station'", c=guixi)
    n_co = _count(demo, "SELECT count(*) FROM compound WHERE city_id = :c", c=guixi)
    assert _count(demo, "SELECT count(*) FROM courier_station WHERE run_id = :r", r=run_id) == n_st
    assert _count(demo, "SELECT count(*) FROM courier_compound WHERE run_id = :r",
                  r=run_id) == n_co
    assert len(reach.stations) == n_st


def test_stored_reach_equals_a_fresh_computation(demo: Connection, guixi: int) -> None:
    run_id, _ = analyze_city_courier(demo, guixi, metres=1000)
    net = read_network(demo, guixi, mode="ride")
    fresh = station_reach(net, read_services(demo, guixi, service_type="courier_station"),
                          read_compounds(demo, guixi), metres=1000, catchments=False,
                          grid_links=read_grid_links(demo, guixi))
    stored = read_run_stations(demo, guixi, run_id).set_index("service_point_id")
    expect = fresh.stations.set_index("station_id")
    assert stored["residents"].sort_index().tolist() == \
        pytest.approx(expect["residents"].sort_index().tolist())
    assert stored["grids"].sort_index().tolist() == expect["grids"].sort_index().tolist()


def test_unreached_compounds_match_the_summary(demo: Connection, guixi: int) -> None:
    run_id, reach = analyze_city_courier(demo, guixi, metres=1000)
    unreached = read_run_compounds(demo, guixi, run_id, unreached_only=True)
    assert len(unreached) == reach.summary()["compounds_unreached"]
    assert not unreached["reached"].any()
    assert (unreached["n_stations"] == 0).all()


def test_catchments_are_stored_as_valid_multipolygons(demo: Connection, guixi: int) -> None:
    run_id, _ = analyze_city_courier(demo, guixi, metres=1000)
    kinds = demo.execute(text("SELECT DISTINCT GeometryType(catchment) FROM courier_station "
                              "WHERE run_id = :r AND catchment IS NOT NULL"), {"r": run_id})
    assert {k for (k,) in kinds} == {"MULTIPOLYGON"}


def test_latest_view_keeps_one_run_per_service_type(demo: Connection, guixi: int) -> None:
    first, _ = analyze_city_courier(demo, guixi, metres=1000)
    parcel, _ = analyze_city_courier(demo, guixi, service_type="parcel_station", mode="walk",
                                     minutes=5)
    second, _ = analyze_city_courier(demo, guixi, metres=800)
    rows = demo.execute(text("SELECT service_type, run_id FROM courier_run_latest "
                             "WHERE city_id = :c ORDER BY service_type"), {"c": guixi}).all()
    assert [(r.service_type, r.run_id) for r in rows] == \
        [("courier_station", second), ("parcel_station", parcel)]
    assert latest_courier_run(demo, guixi, "courier_station")["id"] == second
    assert first != second


def test_deleting_a_run_deletes_its_rows(demo: Connection, guixi: int) -> None:
    run_id, _ = analyze_city_courier(demo, guixi, metres=1000)
    demo.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": run_id})
    for table in ("courier_station", "courier_compound", "courier_grid", "courier_overlap"):
        assert _count(demo, f"SELECT count(*) FROM {table} WHERE run_id = :r", r=run_id) == 0


def test_storing_a_run_bumps_the_layer_versions(demo: Connection, guixi: int) -> None:
    before = data_version(demo, ["courier_station", "courier_compound"])
    analyze_city_courier(demo, guixi, metres=1000)
    after = data_version(demo, ["courier_station", "courier_compound"])
    assert all(after[t] > before[t] for t in before)


def test_overlaps_are_read_above_a_share(demo: Connection, guixi: int) -> None:
    run_id, reach = analyze_city_courier(demo, guixi, metres=1500)
    every = read_run_overlaps(demo, guixi, run_id)
    strong = read_run_overlaps(demo, guixi, run_id, min_share=0.5)
    assert len(every) == len(reach.overlaps)
    assert (strong["share"] >= 0.5).all()
    assert len(strong) == int((reach.overlaps["share"] >= 0.5).sum())


def test_compound_demand_weight_needs_an_import(demo: Connection, guixi: int) -> None:
    with pytest.raises(InvalidInputError, match="no per-compound demand"):
        analyze_city_courier(demo, guixi, metres=1000, weight="compound_demand")


def test_compound_demand_import_and_weighted_run(demo: Connection, guixi: int,
                                                 tmp_path: Path) -> None:
    rows = demo.execute(text("SELECT id, external_id FROM compound WHERE city_id = :c "
                             "ORDER BY id LIMIT 3"), {"c": guixi}).all()
    csv = tmp_path / "demand.csv"
    csv.write_text("小区编号,日均件量\n" + "".join(f"{r.external_id},{10 * (i + 1)}\n"
                                                  for i, r in enumerate(rows)), encoding="utf-8")
    report = import_demand(demo, "guixi", "compounds", csv)
    assert report.inserted == 3
    assert read_compound_demand(demo, guixi, "compound_demand").to_dict() == {
        rows[0].id: 10.0, rows[1].id: 20.0, rows[2].id: 30.0}
    _, reach = analyze_city_courier(demo, guixi, metres=1000, weight="compound_demand")
    assert reach.weight == "compound_demand"
    assert reach.stations["demand"].sum() <= 60.0 * len(reach.stations)
    assert len(reach.compounds_without_demand) == len(reach.compounds) - 3


def test_compound_demand_import_rejects_unknown_compounds(demo: Connection, guixi: int,
                                                          tmp_path: Path) -> None:
    csv = tmp_path / "demand.csv"
    csv.write_text("compound,demand\nNOPE,5\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        import_demand(demo, "guixi", "compounds", csv)
    assert err.value.errors[0].row == 1 and err.value.errors[0].field == "compound"
    assert len(read_compound_demand(demo, guixi, "compound_demand")) == 0


def test_demand_points_import_and_weighted_run(demo: Connection, guixi: int,
                                               tmp_path: Path) -> None:
    stations = read_services(demo, guixi, service_type="courier_station")
    p = stations.geometry.iloc[0]
    csv = tmp_path / "riders.csv"
    csv.write_text(f"id,lon,lat,单量\nd1,{p.x},{p.y},40\nd2,{p.x + 0.0002},{p.y},2\n",
                   encoding="utf-8")
    assert import_demand(demo, "guixi", "points", csv).inserted == 2
    pts = read_demand_points(demo, guixi)
    assert pts["weight"].tolist() == [40.0, 2.0]
    _, reach = analyze_city_courier(demo, guixi, metres=1000, weight="demand_points")
    first = reach.stations.set_index("station_id").loc[int(stations["id"].iloc[0]), "demand"]
    assert first == pytest.approx(42.0)


def test_demand_points_outside_the_city_are_rejected(demo: Connection, tmp_path: Path) -> None:
    csv = tmp_path / "riders.csv"
    csv.write_text("id,lon,lat,weight\nd1,116.3,39.9,1\nd2,117.2,28.3,-1\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        import_demand(demo, "guixi", "points", csv)
    fields = sorted((p.row, p.field) for p in err.value.errors)
    assert (1, "geometry") in fields and (2, "weight") in fields
