"""Every declared layer can be queried: items, one feature lookup, extent and a tile."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from geo.errors import NotFoundError
from geo.store.features import get_feature, layer_extent, query_features, search_features
from geo.store.tiles import render_tile
from layers.catalog import default_registry, get_layer


@pytest.mark.parametrize("name", default_registry().names())
def test_layer_sql_runs(conn: Connection, name: str) -> None:
    layer = get_layer(name)
    page = query_features(conn, layer, limit=1, bbox=(100.0, 20.0, 130.0, 45.0), personal=True)
    assert page.number_matched >= len(page.features)
    layer_extent(conn, layer)
    with pytest.raises(NotFoundError):
        get_feature(conn, layer, -1)
    tile = render_tile(conn, layer, layer.minzoom, 0, 0, personal=True)
    assert isinstance(tile, bytes)
    assert isinstance(search_features(conn, [layer], "站"), list)
