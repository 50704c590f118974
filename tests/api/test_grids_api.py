"""Grid workload and re-gridding over HTTP on the demo: the run layer's figures, typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from geo.runs import GridsParams, RegridParams, run_grid_workload, run_regrid
from geo.settings import Settings
from geo.store import keys

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_client(settings: Settings, demo_engine: Engine) -> Iterator[tuple[TestClient, str]]:
    with demo_engine.begin() as conn:
        key = keys.create_key(conn, "test-grids", role="viewer")[1]
    with TestClient(create_app(settings)) as c:
        yield c, key


def test_regrid_before_after_in_the_api(demo_client: tuple[TestClient, str],
                                        demo_engine: Engine) -> None:
    client, key = demo_client
    r = client.post("/cities/guixi/grids/regrid", json={"community": "花园社区"},
                    headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    body = r.json()
    with demo_engine.connect() as conn:
        run = run_regrid(conn, "guixi", RegridParams(community="花园社区"))
    assert body["feasible"] is True and body["problems"] == []
    stages = {row["stage"]: row for row in body["before_after"]}
    expected = run.before_after.set_index("stage")
    for stage in ("before", "after"):
        assert stages[stage]["grids"] == expected.at[stage, "grids"]
        assert stages[stage]["outside_range"] == expected.at[stage, "outside_range"]
        assert stages[stage]["cv_households"] == pytest.approx(expected.at[stage,
                                                                           "cv_households"])
    feats = body["grids"]["features"]
    assert len(feats) == stages["after"]["grids"]
    assert all(120 <= f["properties"]["households"] <= 300 for f in feats)
    assert all(f["geometry"]["type"] == "Polygon" for f in feats)


def test_regrid_names_blocking_compound(demo_client: tuple[TestClient, str]) -> None:
    client, key = demo_client
    r = client.post("/cities/guixi/grids/regrid", json={"community": "炼厂社区"},
                    headers={"X-API-Key": key})
    body = r.json()
    assert r.status_code == 200 and body["feasible"] is False
    assert [p["compound"] for p in body["problems"]] == ["怡景公寓"]
    assert body["problems"][0]["reason"] == "compound_exceeds_range"
    # the reason in words comes from the vocabulary, in the asked language
    vocab = {t["code"]: t for t in client.get("/vocabulary").json()["regrid_reasons"]}
    assert body["problems"][0]["label"] == vocab["compound_exceeds_range"]["label_zh"]
    en = client.post("/cities/guixi/grids/regrid?lang=en", json={"community": "炼厂社区"},
                     headers={"X-API-Key": key}).json()
    assert en["problems"][0]["label"] == vocab["compound_exceeds_range"]["label_en"]
    assert en["problems"][0]["label"].startswith("The compound alone")


def test_workload_api_and_csv_agree_with_run(demo_client: tuple[TestClient, str],
                                             demo_engine: Engine) -> None:
    client, key = demo_client
    r = client.post("/cities/guixi/grids/workload", json={"by": "street"},
                    headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    with demo_engine.connect() as conn:
        run = run_grid_workload(conn, "guixi", GridsParams(by="street"))
    body = r.json()
    t = run.workload.table.set_index("grid_id")
    assert len(body["grids"]) == len(t)
    for row in body["grids"]:
        assert row["workload_index"] == pytest.approx(t.at[row["grid_id"], "workload_index"])
    assert {i["street"] for i in body["imbalance"]} == set(run.imbalance["street"])
    csv = client.post("/cities/guixi/grids/workload?format=csv", json={},
                      headers={"X-API-Key": key})
    assert csv.status_code == 200 and csv.text.count("\n") == len(t) + 1


def test_bad_inputs_are_clear(demo_client: tuple[TestClient, str]) -> None:
    client, key = demo_client
    h = {"X-API-Key": key}
    empty = client.post("/cities/guixi/grids/regrid", json={"community": "花园社区",
                                                             "lower": 400, "upper": 300},
                        headers=h)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "lower"
    missing = client.post("/cities/guixi/grids/regrid", json={"community": "不存在社区"},
                          headers=h)
    assert missing.status_code == 404
    assert client.post("/cities/guixi/grids/regrid", json={"community": "花园社区"}
                       ).status_code == 401
