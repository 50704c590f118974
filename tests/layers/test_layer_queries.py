"""Every declared layer can be queried: items, one feature lookup, extent and a tile."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo.crs.ogc import OutputCRS
from geo.errors import NotFoundError, QueryParameterError
from geo.store.features import (
    FeatureQuery,
    get_feature,
    layer_extent,
    query_features,
    queryables,
    search_features,
    temporal_extent,
    time_expr,
)
from geo.store.filters import parse_datetime
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


@pytest.mark.parametrize("name", default_registry().names())
def test_ogc_queries_run_on_every_layer(conn: Connection, name: str) -> None:
    """CRS, sortby, a CQL2 filter, datetime (on layers with a time) and extents run."""
    layer = get_layer(name)
    kinds = queryables(conn, layer, personal=True)
    assert kinds, "a layer without queryables"
    first = next(iter(kinds))
    cql = {"op": "isNull", "args": [{"property": first}]}
    interval = parse_datetime("2020-01-01/..") if time_expr(layer) else None
    q = FeatureQuery(crs=OutputCRS(32650, False, "utm"), sortby=f"-{first}", cql=cql,
                     interval=interval, bbox=(110.0, 20.0, 130.0, 45.0), bbox_srid=4490)
    page = query_features(conn, layer, limit=1, personal=True, query=q)
    assert page.number_matched >= len(page.features)
    temporal_extent(conn, layer)
    if time_expr(layer) is None:
        with pytest.raises(QueryParameterError):
            query_features(conn, layer, limit=1, query=FeatureQuery(
                interval=parse_datetime("2020-01-01/..")))


@pytest.mark.parametrize("name", [la.name for la in default_registry() if la.source.run_table])
def test_runs_by_moment_hold_the_layers_columns(conn: Connection, name: str) -> None:
    """A layer's ``run_table`` (every run) has the columns of its table (the latest run)
    plus ``run_id``, and items and tiles read it for one run."""
    layer = get_layer(name)

    def columns(table: str) -> list[str]:
        return list(conn.execute(text(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum"), {"t": table}).scalars())

    assert layer.source.run_table is not None
    assert columns(layer.source.run_table) == columns(layer.source.table)
    assert "run_id" in columns(layer.source.run_table)
    page = query_features(conn, layer, limit=1, query=FeatureQuery(run_id=-1))
    assert page.number_matched == 0
    assert render_tile(conn, layer, layer.minzoom, 0, 0, run_id=-1) == b""
