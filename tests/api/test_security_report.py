"""Siting writes and reports against hostile input (demo database, Guixi).

Names holding markup are stored as text and shown escaped; the PDF of such a scenario
loads nothing; candidate sites need an admin key and are validated like a file import;
who saved a scenario is not public.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.errors import InvalidInputError
from geo.settings import Settings
from geo.store import keys
from geo.store.cities import get_city
from geo.store.siting import write_candidates

URL = "/cities/guixi/siting"
IFRAME = '<iframe src="file:///etc/hostname"></iframe>'


@pytest.fixture(scope="module")
def app_client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def key(demo_engine: Engine) -> dict[str, dict[str, str]]:
    out = {}
    with demo_engine.begin() as conn:
        for role in ("viewer", "analyst", "admin"):
            out[role] = {"X-API-Key": keys.create_key(conn, f"sec-{role}", role=role)[1]}
    return out


@pytest.fixture(scope="module")
def site(app_client: TestClient) -> list[float]:
    """A good site in Guixi (lon, lat): the best new red station."""
    r = app_client.post(f"{URL}/plan", json={"p": 1})
    assert r.status_code == 200, r.text
    return r.json()["sites"]["features"][0]["geometry"]["coordinates"]  # type: ignore[no-any-return]


@pytest.fixture
def cleanup(demo_engine: Engine) -> Iterator[None]:
    yield
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM siting_candidate WHERE external_id LIKE 'sec%'"))


def _feature(lonlat: list[float], **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": lonlat},
            "properties": {"external_id": "sec1", **props}}


def _post(client: TestClient, feats: list[dict[str, object]], headers: dict[str, str]):
    # json.dumps writes inf as Infinity, which the server's JSON parser accepts
    body = json.dumps({"type": "FeatureCollection", "features": feats})
    return client.post(f"{URL}/candidates", content=body,
                       headers={"Content-Type": "application/json", **headers})


def _listed(client: TestClient) -> set[str]:
    return {f["properties"]["id"] for f in client.get(f"{URL}/candidates").json()["features"]}


def test_scenario_name_with_markup_is_escaped_in_the_report(app_client, key):
    name = f"R{IFRAME}<script>alert(1)</script>"
    r = app_client.post(f"{URL}/plan", json={"p": 1, "save": True, "name": name},
                        headers=key["analyst"])
    assert r.status_code == 200, r.text
    sid = r.json()["scenario_id"]
    assert app_client.get(f"{URL}/scenarios/{sid}").json()["name"] == name  # kept as text
    page = app_client.get(f"{URL}/scenarios/{sid}/report.html")
    assert page.status_code == 200
    assert "<iframe" not in page.text and "<script" not in page.text
    assert "R&lt;iframe src=&#34;file:///etc/hostname&#34;&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftotext") is None,
                    reason="needs Chromium and pdftotext")
def test_pdf_of_a_hostile_candidate_loads_nothing(app_client, key, site, cleanup, tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    srv.hits = []  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        evil = (f'S{IFRAME}<img src="http://127.0.0.1:{srv.server_address[1]}/x">'
                "<script>while (true) {}</script>")
        assert _post(app_client, [_feature(site, name=evil)], key["admin"]).status_code == 200
        r = app_client.post(f"{URL}/plan", json={"p": 1, "generate": False, "save": True,
                                                 "name": "候选站址报告"}, headers=key["analyst"])
        assert r.status_code == 200, r.text
        sid = r.json()["scenario_id"]
        assert r.json()["sites"]["features"][0]["properties"]["name"] == evil
        html = app_client.get(f"{URL}/scenarios/{sid}/report.html").text
        assert "<img" not in html and "&lt;img src=" in html
        t0 = time.monotonic()
        pdf = app_client.get(f"{URL}/scenarios/{sid}/report.pdf")
        assert pdf.status_code == 200 and time.monotonic() - t0 < 20
        (tmp_path / "r.pdf").write_bytes(pdf.content)
        out = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                             text=True, check=True).stdout
        assert "iframe" in out  # the name printed as text
        hostname = Path("/etc/hostname").read_text().strip()
        if len(hostname) >= 4:
            assert hostname not in out
        assert srv.hits == []  # type: ignore[attr-defined]
    finally:
        srv.shutdown()
        srv.server_close()


def test_candidate_writes_need_an_admin_key(app_client, key, site, cleanup):
    feats = [_feature(site, name="社区用房")]
    assert _post(app_client, feats, {}).status_code == 401
    for role in ("viewer", "analyst"):
        r = _post(app_client, feats, key[role])
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert "sec1" not in _listed(app_client)
    assert _post(app_client, feats, key["admin"]).json() == {"written": 1}
    assert "sec1" in _listed(app_client)


@pytest.mark.parametrize(("props", "where", "field"), [
    ({}, [0.0, 0.0], "geometry"),                       # null island
    ({}, [116.4, 39.9], "geometry"),                    # another city
    ({"name": "长" * 201}, None, "name"),
    ({"name": "社区\n用房"}, None, "name"),
    ({"name": "用房\x00"}, None, "name"),
    ({"name": "\u202egnp.exe"}, None, "name"),
    ({"kind": "k" * 51}, None, "kind"),
    ({"cost": "cheap"}, None, "cost"),
    ({"cost": -1}, None, "cost"),
    ({"cost": float("inf")}, None, "cost"),
    ({"cost": True}, None, "cost"),
    ({"capacity": "lots"}, None, "capacity"),
])
def test_invalid_candidates_are_422_naming_the_field(app_client, key, site, cleanup, props,
                                                      where, field):
    good = _feature(site, name="好的")
    bad = _feature(where or site, **props) | {}
    bad["properties"] = {**bad["properties"], "external_id": "sec2"}  # type: ignore[dict-item]
    r = _post(app_client, [good, bad], key["admin"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert {"sec1", "sec2"}.isdisjoint(_listed(app_client))  # all or nothing


def test_candidate_name_may_hold_markup_as_text(app_client, key, site, cleanup):
    name = "<b>社区用房</b> & 驿站"
    assert _post(app_client, [_feature(site, name=name)], key["admin"]).status_code == 200
    listed = {f["properties"]["id"]: f["properties"]["name"]
              for f in app_client.get(f"{URL}/candidates").json()["features"]}
    assert listed["sec1"] == name


def test_store_rejects_bad_candidates_without_crashing(demo_engine, site):
    import geopandas as gpd
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame({"external_id": ["sec9", "sec10"], "cost": ["cheap", 5.0],
                              "name": ["a\tb", "ok"]},
                             geometry=[Point(site), Point(0, 0)], crs=4326)
    with demo_engine.connect() as conn:
        with pytest.raises(InvalidInputError) as exc:
            write_candidates(conn, get_city(conn, "guixi").id, frame)
        conn.rollback()
    got = {(p.row, p.field) for p in exc.value.errors}
    assert got == {(0, "cost"), (0, "name"), (1, "geometry")}


@pytest.mark.parametrize("name", ["方案\n二", "方案\x07", "方" * 201, "\u202e方案"])
@pytest.mark.parametrize("path", ["plan", "whatif"])
def test_bad_scenario_names_are_422(app_client, key, site, name, path):
    body = {"p": 1, "save": True, "name": name} if path == "plan" else {
        "sites": [site], "save": True, "name": name}
    r = app_client.post(f"{URL}/{path}", json=body, headers=key["analyst"])
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["name"]


def test_who_saved_a_scenario_is_not_public(app_client, key, site):
    r = app_client.post(f"{URL}/whatif", json={"sites": [site], "save": True,
                                               "name": "谁保存的"}, headers=key["analyst"])
    sid = r.json()["scenario_id"]
    for path in (f"{URL}/scenarios/{sid}", f"{URL}/scenarios"):
        for headers in ({}, key["viewer"]):
            body = app_client.get(path, headers=headers).text
            assert "sec-analyst" not in body
    one = app_client.get(f"{URL}/scenarios/{sid}", headers=key["analyst"]).json()
    assert one["params"]["by"] == "sec-analyst"
