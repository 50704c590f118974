"""Access control: keys, roles, 401/403 problems, no raw cases for viewers."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from tests.support.sample import tile_of

CASES = "/collections/grid_cases/items"


def _key(k: str) -> dict[str, str]:
    return {"X-API-Key": k}


def test_public_layer_needs_no_key(client: TestClient) -> None:
    assert client.get("/collections/compounds/items").status_code == 200


def test_raw_cases_without_key_is_401_problem(client: TestClient) -> None:
    r = client.get(CASES)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "ApiKey"


def test_raw_cases_for_viewer_is_403(client: TestClient, api_keys: dict[str, str]) -> None:
    r = client.get(CASES, headers=_key(api_keys["viewer"]))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_raw_cases_for_analyst_with_personal_attributes(
        client: TestClient, api_keys: dict[str, str]) -> None:
    body = client.get(CASES, params={"limit": 50}, headers=_key(api_keys["analyst"])).json()
    assert body["numberMatched"] == 20
    assert body["features"][0]["properties"]["description"].startswith("住户张某")


def test_bearer_token_accepted(client: TestClient, api_keys: dict[str, str]) -> None:
    r = client.get(CASES, headers={"Authorization": f"Bearer {api_keys['admin']}"})
    assert r.status_code == 200


@pytest.mark.parametrize("key", ["wrong", "sc1_" + "x" * 43, "sc999999_" + "y" * 43])
def test_wrong_key_is_401_even_on_public_layers(client: TestClient, key: str) -> None:
    r = client.get("/collections/compounds/items", headers=_key(key))
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


def test_revoked_key_is_401(client: TestClient, api_keys: dict[str, str]) -> None:
    assert client.get(CASES, headers=_key(api_keys["revoked"])).status_code == 401


def test_unsupported_authorization_scheme_is_401(client: TestClient) -> None:
    assert client.get(CASES, headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 401


def test_viewer_never_gets_raw_case_tiles(client: TestClient, api_keys: dict[str, str]) -> None:
    for headers in ({}, _key(api_keys["viewer"])):
        z, x, y = tile_of(117.05, 28.25, 12)
        r = client.get(f"/tiles/grid_cases/{z}/{x}/{y}.mvt", headers=headers)
        assert r.status_code in (401, 403)
        assert r.headers["content-type"] == "application/problem+json"


def test_analyst_gets_case_tiles_with_personal_attributes(
        client: TestClient, api_keys: dict[str, str]) -> None:
    z, x, y = tile_of(117.05, 28.25, 12)
    r = client.get(f"/tiles/grid_cases/{z}/{x}/{y}.mvt", headers=_key(api_keys["analyst"]))
    assert r.status_code == 200
    feats = mapbox_vector_tile.decode(r.content)["grid_cases"]["features"]
    assert len(feats) > 0
    assert "description" in feats[0]["properties"]


def test_viewer_never_gets_raw_case_items_by_id(client: TestClient,
                                                api_keys: dict[str, str]) -> None:
    assert client.get(f"{CASES}/1", headers=_key(api_keys["viewer"])).status_code == 403


def test_whoami(client: TestClient, api_keys: dict[str, str]) -> None:
    assert client.get("/keys/me").json() == {"name": None, "role": None}
    assert client.get("/keys/me", headers=_key(api_keys["viewer"])).json()["role"] == "viewer"


def test_key_admin_needs_admin(client: TestClient, api_keys: dict[str, str]) -> None:
    assert client.get("/keys").status_code == 401
    assert client.get("/keys", headers=_key(api_keys["analyst"])).status_code == 403
    names = [k["name"] for k in client.get("/keys", headers=_key(api_keys["admin"])).json()["keys"]]
    assert "test-viewer" in names
    assert all("key" not in k and "key_hash" not in k
               for k in client.get("/keys", headers=_key(api_keys["admin"])).json()["keys"])


def test_admin_creates_and_revokes_key_over_http(client: TestClient,
                                                 api_keys: dict[str, str]) -> None:
    admin = _key(api_keys["admin"])
    r = client.post("/keys", json={"name": "http-made", "role": "analyst"}, headers=admin)
    assert r.status_code == 201
    plain = r.json()["key"]
    assert client.get(CASES, headers=_key(plain)).status_code == 200
    assert client.delete("/keys/http-made", headers=admin).status_code == 200
    assert client.get(CASES, headers=_key(plain)).status_code == 401
    assert client.delete("/keys/never-made", headers=admin).status_code == 404


def test_bad_role_is_422(client: TestClient, api_keys: dict[str, str]) -> None:
    r = client.post("/keys", json={"name": "x", "role": "root"},
                    headers=_key(api_keys["admin"]))
    assert r.status_code == 422
