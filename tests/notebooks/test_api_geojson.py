"""Public functions take GeoJSON features as our own API serves them (ids in ``id``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from geo import InvalidInputError, analyze_coverage, feature_frame
from geo.settings import Settings
from geo.store.cities import get_city
from geo.store.inputs import read_compounds, read_services
from geo.store.network import read_network


@pytest.fixture(scope="module")
def client(settings: Settings, demo_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _all(client: TestClient, collection: str) -> dict:
    r = client.get(f"/collections/{collection}/items",
                   params={"city": "guixi", "limit": 10000, "f": "json"})
    assert r.status_code == 200, r.text
    fc = r.json()
    assert fc["features"] and "id" not in fc["features"][0]["properties"]
    return fc


def test_analyze_coverage_takes_the_api_geojson(client: TestClient, demo_engine: Engine) -> None:
    compounds_fc = _all(client, "compounds")
    services_fc = _all(client, "service_points")
    with demo_engine.connect() as conn:
        city = get_city(conn, "guixi")
        net = read_network(conn, city.id, mode="walk", metric_epsg=city.metric_epsg)
        compounds = read_compounds(conn, city.id)
        services = read_services(conn, city.id)
    via_api = analyze_coverage(net, compounds_fc, services_fc, minutes=[15],
                               types=["red_station"])
    via_db = analyze_coverage(net, compounds, services, minutes=[15], types=["red_station"])
    cols = ["compound_id", "residents_in", "residents_out", "residents_unknown"]
    a = via_api.compounds[cols].sort_values("compound_id").reset_index(drop=True)
    b = via_db.compounds[cols].sort_values("compound_id").reset_index(drop=True)
    assert len(a) == len(compounds)
    # the API's compounds carry no gates, so access is from a representative point: the
    # residents are the same, whole, and most compounds land on the same side
    assert a["compound_id"].tolist() == b["compound_id"].tolist()
    assert a[cols[1:]].sum(axis=1).tolist() == b[cols[1:]].sum(axis=1).tolist()
    same = ((a["residents_in"] > 0) == (b["residents_in"] > 0)).mean()
    print(f"compounds on the same side: {same:.1%}; api gates: "
          f"{sorted(compounds_fc['features'][0]['properties'])}")
    assert same > 0.8


def test_a_feature_without_id_names_the_field() -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"residents": 5, "households": 2},
         "geometry": {"type": "Point", "coordinates": [117.2, 28.2]}}]}
    with pytest.raises(InvalidInputError) as exc:
        feature_frame(fc, required=("residents", "households"), what="compounds")
    assert [p.field for p in exc.value.errors] == ["id"]
    assert "'id'" in str(exc.value)
    with pytest.raises(InvalidInputError) as exc:
        feature_frame(fc | {"features": [fc["features"][0] | {"id": 7}]},
                      required=("type",), what="service points")
    assert [p.field for p in exc.value.errors] == ["type"]
