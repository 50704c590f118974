"""``servicecircle city add|list`` and ``load demo`` run as a user would, on the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api.cli import app
from api.cli.data import parse_bbox
from geo.errors import InvalidInputError
from geo.settings import Settings
from geo.store.cities import get_city
from geo.store.network import read_network_frames

OSM = Path(__file__).parents[2] / "data" / "osm"
TINY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <bounds minlat="39.999" minlon="116.299" maxlat="40.002" maxlon="116.303"/>
 <node id="1" lat="40.0000" lon="116.3000"/>
 <node id="2" lat="40.0000" lon="116.3010"/>
 <node id="3" lat="40.0000" lon="116.3020"/>
 <node id="4" lat="40.0010" lon="116.3010"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="footway"/></way>
</osm>
"""
CODES = ("t-cli-tiny", "t-cli-wdk", "t-cli-bad")


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "SERVICECIRCLE_DB_NAME"},
           "SERVICECIRCLE_DATABASE_URL": settings.url()}  # the URL names the database
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          check=False, capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).parents[2])


@pytest.fixture
def cleanup(engine: Engine) -> Iterator[None]:
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM city WHERE code = ANY(:codes)"), {"codes": list(CODES)})


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.osm"
    p.write_text(TINY, encoding="utf-8")
    return p


def test_city_add_from_small_osm_file(settings, engine, cleanup, tiny):
    r = cli(settings, "city", "add", "t-cli-tiny", "--osm", str(tiny), "--name-zh", "小城")
    assert r.returncode == 0, r.stderr
    with engine.connect() as conn:
        city = get_city(conn, "t-cli-tiny")
        edges = read_network_frames(conn, city.id)[1]
        ride = read_network_frames(conn, city.id, mode="ride")[1]
    assert city.name_zh == "小城" and city.metric_epsg == 32650
    assert sorted(edges[["u", "v"]].values.tolist()) == [[1, 2], [2, 3], [2, 4]]
    assert ride["u"].tolist() == [1, 2]  # the footway is not rideable
    assert "3 edges" in r.stdout


def test_city_add_wudaokou_with_bbox(settings, engine, cleanup):
    bbox = (116.315, 39.995, 116.325, 40.005)
    r = cli(settings, "city", "add", "t-cli-wdk", "--osm", str(OSM / "wudaokou_2017.osm"),
            "--bbox", ",".join(map(str, bbox)))
    assert r.returncode == 0, r.stderr
    with engine.connect() as conn:
        city = get_city(conn, "t-cli-wdk")
        nodes, edges = read_network_frames(conn, city.id)
    assert city.bounds.bounds == pytest.approx(bbox)
    # every edge has an end inside the box (streets crossing it keep their first segment)
    inside = nodes.geometry.within(city.bounds.buffer(1e-9)).to_numpy()
    ids = set(nodes["node_id"][inside])
    assert (edges["u"].isin(ids) | edges["v"].isin(ids)).all()
    assert 200 < len(edges) < 1367


def test_city_add_is_repeatable(settings, engine, cleanup, tiny):
    for _ in range(2):
        assert cli(settings, "city", "add", "t-cli-tiny", "--osm", str(tiny)).returncode == 0
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM street_edge e JOIN city c ON c.id = e.city_id "
                              "WHERE c.code = 't-cli-tiny'")).scalar_one()
    assert n == 3


def _absent(engine: Engine, code: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM city WHERE code = :c"),
                            {"c": code}).scalar_one() == 0


def test_city_add_bad_bbox(settings, engine, cleanup, tiny):
    r = cli(settings, "city", "add", "t-cli-bad", "--osm", str(tiny), "--bbox", "116.31,40.0,116.30,40.01")
    assert r.returncode == 2
    assert "minlon < maxlon" in r.stderr and "Nothing was written" in r.stderr
    assert _absent(engine, "t-cli-bad")


@pytest.mark.parametrize("bbox, reason", [
    ("116.3,40.0,116.31", "four numbers"),
    ("a,b,c,d", "four numbers"),
    ("116.31,40.0,116.30,40.01", "minlon < maxlon"),
    ("116.30,95,116.31,96", "minlat < maxlat"),
    ("nan,40,116.31,40.1", "finite"),
])
def test_parse_bbox_errors(bbox, reason):
    with pytest.raises(InvalidInputError) as info:
        parse_bbox(bbox)
    assert reason in str(info.value)


def test_parse_bbox():
    assert parse_bbox(" 116.3, 39.99 ,116.31,40") == (116.3, 39.99, 116.31, 40.0)


def test_city_add_bbox_without_streets(settings, engine, cleanup, tiny):
    r = cli(settings, "city", "add", "t-cli-bad", "--osm", str(tiny), "--bbox", "100,20,100.1,20.1")
    assert r.returncode == 2 and "no walkable or rideable streets" in r.stderr
    assert _absent(engine, "t-cli-bad")


def test_city_add_missing_file(settings, engine, cleanup, tmp_path):
    r = cli(settings, "city", "add", "t-cli-bad", "--osm", str(tmp_path / "nope.osm"))
    assert r.returncode == 2 and "not found" in r.stderr
    assert _absent(engine, "t-cli-bad")


def test_city_add_broken_osm_file(settings, engine, cleanup, tmp_path):
    p = tmp_path / "broken.osm"
    p.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    r = cli(settings, "city", "add", "t-cli-bad", "--osm", str(p))
    assert r.returncode == 2 and "OSM" in r.stderr
    assert _absent(engine, "t-cli-bad")


def test_city_add_bad_code(settings, engine, cleanup, tiny):
    r = cli(settings, "city", "add", "Bad City", "--osm", str(tiny))
    assert r.returncode == 2 and "city code" in r.stderr


def test_city_list_shows_added_city(settings, cleanup, tiny):
    cli(settings, "city", "add", "t-cli-tiny", "--osm", str(tiny), "--name-en", "Tiny")
    r = cli(settings, "city", "list")
    assert r.returncode == 0 and "t-cli-tiny" in r.stdout and "Tiny" in r.stdout


def test_load_demo_command_is_idempotent(settings, demo_engine):
    before = _counts(demo_engine)
    r = cli(settings, "load", "demo")
    assert r.returncode == 0, r.stderr
    assert "grid_case" in r.stdout and "24,000" in r.stdout
    assert _counts(demo_engine) == before


def _counts(engine: Engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        return {t: tuple(conn.execute(text(f"SELECT count(*), max(id) FROM {t}")).one())
                for t in ("compound", "grid", "service_point", "grid_case")}


@pytest.mark.parametrize("args", [("load", "demo"), ("city", "add"), ("city", "list"),
                                  ("load",), ("city",)])
def test_help(args):
    r = CliRunner().invoke(app, [*args, "--help"])
    assert r.exit_code == 0 and "Usage" in r.output


SPLIT = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <bounds minlat="39.999" minlon="116.299" maxlat="40.006" maxlon="116.304"/>
 <node id="1" lat="40.0000" lon="116.3000"/>
 <node id="2" lat="40.0000" lon="116.3020"/>
 <node id="3" lat="40.0040" lon="116.3000"/>
 <node id="4" lat="40.0040" lon="116.3015"/>
 <node id="5" lat="40.0050" lon="116.3000"/>
 <node id="6" lat="40.0050" lon="116.3020"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/>
  <tag k="name" v="南街"/></way>
 <way id="11"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/><tag k="name" v="北巷"/></way>
 <way id="12"><nd ref="5"/><nd ref="6"/><tag k="highway" v="cycleway"/></way>
</osm>
"""


def test_city_add_warns_about_a_split_network_and_names_the_parts(settings, engine, cleanup,
                                                                  tmp_path):
    p = tmp_path / "split.osm"
    p.write_text(SPLIT, encoding="utf-8")
    r = cli(settings, "city", "add", "t-cli-tiny", "--osm", str(p))
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())  # rich wraps long lines
    # the cycleway's nodes are stored (riders use it) but are not part of the walking network
    assert "walking network: 4 nodes, 2 edges" in out and "in 2 part(s)" in out
    assert "warning" in out and "below 80%" in out
    assert "北巷" in out and "way 11" in out
    assert "南街" not in out.split("warning", 1)[1]  # the largest part is not listed


def test_city_add_prints_km_per_rule_and_no_warning_when_connected(settings, engine, cleanup):
    r = cli(settings, "city", "add", "t-cli-wdk", "--osm", str(OSM / "wudaokou_2017.osm"))
    assert r.returncode == 0, r.stderr
    rows = {line.split("│")[1].strip(): line for line in r.stdout.splitlines()
            if line.count("│") == 5}
    assert {"never", "cycleway", "cycleway_foot", "pedestrian_area", "default"} <= set(rows)
    assert "removed" in rows["cycleway"] and "added" in rows["pedestrian_area"]
    assert "warning" not in r.stdout
    with engine.connect() as conn:
        fig = conn.execute(text("SELECT network_figures FROM city WHERE code = 't-cli-wdk'")
                           ).scalar_one()
    assert f"{fig['walk']['n_nodes']:,} nodes" in r.stdout
