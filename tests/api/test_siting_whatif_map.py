"""What the leaders' map draws for proposed sites, checked against the coverage run.

A what-if site is one more station of its type: its gain, the compounds it brings inside
and its walking circle must be what the one coverage definition
(:func:`geo.coverage.analyze_coverage`) gives when the coverage is recomputed with the
extra station — an independent computation (nearest-service search from every compound
gate and the circles of every station, not the what-if engine's precomputed reach). That
holds for every type with the type's walkers: an elderly canteen counts residents 60+
walking 60 m/min in both, so its circle is the 900-metre one of a 15-minute walk.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import Engine

from api.app import create_app
from geo.coverage import analyze_coverage
from geo.settings import Settings
from geo.store import keys
from geo.store.cities import get_city
from geo.store.inputs import read_compounds, read_services
from geo.store.network import read_network

TYPE = "red_station"
MINUTES = 15


@pytest.fixture(scope="module")
def app_client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def analyst(demo_engine: Engine) -> dict[str, str]:
    with demo_engine.begin() as conn:
        return {"X-API-Key": keys.create_key(conn, "whatif-map-analyst", role="analyst")[1]}


def _inputs(engine: Engine, settings: Settings, city: str) -> dict[str, Any]:
    with engine.connect() as conn:
        c = get_city(conn, city)
        return {"net": read_network(conn, c.id, mode="walk",
                                    speed_m_per_min=settings.walk_speed_m_per_min,
                                    metric_epsg=c.metric_epsg),
                "compounds": read_compounds(conn, c.id), "services": read_services(conn, c.id)}


def _coverage(inp: dict[str, Any], settings: Settings, services: gpd.GeoDataFrame,
              typ: str = TYPE, **walkers: Any) -> Any:
    return analyze_coverage(inp["net"], inp["compounds"], services, minutes=[MINUTES],
                            types=[typ], trim_m=settings.circle_trim_m,
                            cell_m=settings.circle_cell_m, max_snap_m=settings.max_snap_m,
                            **walkers)


def _inside(cov: Any, typ: str = TYPE) -> pd.DataFrame:
    rows = cov.compounds
    return rows[(rows["type"] == typ) & (rows["status"] == "inside")]


@pytest.mark.parametrize(("city", "typ"), [("guixi", TYPE), ("wudaokou", TYPE),
                                           ("guixi", "elderly_canteen")])
def test_whatif_equals_the_coverage_recomputed_with_the_extra_station(
        app_client: TestClient, demo_engine: Engine, settings: Settings, city: str,
        typ: str) -> None:
    inp = _inputs(demo_engine, settings, city)
    services = inp["services"]
    before = _coverage(inp, settings, services, typ)
    # the site: inside the compound with most people served outside every station's circle
    out = before.compounds[(before.compounds["type"] == typ)
                           & (before.compounds["status"] == "outside")]
    assert len(out) > 0
    target = out.sort_values("target", ascending=False)["compound_id"].iloc[0]
    comp = inp["compounds"].set_index("id")
    site = comp.loc[target].geometry.representative_point()

    r = app_client.post(f"/cities/{city}/siting/whatif",
                        json={"service_type": typ, "minutes": MINUTES,
                              "sites": [[site.x, site.y]], "circles": True})
    assert r.status_code == 200, r.text
    body = r.json()
    walk = before.walkers[typ]  # whom the type's coverage counts, how fast they walk
    assert body["walkers"]["target_group"] == walk.group
    assert body["walkers"]["speed_m_per_min"] == walk.speed_m_per_min
    assert body["walkers"]["budget_m"] == MINUTES * walk.speed_m_per_min

    extra = gpd.GeoDataFrame({"id": [int(services["id"].max()) + 1], "type": [typ]},
                             geometry=[site], crs=4326)
    everyone = gpd.GeoDataFrame(pd.concat([services[["id", "type", "geometry"]], extra],
                                          ignore_index=True), crs=4326)
    after = _coverage(inp, settings, everyone, typ)
    # people of the type's target group, inside: all residents for a red station
    gain = int(_inside(after, typ)["target_in"].sum() - _inside(before, typ)["target_in"].sum())
    newly = set(_inside(after, typ)["compound_id"]) - set(_inside(before, typ)["compound_id"])

    assert gain > 0 and body["gain"] == gain  # whole people, equal
    assert body["before_weight"] == _inside(before, typ)["target_in"].sum()
    assert set(body["newly_covered"]) == newly
    drawn = {f["properties"]["id"]: f for f in body["compounds"]["features"]}
    assert set(drawn) == newly
    assert sum(f["properties"]["weight"] for f in drawn.values()) == gain
    assert {f["properties"]["site"] for f in drawn.values()} == {0}

    # the circle drawn is the circle the coverage run draws for the extra station
    [circle] = body["circles"]["features"]
    assert circle["properties"] == {"site": 0, "snapped": True}
    ours = shape(circle["geometry"])
    ref = after.circles[after.circles["service_id"] == extra["id"].iloc[0]].geometry.iloc[0]
    assert ours.area > 0
    assert ours.symmetric_difference(ref).area <= 1e-3 * ref.area
    if walk.speed_m_per_min != settings.walk_speed_m_per_min:  # the elderly's 900 m, not 1,125
        usual = _coverage(inp, settings, everyone, typ,
                          speed_m_per_min=settings.walk_speed_m_per_min).circles
        wider = usual[usual["service_id"] == extra["id"].iloc[0]].geometry.iloc[0]
        assert ours.area < wider.area and ours.difference(wider).area <= 1e-3 * ref.area
    # every compound brought inside is in the circle, drawn on cells of cell_m
    epsg = inp["net"].metric_epsg
    near = gpd.GeoSeries([ours], crs=4326).to_crs(epsg).buffer(settings.circle_cell_m * 1.5)[0]
    polys = gpd.GeoSeries(comp.loc[sorted(newly)].geometry.values, crs=4326).to_crs(epsg)
    assert polys.difference(near).area.max() <= 1.0  # square metres


def test_each_compound_is_brought_in_by_the_first_site_that_reaches_it(
        app_client: TestClient, demo_engine: Engine, settings: Settings) -> None:
    plan = app_client.post("/cities/guixi/siting/plan", json={"p": 3}).json()
    sites = [f["geometry"]["coordinates"] for f in plan["sites"]["features"]]
    body = app_client.post("/cities/guixi/siting/whatif",
                           json={"sites": sites + [sites[0]], "circles": True}).json()
    gains = [s["gain"] for s in body["sites"]]
    assert gains[-1] == 0  # the same place twice brings nobody new
    assert sum(gains) == pytest.approx(body["gain"])
    by_site = pd.DataFrame([f["properties"] for f in body["compounds"]["features"]])
    assert by_site.groupby("site")["weight"].sum().to_dict() == pytest.approx(
        {i: g for i, g in enumerate(gains) if g > 0})
    assert [f["properties"]["site"] for f in body["circles"]["features"]] == [0, 1, 2, 3]
    assert body["title"] == {"zh": "贵溪 新建红色驿站4处 方案",
                             "en": "Guixi — proposal: 4 new Red station sites"}


def test_without_circles_the_answer_stays_small(app_client: TestClient) -> None:
    body = app_client.post("/cities/guixi/siting/whatif",
                           json={"sites": [[117.22, 28.30]]}).json()
    assert "circles" not in body and "compounds" not in body


@pytest.mark.parametrize(("extra", "field"), [
    ({"site_names": ["a"]}, "site_names"),
    ({"site_kinds": ["user", "user", "user"]}, "site_kinds"),
    ({"site_names": ["一\n二", "b"]}, "site_names"),
    ({"site_kinds": ["k" * 51, "user"]}, "site_kinds"),
])
def test_site_names_and_kinds_must_match_the_sites(app_client: TestClient, analyst,
                                                   extra: dict[str, Any], field: str) -> None:
    r = app_client.post("/cities/guixi/siting/whatif",
                        json={"sites": [[117.22, 28.30], [117.23, 28.31]], "save": True,
                              **extra}, headers=analyst)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"].startswith(field)


@pytest.fixture(scope="module")
def saved(app_client: TestClient, analyst: dict[str, str]) -> dict[str, Any]:
    """Two of the best three red stations of Guixi and the third as if placed by hand,
    saved as the map saves them (no name: the title in words)."""
    plan = app_client.post("/cities/guixi/siting/plan", json={"p": 3}).json()
    feats = plan["sites"]["features"][:2]
    hand = plan["sites"]["features"][2]["geometry"]["coordinates"]  # on a street
    body = {"service_type": TYPE, "minutes": MINUTES, "save": True,
            "sites": [f["geometry"]["coordinates"] for f in feats] + [hand],
            "site_names": [f["properties"]["name"] for f in feats] + [""],
            "site_kinds": [f["properties"]["kind"] for f in feats] + ["user"]}
    r = app_client.post("/cities/guixi/siting/whatif", json=body, headers=analyst)
    assert r.status_code == 200, r.text
    return {"plan": plan, "answer": r.json(), "names": body["site_names"],
            "kinds": body["site_kinds"]}


def test_a_saved_scenario_keeps_its_title_names_and_kinds(app_client: TestClient,
                                                          saved: dict[str, Any]) -> None:
    sid = saved["answer"]["scenario_id"]
    one = app_client.get(f"/cities/guixi/siting/scenarios/{sid}").json()
    assert one["name"] == "贵溪 新建红色驿站3处 方案" == saved["answer"]["title"]["zh"]
    props = [f["properties"] for f in one["sites"]["features"]]
    assert [p["name"] for p in props] == saved["names"]
    assert [p["kind"] for p in props] == saved["kinds"]
    assert [p["source"] for p in props] == ["model", "model", "user"]
    assert [p["rank"] for p in props] == [1, 2, 3]
    plan_gains = [f["properties"]["gain"] for f in saved["plan"]["sites"]["features"]]
    assert [p["gain"] for p in props] == pytest.approx(plan_gains)  # same order, same gains


def test_the_report_has_a_title_in_words_and_a_street_map(app_client: TestClient,
                                                          saved: dict[str, Any]) -> None:
    sid = saved["answer"]["scenario_id"]
    html = app_client.get(f"/cities/guixi/siting/scenarios/{sid}/report.html").text
    assert "<h1>贵溪 新建红色驿站3处 方案</h1>" in html
    assert "Guixi — proposal: 3 new Red station sites" in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert svg.count('stroke-linecap="round"') > 50  # streets of the stored basemap
    assert ">贵溪市</text>" in svg  # a place name
    assert "N 北" in svg and "© OpenStreetMap contributors" in svg
    assert svg.count('stroke-dasharray="5 3"') == 3  # the three sites' walking circles
    assert svg.count("<circle") == 3  # numbered sites


def _non_background_share(png: Path, box: tuple[int, int, int, int]) -> float:
    from PIL import Image

    img = Image.open(png).convert("RGB").crop(box)
    px = list(img.get_flattened_data())
    return sum(1 for p in px if p != (255, 255, 255)) / len(px)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
                    reason="needs Chromium and poppler-utils")
def test_the_report_pdf_is_one_page_with_its_map(app_client: TestClient, saved: dict[str, Any],
                                                 artifacts: Path, tmp_path: Path) -> None:
    sid = saved["answer"]["scenario_id"]
    r = app_client.get(f"/cities/guixi/siting/scenarios/{sid}/report.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(r.content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert info.split("Pages:")[1].split()[0] == "1"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "贵溪 新建红色驿站3处 方案" in text and "OpenStreetMap" in text
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf),
                    str(artifacts / "siting-report-guixi")], check=True)
    png = artifacts / "siting-report-guixi.png"
    from PIL import Image

    w, h = Image.open(png).size
    # the lower half of the page holds the map: mostly drawn on, not blank paper
    assert _non_background_share(png, (w // 10, h // 2, 9 * w // 10, 3 * h // 4)) > 0.5
