"""OWSLib's OGC API – Features client reads every public collection to the end."""

from __future__ import annotations

import pytest
from owslib.ogcapi.features import Features

pytestmark = pytest.mark.slow


def test_owslib_conformance_and_collections(demo_server: str,
                                            public_counts: dict[str, int]) -> None:
    api = Features(demo_server)
    assert any(c.endswith("/conf/geojson") for c in api.conformance()["conformsTo"])
    ids = {c["id"] for c in api.collections()["collections"]}
    assert set(public_counts) <= ids


def test_owslib_pages_every_public_collection_to_the_end(demo_server: str,
                                                         public_counts: dict[str, int]) -> None:
    api = Features(demo_server)
    got = {}
    for name in public_counts:
        ids: set[int] = set()
        offset = 0
        while True:
            page = api.collection_items(name, limit=700, offset=offset)
            ids |= {f["id"] for f in page["features"]}
            offset += page["numberReturned"]
            if page["numberReturned"] == 0 or offset >= page["numberMatched"]:
                break
        got[name] = len(ids)
    assert got == public_counts


def test_owslib_filter_and_sortby(demo_server: str) -> None:
    api = Features(demo_server)
    page = api.collection_items("compounds", filter="residents > 1000", limit=10_000,
                                sortby=("residents", "desc"))
    residents = [f["properties"]["residents"] for f in page["features"]]
    assert residents == sorted(residents, reverse=True) and min(residents) > 1000
    queryables = api.collection_queryables("compounds")["properties"]
    assert queryables["residents"]["type"] == "integer"
