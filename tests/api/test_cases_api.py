"""Case endpoints: suppression for the public, exact windows, raw points for analysts only."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geo.demo.synthetic_cases import synthetic_cases
from geo.settings import Settings
from geo.store import cluster, keys, migrate
from tests.support import TEST_HOSTS

BOUNDS = (119.00, 30.00, 119.04, 30.04)
LONELY = (119.035, 30.035)  # three cases alone in a corner
CASE = ("INSERT INTO grid_case (city_id, external_id, category, reported_at, closed_at, status, "
        "satisfaction, geom) VALUES (:c, :e, :cat, :t, :closed, :status, :sat, "
        "ST_Point(:x, :y, 4326))")
URL = "/cities/casetown/cases"
ATTACK_T = datetime(2026, 3, 15, 2, tzinfo=UTC)  # 2026-03-15 10:00:00 China Standard Time


@pytest.fixture(scope="module")
def case_db() -> Iterator[tuple[Settings, dict[str, str]]]:
    base = Settings.from_env()
    if base.embedded:
        cluster.up(base)
    name = f"sc_cases_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    migrate.create_database(base, name)
    s = replace(base, db_name=name, min_public_case_count=5, allowed_hosts=TEST_HOSTS)
    eng = migrate.make_engine(s)
    plain = {}
    try:
        with eng.begin() as conn:
            migrate.upgrade(conn)
        with eng.begin() as conn:
            city = conn.execute(text(
                "INSERT INTO city (code, name_zh, name_en, metric_epsg, bounds) VALUES "
                "('casetown', '事件镇', 'Casetown', 32650, ST_MakeEnvelope(:a, :b, :c, :d, 4326)) "
                "RETURNING id"), dict(zip("abcd", BOUNDS))).scalar_one()
            for i in range(4):
                x, y = BOUNDS[0] + 0.015 * (i % 2), BOUNDS[1] + 0.015 * (i // 2)
                conn.execute(text(
                    "INSERT INTO grid (city_id, external_id, name, geom) VALUES (:c, :e, :n, "
                    "ST_Multi(ST_MakeEnvelope(:x, :y, :x + 0.015, :y + 0.015, 4326)))"),
                    {"c": city, "e": f"G{i}", "n": f"第{i}网格", "x": x, "y": y})
            cases = synthetic_cases(800, seed=3, bounds=(119.0, 30.0, 119.03, 30.03),
                                    start=datetime(2026, 1, 1, tzinfo=UTC), days=180)
            rows = [{"c": city, "e": r.case_id, "cat": r.category, "t": r.reported_at,
                     "closed": None if r.closed_at is None or r.closed_at != r.closed_at
                     else r.closed_at, "status": r.status,
                     "sat": None if r.satisfaction != r.satisfaction else int(r.satisfaction),
                     "x": r.geometry.x, "y": r.geometry.y} for r in cases.itertuples()]
            for i in range(3):
                rows.append({"c": city, "e": f"lonely{i}", "cat": "dispute",
                             "t": datetime(2026, 2, 1, tzinfo=UTC), "closed": None,
                             "status": "reported", "sat": None, "x": LONELY[0], "y": LONELY[1]})
            # window boundaries in China Standard Time: 1 March 00:00 and 1 April 00:00
            for ext, t in (("b_first", datetime(2026, 2, 28, 16, tzinfo=UTC)),
                           ("b_before", datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC)),
                           ("b_end", datetime(2026, 3, 31, 16, tzinfo=UTC))):
                rows.append({"c": city, "e": ext, "cat": "illegal_construction", "t": t,
                             "closed": None, "status": "reported", "sat": None,
                             "x": 119.01, "y": 30.01})
            # the differencing target: reported at 10:00:00 CST on 15 March in a busy cell
            rows.append({"c": city, "e": "target", "cat": "sanitation", "t": ATTACK_T,
                         "closed": None, "status": "reported", "sat": None,
                         "x": 119.01, "y": 30.01})
            conn.execute(text(CASE), rows)
            for role in ("viewer", "analyst"):
                plain[role] = keys.create_key(conn, f"cases-{role}", role=role)[1]
            plain["revoked"] = keys.create_key(conn, "cases-revoked", role="analyst")[1]
            keys.revoke_key(conn, "cases-revoked")
    finally:
        eng.dispose()
    yield s, plain
    migrate.drop_database(base, name)


@pytest.fixture(scope="module")
def client(case_db: tuple[Settings, dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(case_db[0])) as c:
        yield c


@pytest.fixture(scope="module")
def key(case_db: tuple[Settings, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {role: {"X-API-Key": k} for role, k in case_db[1].items()}


def test_anonymous_gets_no_raw_points(client: TestClient) -> None:
    r = client.get(f"{URL}/points")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "features" not in r.json()


def test_viewer_gets_no_raw_points(client: TestClient, key: dict[str, dict[str, str]]) -> None:
    r = client.get(f"{URL}/points", headers=key["viewer"])
    assert r.status_code == 403 and "features" not in r.json()


def test_revoked_key_gets_no_raw_points(client: TestClient, key: dict[str, dict[str, str]]) -> None:
    assert client.get(f"{URL}/points", headers=key["revoked"]).status_code == 401


def test_analyst_gets_raw_points(client: TestClient, key: dict[str, dict[str, str]]) -> None:
    r = client.get(f"{URL}/points", params={"categories": "dispute"}, headers=key["analyst"])
    assert r.status_code == 200
    body = r.json()
    assert body["features"] and all(f["properties"]["category"] == "dispute"
                                    for f in body["features"])
    assert body["features"][0]["geometry"]["type"] == "Point"


def test_public_hexes_never_show_a_count_below_the_minimum(client: TestClient) -> None:
    r = client.get(f"{URL}/hexes", params={"resolution": 9})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    counts = [f["properties"]["n_cases"] for f in body["features"]]
    shown = [n for n in counts if n is not None]
    assert body["meta"]["suppressed_cells"] > 0
    assert all(n >= 5 for n in shown)
    assert body["meta"]["shown_total"] == sum(shown)
    assert "total" not in body["meta"]  # a total would reveal the suppressed sum


def test_the_lonely_three_are_suppressed_for_viewers_but_counted_for_analysts(
        client: TestClient, key: dict[str, dict[str, str]]) -> None:
    import h3

    cell = h3.latlng_to_cell(LONELY[1], LONELY[0], 9)
    for who, expected in (("viewer", None), ("analyst", 3)):
        body = client.get(f"{URL}/hexes", params={"resolution": 9},
                          headers=key[who]).json()
        props = {f["properties"]["h3"]: f["properties"] for f in body["features"]}
        assert props[cell]["n_cases"] == expected
        assert props[cell]["suppressed"] is (expected is None)


def test_window_is_half_open_in_china_standard_time(client: TestClient,
                                                    key: dict[str, dict[str, str]]) -> None:
    params = {"categories": "illegal_construction", "start": "2026-03-01", "end": "2026-04-01"}
    body = client.get(f"{URL}/points", params=params, headers=key["analyst"]).json()
    ids = {f["properties"]["case_id"] for f in body["features"]}
    assert "b_first" in ids and "b_before" not in ids and "b_end" not in ids
    hexes = client.get(f"{URL}/hexes", params=params, headers=key["analyst"]).json()
    assert hexes["meta"]["total"] == body["meta"]["matched"]


def test_unknown_category_is_a_422_problem(client: TestClient) -> None:
    r = client.get(f"{URL}/hexes", params={"categories": "noise"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "categories"


def test_reversed_window_is_a_422_problem(client: TestClient) -> None:
    r = client.get(f"{URL}/hexes", params={"start": "2026-05-01", "end": "2026-04-01"})
    assert r.status_code == 422


def test_unknown_city_is_404(client: TestClient) -> None:
    assert client.get("/cities/nowhere/cases/hexes").status_code == 404


def test_grid_closure_table_json_and_csv(client: TestClient,
                                         key: dict[str, dict[str, str]]) -> None:
    body = client.get(f"{URL}/grids", headers=key["analyst"]).json()
    assert len(body["rows"]) == 4
    g = max(body["rows"], key=lambda r: r["n_cases"])
    assert 0 <= g["closure_rate"] <= 1 and g["median_closure_h"] <= g["p90_closure_h"]
    assert body["meta"]["unassigned_cases"] >= 3  # the lonely corner lies outside the grids
    r = client.get(f"{URL}/grids", params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("\ufeff")  # Excel reads UTF-8 with a byte-order mark
    header = r.text.removeprefix("\ufeff").splitlines()[0].split(",")
    assert header[:3] == ["grid_id", "external_id", "name"] and "closure_rate" in header


def test_public_grid_table_blanks_small_grids(client: TestClient) -> None:
    params = {"start": "2026-03-01", "end": "2026-04-01"}
    rows = client.get(f"{URL}/grids", params=params).json()["rows"]
    for r in rows:
        assert r["n_cases"] is None or r["n_cases"] == 0 or r["n_cases"] >= 5
        if r["suppressed"]:
            assert r["closure_rate"] is None and r["n_overdue"] is None


def test_public_trends_hide_small_months(client: TestClient) -> None:
    body = client.get(f"{URL}/trends", params={"by": "grid"}).json()
    values = [r["n_cases"] for r in body["rows"]]
    assert all(v is None or v == 0 or v >= 5 for v in values)
    assert {r["month"] for r in body["rows"]} >= {"2026-01", "2026-06"}


def test_hotspots_public_show_only_bins(client: TestClient,
                                        key: dict[str, dict[str, str]]) -> None:
    params = {"resolution": 9, "permutations": 199}
    pub = client.get(f"{URL}/hotspots", params=params).json()
    props = pub["features"][0]["properties"]
    assert set(props) == {"h3", "bin", "label_zh", "label_en"}
    full = client.get(f"{URL}/hotspots", params=params, headers=key["analyst"]).json()
    assert {"n_cases", "gi_z", "p"} <= set(full["features"][0]["properties"])
    bins = [f["properties"]["bin"] for f in full["features"]]
    assert max(bins) == 3  # the synthetic clusters are hot at 99 %
    assert [f["properties"]["bin"] for f in pub["features"]] == bins


def test_period_comparison(client: TestClient) -> None:
    r = client.get(f"{URL}/comparison", params={
        "before_start": "2026-01-01", "before_end": "2026-04-01", "after_start": "2026-04-01",
        "after_end": "2026-07-01", "resolution": 9, "permutations": 199})
    assert r.status_code == 200
    body = r.json()
    assert {f["properties"]["change"] for f in body["features"]} <= {
        "new", "intensifying", "persistent", "diminishing"}
    assert sum(body["meta"]["changes"].values()) == len(body["features"])
    assert "n_before" not in body["features"][0]["properties"]


def test_public_density_hides_thin_areas(client: TestClient,
                                         key: dict[str, dict[str, str]]) -> None:
    params = {"bandwidth_m": 200, "start": "2026-02-01", "end": "2026-03-01", "area": "city"}
    full = client.get(f"{URL}/density", params=params, headers=key["analyst"]).json()
    thin = [f for f in full["features"] if f["properties"]["n_near"] < 5]
    assert thin
    pub = client.get(f"{URL}/density", params=params).json()
    by_cell = {f["properties"]["h3"]: f["properties"] for f in pub["features"]}
    assert all(by_cell.get(f["properties"]["h3"], {}).get("density_per_km2") is None
               for f in thin)
    assert full["meta"]["epsg"] == 32650 and full["meta"]["bandwidth_m"] == 200


@pytest.fixture(scope="module")
def stored_run(case_db: tuple[Settings, dict[str, str]]) -> int:
    from geo.runs import CasesParams, run_cases

    eng = migrate.make_engine(case_db[0])
    try:
        with eng.begin() as conn:
            city = conn.execute(text("SELECT id FROM city WHERE code = 'casetown'")).scalar_one()
            run_id = run_cases(conn, city, CasesParams(resolution=9, permutations=199)).run_id
    finally:
        eng.dispose()
    return run_id


@pytest.mark.parametrize("layer, hidden", [
    ("case_hotspots", {"n_cases", "gi_z", "p"}),
    ("case_hexes", {"n_cases"}),
    ("case_density", {"density_per_km2", "n_near"}),
    ("case_grid_closure", {"n_cases", "closure_rate", "n_overdue"}),
])
def test_case_layers_hide_exact_figures_from_the_public(
        client: TestClient, key: dict[str, dict[str, str]], stored_run: int, layer: str,
        hidden: set[str]) -> None:
    pub = client.get(f"/collections/{layer}/items", params={"limit": 500})
    assert pub.status_code == 200, pub.text
    feats = pub.json()["features"]
    assert feats and not (hidden & set(feats[0]["properties"]))
    full = client.get(f"/collections/{layer}/items", params={"limit": 5},
                      headers=key["analyst"]).json()["features"]
    assert hidden <= set(full[0]["properties"])


def test_public_hex_layer_never_shows_a_small_count(client: TestClient, stored_run: int) -> None:
    feats = client.get("/collections/case_hexes/items", params={"limit": 5000}).json()["features"]
    shown = [f["properties"]["n_public"] for f in feats if f["properties"]["n_public"] is not None]
    assert shown and min(shown) >= 5


def test_subtracting_shown_cells_from_the_true_total_reveals_at_least_the_minimum(
        client: TestClient, key: dict[str, dict[str, str]]) -> None:
    params = {"resolution": 9, "start": "2026-02-01", "end": "2026-04-01"}
    pub = client.get(f"{URL}/hexes", params=params).json()["meta"]
    full = client.get(f"{URL}/hexes", params=params, headers=key["analyst"]).json()["meta"]
    hidden = full["total"] - pub["shown_total"]
    assert pub["suppressed_cells"] >= 2 and hidden >= 5


def test_public_monthly_grid_trend_hides_at_least_the_minimum_per_month(
        client: TestClient, key: dict[str, dict[str, str]]) -> None:
    pub = client.get(f"{URL}/trends", params={"by": "grid"}).json()["rows"]
    full = client.get(f"{URL}/trends", params={"by": "grid"},
                      headers=key["analyst"]).json()["rows"]
    # month totals (cases in no grid included) are what a subtraction would start from
    totals: dict[str, int] = {}
    for r in client.get(f"{URL}/trends", headers=key["analyst"]).json()["rows"]:
        totals[r["month"]] = totals.get(r["month"], 0) + r["n_cases"]
    hidden = dict(totals)
    exact = {(f["month"], f["key"]): f["n_cases"] for f in full}
    for p in pub:  # the public trend runs to the last complete month, zeros included
        n = exact.get((p["month"], p["key"]), 0)
        if not p["suppressed"]:
            assert p["n_cases"] == n
            hidden[p["month"]] = hidden.get(p["month"], 0) - n
    assert any(p["suppressed"] for p in pub)
    assert all(v == 0 or v >= 5 for v in hidden.values())


@pytest.mark.parametrize("path", ["hexes", "grids", "trends", "hotspots", "density"])
def test_an_empty_window_is_an_empty_answer_not_an_error(client: TestClient, path: str) -> None:
    r = client.get(f"{URL}/{path}", params={"start": "2030-01-01", "end": "2030-02-01",
                                            "permutations": 99})
    assert r.status_code == 200, r.text


# --- differencing attacks (regression tests of the public rule in geo.cases.privacy) -----------

def _counts(body: dict[str, Any]) -> dict[str, Any]:
    return {f["properties"]["h3"]: f["properties"]["n_cases"] for f in body["features"]}


def test_one_second_differencing_gives_identical_public_answers(
        client: TestClient, key: dict[str, dict[str, str]]) -> None:
    import h3

    cell = h3.latlng_to_cell(30.01, 119.01, 9)
    pair = [{"resolution": 9, "end": "2026-03-15T10:00:00"},
            {"resolution": 9, "end": "2026-03-15T10:00:01"}]
    # the attack works on exact windows: one cell moves by one case, pinned to the second
    exact = [_counts(client.get(f"{URL}/hexes", params=p, headers=key["analyst"]).json())
             for p in pair]
    assert exact[1][cell] - exact[0][cell] == 1
    for who in ({}, key["viewer"]):
        pub = [client.get(f"{URL}/hexes", params=p, headers=who).json() for p in pair]
        assert pub[0]["features"] == pub[1]["features"]
        assert pub[0]["meta"]["end"] == pub[1]["meta"]["end"] == "2026-04-01T00:00:00+08:00"
        assert pub[0]["meta"]["requested_end"] != pub[1]["meta"]["requested_end"]
    grids = [client.get(f"{URL}/grids", params={"end": p["end"]}).json()["rows"] for p in pair]
    assert grids[0] == grids[1]


def test_nested_public_windows_differ_by_zero_or_at_least_the_minimum(
        client: TestClient) -> None:
    ends = ["2026-02-01", "2026-03-01", "2026-03-01T00:00:01", "2026-04-01", "2026-06-15",
            None]
    answers = [_counts(client.get(f"{URL}/hexes", params={"resolution": 9, "end": e}
                                  if e else {"resolution": 9}).json()) for e in ends]
    compared = 0
    for i, small in enumerate(answers):
        for big in answers[i + 1:]:
            for cell, n in small.items():
                if n is not None and big.get(cell) is not None:
                    assert big[cell] - n == 0 or big[cell] - n >= 5, cell
                    compared += 1
    assert compared > 50


def test_cases_of_the_current_month_are_not_public(
        client: TestClient, case_db: tuple[Settings, dict[str, str]],
        key: dict[str, dict[str, str]]) -> None:
    before = client.get(f"{URL}/hexes", params={"resolution": 9}).json()["features"]
    eng = migrate.make_engine(case_db[0])
    try:
        with eng.begin() as conn:  # 12 new cases today in one cell: shown once the month ends
            conn.execute(text(CASE), [
                {"c": conn.execute(text("SELECT id FROM city WHERE code = 'casetown'")).scalar(),
                 "e": f"today{i}", "cat": "sanitation", "t": datetime.now(UTC), "closed": None,
                 "status": "reported", "sat": None, "x": 119.02, "y": 30.02} for i in range(12)])
        assert client.get(f"{URL}/hexes", params={"resolution": 9}).json()["features"] == before
        exact = client.get(f"{URL}/hexes", params={"resolution": 9}, headers=key["analyst"])
        assert exact.json()["meta"]["total"] >= 12 + len(before)
    finally:
        with eng.begin() as conn:
            conn.execute(text("DELETE FROM grid_case WHERE external_id LIKE 'today%'"))
        eng.dispose()


@pytest.mark.parametrize("window", [{}, {"start": "2026-01-01", "end": "2026-02-01"},
                                    {"start": "2026-03-01", "end": "2026-04-01"},
                                    {"start": "2026-05-10", "end": "2026-06-20"}])
def test_public_grids_show_no_small_open_or_overdue_counts(
        client: TestClient, key: dict[str, dict[str, str]], window: dict[str, str]) -> None:
    exact = client.get(f"{URL}/grids", params=window, headers=key["analyst"]).json()["rows"]
    assert any(0 < r["n_open"] < 5 or 0 < r["n_overdue"] < 5 for r in exact) or not window
    rows = client.get(f"{URL}/grids", params=window).json()["rows"]
    for r in rows:
        for f in ("n_open", "n_overdue", "n_cases", "n_closed", "n_rated"):
            assert r.get(f) is None or r[f] == 0 or r[f] >= 5, (f, r)
        if r["n_closed"] is None:
            assert r["closure_rate"] is None and r["median_closure_h"] is None
        if r.get("n_rated") is None:
            assert r["mean_satisfaction"] is None
        if r["n_cases"] is not None and r["n_open"] is not None:
            assert r["n_cases"] - r["n_open"] in (0, *range(5, 10_000))  # closed, derived


def test_public_grid_table_adds_up_to_the_public_grid_trend(client: TestClient) -> None:
    window = {"start": "2026-02-01", "end": "2026-05-01"}
    grids = client.get(f"{URL}/grids", params=window).json()["rows"]
    rows = client.get(f"{URL}/trends", params={"by": "grid", **window}).json()["rows"]
    for g in grids:
        mine = [r["n_cases"] or 0 for r in rows if r["key"] == g["grid_id"]]
        assert (g["n_cases"] or 0) == sum(mine)
        assert g["suppressed"] == (sum(mine) == 0 and any(
            r["suppressed"] for r in rows if r["key"] == g["grid_id"]))


@pytest.mark.parametrize("path, params", [
    ("hexes", {"categories": "dispute"}), ("grids", {"categories": "dispute"}),
    ("trends", {"by": "grid", "categories": "dispute"}),
    ("density", {"categories": "dispute"}), ("grids", {"as_of": "2026-03-02"}),
    ("grids", {"overdue_hours": 24})])
def test_parameters_that_would_difference_counts_need_an_analyst_key(
        client: TestClient, key: dict[str, dict[str, str]], path: str,
        params: dict[str, Any]) -> None:
    r = client.get(f"{URL}/{path}", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] in params
    assert client.get(f"{URL}/{path}", params=params, headers=key["analyst"]).status_code == 200


def test_public_category_trend_rows_do_not_depend_on_the_filter(client: TestClient) -> None:
    every = client.get(f"{URL}/trends").json()["rows"]
    some = client.get(f"{URL}/trends", params={"categories": "dispute,clutter"}).json()["rows"]
    assert some and some == [r for r in every if r["key"] in ("dispute", "clutter")]


def test_layers_and_endpoints_publish_the_same_figures(
        client: TestClient, stored_run: int) -> None:
    def items(layer: str) -> list[dict[str, Any]]:
        return [f["properties"] for f in client.get(
            f"/collections/{layer}/items", params={"limit": 5000}).json()["features"]]

    hexes = {f["properties"]["h3"]: f["properties"]
             for f in client.get(f"{URL}/hexes", params={"resolution": 9}).json()["features"]}
    layer = {p["h3"]: p for p in items("case_hexes")}
    assert hexes and set(hexes) <= set(layer)
    for cell, p in hexes.items():
        assert (layer[cell]["n_public"], layer[cell]["suppressed"]) == (
            p["n_cases"], p["suppressed"]), cell
    assert all(p["n_public"] is None for c, p in layer.items() if c not in hexes)

    grids = {g["external_id"]: g for g in client.get(f"{URL}/grids").json()["rows"]}
    closure = {p["external_id"]: p for p in items("case_grid_closure")}
    assert set(grids) == set(closure)
    for ext, g in grids.items():
        p = closure[ext]
        assert (p["n_public"], p["suppressed"]) == (g["n_cases"], g["suppressed"])
        assert p["closure_rate_public"] == pytest.approx(g["closure_rate"])
        assert p["median_closure_h_public"] == pytest.approx(g["median_closure_h"])

    density = {f["properties"]["h3"]: f["properties"]["density_per_km2"] for f in client.get(
        f"{URL}/density", params={"resolution": 9}).json()["features"]}
    kde = {p["h3"]: p["density_public"] for p in items("case_density")}
    assert density
    for cell, d in kde.items():
        if cell in density or d is not None:
            assert d == pytest.approx(density.get(cell)), cell


def test_months_list_the_data_period_for_the_period_control(
        client: TestClient, key: dict[str, dict[str, str]],
        case_db: tuple[Settings, dict[str, str]]) -> None:
    eng = migrate.make_engine(case_db[0])
    try:
        with eng.connect() as conn:  # an independent count, month by month in CST
            truth = dict(conn.execute(text(
                "SELECT to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)"
                " FROM grid_case GROUP BY 1")).all())
    finally:
        eng.dispose()
    exact = client.get(f"{URL}/months", headers=key["analyst"]).json()
    assert exact["access"] == "analyst"
    assert (exact["first"], exact["last"]) == (min(truth), max(truth))
    assert {m["month"]: m["n_cases"] for m in exact["months"] if m["n_cases"]} == truth
    public = client.get(f"{URL}/months").json()
    assert public["access"] == "public"
    for m in public["months"]:
        assert m["n_cases"] is None or m["n_cases"] == 0 or m["n_cases"] >= 5
        assert m["n_cases"] == truth.get(m["month"], 0) or m["suppressed"]
    assert client.get("/cities/nowhere/cases/months").status_code == 404
