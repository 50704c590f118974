"""A saved re-gridding proposal on the demo: what is stored equals what ``POST …/grids/regrid``
answered, and the ``grid_proposal`` layer (OGC items, vector tiles, map style) shows exactly
the stored grids of the city's newest proposal."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import Engine, text

from api.app import create_app
from geo.domain import GRID_IN_RANGE_COLOR, GRID_OUT_OF_RANGE_COLOR
from geo.settings import Settings
from geo.store import keys
from geo.store.tiles import BUFFER, EXTENT
from tests.support.sample import tile_of

pytestmark = pytest.mark.slow
URL = "/cities/guixi/grids/regrid"
PROPS = ("proposal", "households", "residents", "compounds", "in_range")


@pytest.fixture(scope="module")
def demo(settings: Settings, demo_engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with demo_engine.begin() as conn:
        ks = {role: keys.create_key(conn, f"test-regrid-{role}", role=role)[1]
              for role in ("viewer", "analyst")}
    with TestClient(create_app(settings)) as c:
        yield c, ks
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM analysis_run WHERE kind = 'regrid'"))


def _save(client: TestClient, key: str, community: str) -> dict[str, Any]:
    r = client.post(URL, json={"community": community, "save": True},
                    headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def saved(demo: tuple[TestClient, dict[str, str]]) -> dict[str, Any]:
    """The answer of saving the proposal for 花园社区 (all grids in range)."""
    client, ks = demo
    return _save(client, ks["analyst"], "花园社区")


def _stored(engine: Engine, run_id: int) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT id, proposal, households, residents, compounds, in_range,
                   ST_AsBinary(geom) AS wkb
            FROM regrid_grid WHERE run_id = :r ORDER BY proposal"""), {"r": run_id}).mappings()
        return {int(r["proposal"]): {**r, "geom": shapely.from_wkb(bytes(r["wkb"]))}
                for r in rows}


def test_saving_needs_an_analyst_and_writes_nothing_otherwise(
        demo: tuple[TestClient, dict[str, str]], demo_engine: Engine) -> None:
    client, ks = demo
    count = "SELECT count(*) FROM analysis_run WHERE kind = 'regrid'"
    with demo_engine.connect() as conn:
        before = conn.execute(text(count)).scalar_one()
    r = client.post(URL, json={"community": "花园社区", "save": True},
                    headers={"X-API-Key": ks["viewer"]})
    assert r.status_code == 403, r.text
    unsaved = client.post(URL, json={"community": "花园社区"}, headers={"X-API-Key": ks["viewer"]})
    assert unsaved.status_code == 200 and unsaved.json()["run_id"] is None
    with demo_engine.connect() as conn:
        assert conn.execute(text(count)).scalar_one() == before


def test_stored_proposal_equals_the_answer(saved: dict[str, Any], demo_engine: Engine) -> None:
    assert saved["feasible"] is True and isinstance(saved["run_id"], int)
    stored = _stored(demo_engine, saved["run_id"])
    feats = saved["grids"]["features"]
    assert len(feats) == len(stored) == saved["before_after"][1]["grids"] > 1
    for f in feats:
        p = f["properties"]
        row = stored[p["proposal"]]
        assert {k: row[k] for k in PROPS} == {k: p[k] for k in PROPS}
        answered = shapely.MultiPolygon([shape(f["geometry"])])
        assert shapely.equals_exact(shapely.normalize(answered), shapely.normalize(row["geom"]),
                                    tolerance=1e-9)


def test_stored_residents_are_the_compounds_inside(saved: dict[str, Any],
                                                   demo_engine: Engine) -> None:
    """Independently of the engine: each compound of the community lies in one stored grid,
    and a grid's households, residents and compounds are the sums over those inside."""
    stored = _stored(demo_engine, saved["run_id"])
    with demo_engine.connect() as conn:
        comps = conn.execute(text("""
            SELECT c.households, c.residents, ST_AsBinary(ST_PointOnSurface(c.geom))
            FROM compound c JOIN community m ON m.id = c.community_id
            WHERE m.name = '花园社区'""")).all()
    sums = {k: [0.0, 0.0, 0] for k in stored}
    for hh, res, wkb in comps:
        pt = shapely.from_wkb(bytes(wkb))
        (owner,) = [k for k, row in stored.items() if row["geom"].contains(pt)]
        sums[owner][0] += hh
        sums[owner][1] += res
        sums[owner][2] += 1
    for k, row in stored.items():
        assert [row["households"], row["residents"], row["compounds"]] == sums[k]
        assert row["in_range"] == (120 <= row["households"] <= 300)


def test_layer_items_equal_the_newest_stored_proposal(
        demo: tuple[TestClient, dict[str, str]], saved: dict[str, Any],
        demo_engine: Engine) -> None:
    client, _ = demo
    r = client.get("/collections/grid_proposal/items", params={"city": "guixi", "limit": 500})
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    stored = _stored(demo_engine, saved["run_id"])
    assert sorted(f["properties"]["proposal"] for f in feats) == sorted(stored)
    for f in feats:
        p = f["properties"]
        row = stored[p["proposal"]]
        assert p["run_id"] == saved["run_id"] and p["community"] == "花园社区"
        assert {k: row[k] for k in PROPS} == {k: p[k] for k in PROPS}
        assert shape(f["geometry"]).hausdorff_distance(row["geom"]) < 1e-6


def _to_tile(geom: shapely.Geometry, z: int, x: int, y: int) -> shapely.Geometry:
    """``geom`` (lon/lat) in the tile's pixel coordinates (Web Mercator, y down, 0–EXTENT)."""
    n = 1 << z

    def px(c: np.ndarray) -> np.ndarray:
        tx = ((c[:, 0] + 180.0) / 360.0 * n - x) * EXTENT
        ty = ((1.0 - np.arcsinh(np.tan(np.radians(c[:, 1]))) / math.pi) / 2.0 * n - y) * EXTENT
        return np.column_stack([tx, ty])

    return shapely.transform(geom, px)


def _apart(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """The largest distance of a vertex of either geometry from the other geometry."""
    return max(float(shapely.distance(shapely.points(shapely.get_coordinates(g)), h).max())
               for g, h in ((a, b), (b, a)))


def test_layer_tiles_equal_the_stored_proposal(
        demo: tuple[TestClient, dict[str, str]], saved: dict[str, Any],
        demo_engine: Engine) -> None:
    client, _ = demo
    stored = _stored(demo_engine, saved["run_id"])
    centre = shapely.union_all([row["geom"] for row in stored.values()]).centroid
    z, x, y = tile_of(centre.x, centre.y, 14)
    r = client.get(f"/tiles/grid_proposal/{z}/{x}/{y}.mvt", params={"city": "guixi"})
    assert r.status_code == 200, r.text
    tile = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    feats = tile["grid_proposal"]["features"]
    box = shapely.box(-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)  # tile + buffer
    expected = {k for k, row in stored.items()
                if _to_tile(row["geom"], z, x, y).intersection(box).area > 1.0}
    assert expected and {f["properties"]["proposal"] for f in feats} == expected
    for f in feats:
        p = f["properties"]
        row = stored[p["proposal"]]
        assert {k: row[k] for k in PROPS} == {k: p[k] for k in PROPS}
        # the same polygon up to the tile's integer grid (1 unit ≈ 0.5 m at zoom 14)
        drawn = shape(f["geometry"]).buffer(0).intersection(box)
        want = _to_tile(row["geom"], z, x, y).intersection(box)
        assert _apart(drawn, want) <= 1.5
        assert drawn.symmetric_difference(want).area <= 0.01 * want.area


def test_newest_proposal_replaces_the_layer(demo: tuple[TestClient, dict[str, str]],
                                            saved: dict[str, Any]) -> None:
    client, ks = demo
    newer = _save(client, ks["analyst"], "炼厂社区")
    assert newer["run_id"] > saved["run_id"] and newer["feasible"] is False
    feats = client.get("/collections/grid_proposal/items",
                       params={"city": "guixi", "limit": 500}).json()["features"]
    assert {f["properties"]["run_id"] for f in feats} == {newer["run_id"]}
    assert {f["properties"]["community"] for f in feats} == {"炼厂社区"}
    out = {f["properties"]["proposal"] for f in feats if not f["properties"]["in_range"]}
    assert out == {p["proposal"] for p in newer["problems"]} != set()


def test_layer_in_the_map_style(demo: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = demo
    for lang, unit in (("zh", "户"), ("en", " households")):
        style = client.get("/map/style.json", params={"city": "guixi", "lang": lang}).json()
        mine = {lyr["metadata"]["sc:part"]: lyr for lyr in style["layers"]
                if lyr.get("metadata", {}).get("sc:layer") == "grid_proposal"}
        assert set(mine) == {"main", "outline", "label"}
        assert all(lyr["layout"]["visibility"] == "none" for lyr in mine.values())
        assert mine["main"]["metadata"]["sc:group"] == "base"
        colour = mine["main"]["paint"]["fill-color"]
        assert colour[colour.index("true") + 1] == GRID_IN_RANGE_COLOR
        assert colour[colour.index("false") + 1] == GRID_OUT_OF_RANGE_COLOR
        assert mine["label"]["layout"]["text-field"][-1] == unit
        assert style["sources"]["grid_proposal"]["tiles"][0].endswith(
            "/tiles/grid_proposal/{z}/{x}/{y}.mvt?city=guixi")
