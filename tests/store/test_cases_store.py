"""Case reads filtered in SQL, grids with residents, stored hot-spot runs and their views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, text

from geo.cases.counts import CaseIndex, counts_frame
from geo.cases.hotspots import gi_star, kde_surface
from geo.cases.privacy import public_window
from geo.cases.public import (
    public_density_cells,
    public_grid_table,
    public_hex_counts,
)
from geo.cases.stats import grid_closure_table
from geo.errors import InvalidInputError
from geo.runs import CasesParams, run_cases
from geo.store.cases import (
    PublicFigures,
    latest_run,
    read_cases,
    read_grids,
    read_run_hexes,
    store_hotspot_run,
    study_area,
)
from geo.store.cities import get_city

CITY = ("INSERT INTO city (code, name_zh, name_en, metric_epsg, bounds) VALUES "
        "('tc', '测试', 'Test', 32650, ST_MakeEnvelope(117.2, 28.2, 117.3, 28.3, 4326)) "
        "RETURNING id")
CASE = ("INSERT INTO grid_case (city_id, external_id, category, reported_at, closed_at, status, "
        "geom) VALUES (:c, :e, :cat, :t, :closed, :status, ST_Point(:x, :y, 4326))")
T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 30, tzinfo=UTC)
CENTRE = h3.latlng_to_cell(28.25, 117.27, 9)  # inside grid g2 of _grids


@pytest.fixture
def city(conn: Connection) -> int:
    return int(conn.execute(text(CITY)).scalar_one())


def _case(conn: Connection, city: int, ext: str, t: datetime, *, cat: str = "sanitation",
          x: float = 117.25, y: float = 28.25, closed: datetime | None = None) -> None:
    conn.execute(text(CASE), {"c": city, "e": ext, "cat": cat, "t": t, "closed": closed,
                              "status": "closed" if closed else "reported", "x": x, "y": y})


def test_window_is_exact_half_open(conn: Connection, city: int) -> None:
    end = T0 + timedelta(days=31)
    _case(conn, city, "before", T0 - timedelta(microseconds=1))
    _case(conn, city, "first", T0)
    _case(conn, city, "last", end - timedelta(microseconds=1))
    _case(conn, city, "at_end", end)
    got = read_cases(conn, city, start=T0, end=end)
    assert list(got["case_id"]) == ["first", "last"]
    assert str(got["reported_at"].dt.tz) == "UTC" and got.crs.to_epsg() == 4326


def test_category_set_is_filtered_in_sql(conn: Connection, city: int) -> None:
    for i, cat in enumerate(["sanitation", "dispute", "clutter", "dispute"]):
        _case(conn, city, f"k{i}", T0, cat=cat)
    got = read_cases(conn, city, categories={"dispute", "clutter"})
    assert sorted(got["case_id"]) == ["k1", "k2", "k3"]
    assert len(read_cases(conn, city)) == 4


def test_open_case_has_no_closed_time(conn: Connection, city: int) -> None:
    _case(conn, city, "open", T0)
    _case(conn, city, "done", T0, closed=T0 + timedelta(hours=5))
    got = read_cases(conn, city).set_index("case_id")
    assert pd.isna(got.loc["open", "closed_at"])
    assert (got.loc["done", "closed_at"] - got.loc["done", "reported_at"]) == timedelta(hours=5)


def test_naive_bounds_are_rejected_before_sql(conn: Connection, city: int) -> None:
    with pytest.raises(InvalidInputError):
        read_cases(conn, city, start=datetime(2026, 3, 1))


def _grids(conn: Connection, city: int) -> tuple[int, int]:
    ids = []
    for ext, x0 in (("g1", 117.20), ("g2", 117.25)):
        ids.append(int(conn.execute(text(
            "INSERT INTO grid (city_id, external_id, name, geom) VALUES (:c, :e, :e, "
            "ST_Multi(ST_MakeEnvelope(:x0, 28.2, :x1, 28.3, 4326))) RETURNING id"),
            {"c": city, "e": ext, "x0": x0, "x1": x0 + 0.05}).scalar_one()))
    comp = conn.execute(text(
        "INSERT INTO compound (city_id, external_id, name, households, residents, geom) VALUES "
        "(:c, 'k', 'k', 400, 1000, ST_Multi(ST_MakeEnvelope(117.24, 28.2, 117.26, 28.3, 4326))) "
        "RETURNING id"), {"c": city}).scalar_one()
    for gid, share in zip(ids, (0.3, 0.7)):
        conn.execute(text("INSERT INTO grid_compound (grid_id, compound_id, city_id, "
                          "shared_area_m2, resident_share) VALUES (:g, :k, :c, 1, :s)"),
                     {"g": gid, "k": comp, "c": city, "s": share})
    return ids[0], ids[1]


def test_grid_residents_follow_resident_shares(conn: Connection, city: int) -> None:
    g1, g2 = _grids(conn, city)
    grids = read_grids(conn, city).set_index("grid_id")
    assert grids.loc[g1, "residents"] == pytest.approx(300)
    assert grids.loc[g2, "residents"] == pytest.approx(700)


def test_study_area_is_the_union_of_grids(conn: Connection, city: int) -> None:
    assert study_area(conn, city).area == pytest.approx(0.1 * 0.1)  # the bounds
    g1, _ = _grids(conn, city)
    conn.execute(text("UPDATE grid SET geom = ST_Multi(ST_MakeEnvelope(117.2, 28.2, 117.21, "
                      "28.21, 4326)) WHERE id = :g"), {"g": g1})
    assert study_area(conn, city).bounds == pytest.approx((117.2, 28.2, 117.3, 28.3))
    assert study_area(conn, city).area == pytest.approx(0.01 * 0.01 + 0.05 * 0.1)
    assert study_area(conn, city, of="city").area == pytest.approx(0.1 * 0.1)


def test_unknown_study_area_kind_is_rejected(conn: Connection, city: int) -> None:
    with pytest.raises(InvalidInputError):
        study_area(conn, city, of="county")  # type: ignore[arg-type]


def _run(conn: Connection, city: int, *, min_count: int = 5) -> int:
    """Gi* on the ring around CENTRE, KDE, closure table and public figures of all cases."""
    cases = read_cases(conn, city)
    ring = np.array([h3.str_to_int(c) for c in h3.grid_disk(CENTRE, 2)], dtype=np.int64)
    counts = CaseIndex.from_cases(cases, resolution=9).counts()
    hot = gi_star(counts_frame(counts, ring), permutations=99, seed=0)
    cells = list(hot.cells["h3"])
    kde = kde_surface(cases, cells, epsg=32650, bandwidth_m=300)
    grids = read_grids(conn, city)
    stats = grid_closure_table(cases, grids, as_of=T0 + timedelta(days=60))
    window = public_window(None, None, now=NOW)
    public = PublicFigures(
        window=window, hexes=public_hex_counts(cases, resolution=9, min_count=min_count),
        density=public_density_cells(cases, cells, resolution=9, epsg=32650, bandwidth_m=300,
                                     min_count=min_count),
        grids=public_grid_table(cases, grids, as_of=window.end, min_count=min_count)
        if len(grids) else None)
    return store_hotspot_run(conn, city, hot, kde=kde, grid_stats=stats,
                             params={"min_public_case_count": min_count}, public=public)


def _cases_at(conn: Connection, city: int, cell: str, n: int, prefix: str, *,
              closed: bool = False) -> None:
    lat, lon = h3.cell_to_latlng(cell)
    for i in range(n):
        t = T0 + timedelta(hours=i)
        _case(conn, city, f"{prefix}{i}", t, x=lon, y=lat,
              closed=t + timedelta(hours=5) if closed else None)


def test_stored_run_is_the_latest_and_suppresses_small_cells(conn: Connection, city: int) -> None:
    _grids(conn, city)
    near = sorted(h3.grid_ring(CENTRE, 1))
    _cases_at(conn, city, CENTRE, 12, "c", closed=True)
    _cases_at(conn, city, near[0], 2, "a")  # withheld: 2 < 5
    _cases_at(conn, city, near[1], 3, "b")  # withheld: 3 < 5 (together 5, so 12 stays)
    first = _run(conn, city)
    second = _run(conn, city)
    assert latest_run(conn, city)["id"] == second  # type: ignore[index]
    rows = conn.execute(text("SELECT DISTINCT run_id FROM case_hex_latest WHERE city_id = :c"),
                        {"c": city}).scalars().all()
    assert rows == [second] and first != second
    small = conn.execute(text("SELECT n_cases, n_public, suppressed FROM case_hex_latest "
                              "WHERE city_id = :c AND n_cases = 2 LIMIT 1"), {"c": city}).one()
    assert small.n_public is None and small.suppressed
    big = conn.execute(text("SELECT n_public FROM case_hex_latest WHERE city_id = :c "
                            "AND n_cases = 12"), {"c": city}).scalar_one()
    assert big == 12
    grid = conn.execute(text("SELECT n_cases, n_public, closure_rate_public FROM case_grid_latest "
                             "WHERE city_id = :c AND n_cases > 0"), {"c": city}).one()
    # one grid-month of 17 cases: released; 12 closed and 5 open are both public
    assert grid.n_cases == 17 and grid.n_public == 17
    assert grid.closure_rate_public == pytest.approx(12 / 17)
    assert len(read_run_hexes(conn, city, second)) == 19


def test_storing_a_run_bumps_the_layer_version(conn: Connection, city: int) -> None:
    def version() -> int:
        return int(conn.execute(text("SELECT version FROM layer_version "
                                     "WHERE table_name = 'case_hex'")).scalar_one())
    before = version()
    _run(conn, city)
    assert version() > before


def test_deleting_a_run_deletes_its_cells(conn: Connection, city: int) -> None:
    run = _run(conn, city)
    conn.execute(text("DELETE FROM analysis_run WHERE id = :r"), {"r": run})
    for table in ("case_hex", "case_kde"):
        n = conn.execute(text(f"SELECT count(*) FROM {table} WHERE run_id = :r"), {"r": run})
        assert n.scalar() == 0


def test_analyze_city_cases_stores_a_complete_run(conn: Connection, city: int) -> None:
    _grids(conn, city)
    for i in range(40):
        _case(conn, city, f"h{i}", T0 + timedelta(hours=i), x=117.251, y=28.251)
    _case(conn, city, "far", T0, x=117.205, y=28.205)
    run = run_cases(conn, city, CasesParams(resolution=9, permutations=199, start=T0,
                                            end=T0 + timedelta(days=30)))
    run_id, summary = run.run_id, run.summary
    assert summary["cases"] == 41 and summary["hot_cells"] >= 1
    counts = {t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE run_id = :r"),
                              {"r": run_id}).scalar() for t in ("case_hex", "case_kde",
                                                                  "case_grid")}
    assert counts["case_hex"] == counts["case_kde"] == summary["cells"] and counts["case_grid"] == 2
    hot = conn.execute(text("SELECT bin FROM case_hex_latest WHERE city_id = :c AND n_cases = 40"),
                       {"c": city}).scalar_one()
    assert hot == 3
    params = latest_run(conn, city)["params"]  # type: ignore[index]
    assert params["permutations"] == 199 and params["min_public_case_count"] == 5


@pytest.mark.slow
def test_guixi_demo_cases_show_hot_spots_and_closure(demo_engine: Engine) -> None:
    with demo_engine.connect() as c:
        trans = c.begin()
        try:
            guixi = get_city(c, "guixi")
            cases = read_cases(c, guixi.id)
            assert len(cases) == 24_000
            run = run_cases(c, guixi, CasesParams(resolution=9, permutations=199))
            run_id, summary = run.run_id, run.summary
            assert summary["hot_cells"] > 0 and summary["cases"] == 24_000
            n_grids = c.execute(text("SELECT count(*) FROM case_grid WHERE run_id = :r"),
                                {"r": run_id}).scalar()
            assert n_grids == len(read_grids(c, guixi.id))
        finally:
            trans.rollback()


def test_stored_grids_get_secondary_suppression(conn: Connection, city: int) -> None:
    _grids(conn, city)
    for i in range(2):
        _case(conn, city, f"w{i}", T0, x=117.21, y=28.25)  # grid 1: 2 cases
    for i in range(6):
        _case(conn, city, f"e{i}", T0, x=117.27, y=28.25)  # grid 2: 6 cases
    _run(conn, city)
    rows = conn.execute(text("SELECT grid_id, n_cases, n_public, suppressed FROM case_grid_latest "
                             "WHERE city_id = :c ORDER BY grid_id"), {"c": city}).all()
    assert [(r.n_cases, r.n_public, r.suppressed) for r in rows] == [(2, None, True),
                                                                     (6, None, True)]
