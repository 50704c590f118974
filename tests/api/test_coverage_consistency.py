"""One coverage definition: the gap layer, the tables, the panel, CSV and Excel agree.

For every demo city, service type and threshold (5/10/15 minutes): the residents of the
gap layer as the OGC collection serves them equal the residents outside in the panel's
city totals, and, community by community and street by street, the residents outside in
the coverage table, the panel's CSV and its Excel download. Every count is a whole number.
At a moment (``at``: only the service points open then) the gap layer of that moment (its
OGC items with the same ``at``, which its tiles share) holds the tables' residents outside
then.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.domain import SERVICE_WALKERS, WALK_MINUTES
from geo.runs import CoverageParams, run_coverage
from geo.settings import Settings
from geo.store.features import MAX_LIMIT

CITIES = ("guixi", "wudaokou")
MOMENT = "Mo 22:00"  # the demo's stored moment (Makefile ``analyze``)


@pytest.fixture(scope="module")
def client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with demo_engine.begin() as conn:
        for city in CITIES:
            run_coverage(conn, city, CoverageParams(minutes=list(WALK_MINUTES)))
        night = run_coverage(conn, "guixi", CoverageParams(minutes=list(WALK_MINUTES),
                                                           at=MOMENT)).run_id
    with TestClient(create_app(settings)) as c:
        c.night = night  # type: ignore[attr-defined]
        yield c


def _gap_features(client: TestClient, city: str, typ: str, minutes: int,
                  at: str | None = None) -> list[dict]:
    feats: list[dict] = []
    offset = 0
    moment = {"at": at} if at else {}
    while True:
        r = client.get(f"/collections/coverage_gaps_{minutes}/items", params={
            "city": city, "service_type": typ, "limit": MAX_LIMIT, "offset": offset,
            **moment})
        assert r.status_code == 200, r.text
        page = r.json()["features"]
        feats += page
        if len(page) < MAX_LIMIT:
            return feats
        offset += MAX_LIMIT


def _compound_units(demo_engine: Engine, city: str) -> dict[int, tuple[int | None, int | None]]:
    with demo_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.id, c.community_id, m.street_id FROM compound c "
            "JOIN city y ON y.id = c.city_id LEFT JOIN community m ON m.id = c.community_id "
            "WHERE y.code = :c"), {"c": city}).all()
    return {r.id: (r.community_id, r.street_id) for r in rows}


def _cases(client: TestClient) -> list[tuple[str, str, int]]:
    out = []
    for city in CITIES:
        types = client.get(f"/cities/{city}/coverage").json()["summary"]["service_types"]
        out += [(city, t, m) for t in types for m in WALK_MINUTES]
    return out


def test_gap_layer_equals_tables_panel_csv_and_excel(client: TestClient,
                                                     demo_engine: Engine) -> None:
    cases = _cases(client)
    assert {c for c, _, _ in cases} == set(CITIES) and len(cases) >= 2 * 6 * 3
    outside_somewhere = elderly_checked = 0
    for city, typ, minutes in cases:
        units = _compound_units(demo_engine, city)
        feats = _gap_features(client, city, typ, minutes)
        people = [f["properties"]["residents"] for f in feats]
        assert all(isinstance(p, int) for p in people)
        gap_total = sum(people)
        by_community: Counter[int] = Counter()
        by_street: Counter[int] = Counter()
        for f in feats:
            community, street = units[f["properties"]["compound_id"]]
            by_community[community] += f["properties"]["residents"]
            by_street[street] += f["properties"]["residents"]

        panel = client.get(f"/cities/{city}/coverage/panel",
                           params={"service_type": typ, "minutes": minutes}).json()
        assert panel["totals"]["residents_out"] == gap_total, (city, typ, minutes)
        assert panel["totals"]["compounds_out"] == len(feats)
        assert panel["gap_layer"] == f"coverage_gaps_{minutes}"
        outside_somewhere += gap_total > 0

        table = client.get(f"/cities/{city}/coverage/communities",
                           params={"service_type": typ, "minutes": minutes}).json()["rows"]
        assert {r["unit_id"]: r["residents_out"] for r in table if r["residents_out"]} == \
            {k: v for k, v in by_community.items() if v and k is not None}

        rows = [r for r in panel["rows"] if r["unit_kind"] == "street"]
        assert {r["unit_id"]: r["residents_out"] for r in rows if r["residents_out"]} == \
            {k: v for k, v in by_street.items() if v and k is not None}

        labels = panel["labels"]
        got = client.get(f"/cities/{city}/coverage/panel",
                         params={"service_type": typ, "minutes": minutes, "format": "csv"})
        assert got.content.startswith("\ufeff".encode())
        csv_rows = list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff"))))
        xlsx = openpyxl.load_workbook(io.BytesIO(client.get(
            f"/cities/{city}/coverage/panel",
            params={"service_type": typ, "minutes": minutes, "format": "xlsx"}).content))
        sheet = list(xlsx.active.iter_rows(values_only=True))
        head = list(sheet[0])
        assert head == list(csv_rows[0]) if csv_rows else True
        out_col = labels["residents_out"]
        assert [int(r[out_col]) for r in csv_rows] == [r["residents_out"] for r in panel["rows"]]
        assert [row[head.index(out_col)] for row in sheet[1:]] == \
            [r["residents_out"] for r in panel["rows"]]
        assert all(isinstance(row[head.index(out_col)], int) for row in sheet[1:])

        # the served group (residents 60+ for elderly services) at the type's speed: the
        # gap layer's people of the group are the panel's, its CSV's and its Excel's
        walk = SERVICE_WALKERS.get(typ)
        group = str(walk.group) if walk else "all"
        speed = (walk.speed_m_per_min if walk and walk.speed_m_per_min else
                 Settings().walk_speed_m_per_min)
        assert (panel["target_group"], panel["speed_m_per_min"]) == (group, speed)
        assert panel["budget_m"] == pytest.approx(minutes * speed)
        assert {f["properties"]["target_group"] for f in feats} <= {group}
        targets = [f["properties"]["target"] for f in feats]
        assert sum(t for t in targets if t is not None) == panel["totals"]["target_out"]
        elderly_checked += group == "age_60_plus" and panel["totals"]["target_out"] > 0
        tcol = labels["target_out"]
        assert [int(r[tcol]) for r in csv_rows] == [r["target_out"] for r in panel["rows"]]
        assert [row[head.index(tcol)] for row in sheet[1:]] == \
            [r["target_out"] for r in panel["rows"]]
    assert outside_somewhere >= len(cases) // 3
    assert elderly_checked > 0


def test_gap_layer_at_a_moment_equals_the_tables_then(client: TestClient,
                                                       demo_engine: Engine) -> None:
    """Guixi at Monday 22:00: for every type and threshold the gap layer of that moment
    (its items with ``at``) holds the residents outside of the panel and of the community
    table at that moment — and somewhere more are outside than all day."""
    night: int = client.night  # type: ignore[attr-defined]
    units = _compound_units(demo_engine, "guixi")
    types = client.get("/cities/guixi/coverage").json()["summary"]["service_types"]
    more_outside = 0
    for typ in types:
        for minutes in WALK_MINUTES:
            feats = _gap_features(client, "guixi", typ, minutes, at=MOMENT)
            gap_total = sum(f["properties"]["residents"] for f in feats)
            by_community: Counter[int] = Counter()
            for f in feats:
                by_community[units[f["properties"]["compound_id"]][0]] += \
                    f["properties"]["residents"]
            params = {"service_type": typ, "minutes": minutes, "at": MOMENT}
            panel = client.get("/cities/guixi/coverage/panel", params=params).json()
            assert panel["run_id"] == night and panel["at"] == MOMENT
            assert panel["totals"]["residents_out"] == gap_total, (typ, minutes)
            assert panel["totals"]["compounds_out"] == len(feats)
            table = client.get("/cities/guixi/coverage/communities", params=params).json()
            assert table["meta"]["run_id"] == night
            assert {r["unit_id"]: r["residents_out"] for r in table["rows"]
                    if r["residents_out"]} == \
                {k: v for k, v in by_community.items() if v and k is not None}
            day = sum(f["properties"]["residents"]
                      for f in _gap_features(client, "guixi", typ, minutes))
            assert gap_total >= day  # closed points never cover more
            more_outside += gap_total > day
    assert more_outside > 0


def test_panel_totals_add_up(client: TestClient) -> None:
    p = client.get("/cities/guixi/coverage/panel",
                   params={"service_type": "red_station", "minutes": 15}).json()
    t = p["totals"]
    assert t["residents_in"] + t["residents_out"] + t["residents_unknown"] == t["residents"]
    assert t["compounds_in"] + t["compounds_out"] + t["compounds_unknown"] == t["compounds"]
    assert 0 <= p["data"]["share_with_gates"] <= 1
    assert p["data"]["compounds"] == t["compounds"]
    assert p["service_type_label"] == "红色驿站" and p["labels"]["residents_out"] == "圈外居民（人）"
    en = client.get("/cities/guixi/coverage/panel",
                    params={"service_type": "red_station", "minutes": 15, "lang": "en"}).json()
    assert en["service_type_label"] == "Red station" and en["totals"] == t
    assert {r["unit_kind"] for r in p["rows"]} == {"community", "grid", "street"}
    assert p["downloads"]["xlsx"].endswith("format=xlsx")


def test_panel_takes_names_and_rejects_unknown_types(client: TestClient) -> None:
    r = client.get("/cities/guixi/coverage/panel",
                   params={"service_type": "spaceport", "minutes": 15})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "unknown-service-type"
    by_code = client.get("/cities/guixi/coverage/panel",
                         params={"service_type": "red_station", "minutes": 15}).json()
    for name in ("红色驿站", "Red Station"):
        by_name = client.get("/cities/guixi/coverage/panel",
                             params={"service_type": name, "minutes": 15}).json()
        assert by_name["totals"] == by_code["totals"] and by_name["service_type"] == "red_station"
