"""Browser test fixtures: Debian's Chromium through Playwright (no browser download), the
sample database and live server of tests/support/mapservice_fixtures.py, and a city added
with ``city add``. The helpers the tests share (pages, waiting, opening the map) are in
tests/support/browser.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-quic", "--no-first-run",
        # WebGL for MapLibre GL JS without a GPU: ANGLE on SwiftShader (software)
        "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test is slow and needs the system Chromium."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                               reason="needs chromium"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def added_city(settings: Any, demo_engine: Engine) -> Iterator[str]:
    """A city added with ``servicecircle city add`` from the east of the Wudaokou extract."""
    from tests.store.test_city_add import cli

    code = "t-map-added"
    r = cli(settings, "city", "add", code, "--osm",
            str(Path(__file__).parents[2] / "data" / "osm" / "wudaokou_2017.osm"),
            "--bbox", "116.318,39.991,116.332,40.004", "--name-zh", "新增城", "--name-en", "Added")
    assert r.returncode == 0, r.stderr
    yield code
    with demo_engine.begin() as conn:
        conn.execute(text("DELETE FROM city WHERE code = :c"), {"c": code})
