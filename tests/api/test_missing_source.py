"""A layer whose source table is missing (database not upgraded): 503, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geo.settings import Settings
from layers.catalog import base
from layers.registry import Layer, Registry, Source, Style


@pytest.fixture(scope="module")
def partial(sample_settings: Settings) -> Iterator[TestClient]:
    reg = Registry()
    reg.extend(base.LAYERS)
    reg.add(Layer(name="ghost", title_zh="幽灵", title_en="Ghost", geometry_type="Point",
                  source=Source("no_such_table", columns=("name",)),
                  style=Style("circle", "#000")))
    with TestClient(create_app(sample_settings, registry=reg)) as c:
        yield c


@pytest.mark.parametrize("url", ["/collections/ghost/items", "/tiles/ghost/14/13525/6838.mvt"])
def test_missing_table_is_503_problem_without_sql(partial: TestClient, url: str) -> None:
    r = partial.get(url)
    assert r.status_code == 503
    assert r.json()["code"] == "schema-out-of-date"
    assert "no_such_table" not in r.text and "SELECT" not in r.text


def test_missing_table_left_out_of_collections_and_marked_in_layers(partial: TestClient) -> None:
    ids = [c["id"] for c in partial.get("/collections").json()["collections"]]
    assert "ghost" not in ids and "compounds" in ids
    layers = {la["name"]: la for la in partial.get("/layers").json()["layers"]}
    assert layers["ghost"]["available"] is False and layers["compounds"]["available"] is True
    assert partial.get("/search", params={"q": "幸福"}).status_code == 200
