"""The API definition as OpenAPI 3.0 (``/openapi-3.0.json``), for clients that read 3.0 only.

FastAPI writes OpenAPI 3.1 (``/openapi.json``, JSON Schema 2020-12). This is the same
document with the 3.1-only schema forms rewritten to their 3.0 equivalents: ``null`` in
``anyOf``/``type`` lists → ``nullable``, ``const`` → a one-value ``enum``, ``examples`` →
``example``, numeric ``exclusiveMinimum``/``exclusiveMaximum`` → boolean flags,
``prefixItems`` → ``items`` with the length fixed. Linked from the landing page as its
``service-desc`` of type ``application/vnd.oai.openapi+json;version=3.0``.

As OGC API – Features recommends, it also lists the items path of every collection
(``/collections/compounds/items`` …) with ``limit`` as the shared parameter component
``#/components/parameters/limit`` (maximum :data:`geo.store.features.MAX_LIMIT`): GDAL 3.8+
reads its page size from there, so it pages by 10,000 instead of its default 1,000.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["features"])

MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
_NULL = {"type": "null"}


def _schema(node: Any) -> Any:
    """A JSON Schema 2020-12 node rewritten as an OpenAPI 3.0 Schema Object."""
    if isinstance(node, list):
        return [_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _schema(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and _NULL in options:
            rest = [o for o in options if o != _NULL]
            del out[key]
            if len(rest) == 1:
                only = rest[0]
                if "$ref" in only:
                    out["allOf"] = [only]
                else:
                    out.update(only)
            else:
                out[key] = rest
            out["nullable"] = True
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if len(types) == 1 else "string"
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "examples" in out and isinstance(out["examples"], list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(key), int | float) and not isinstance(out.get(key), bool):
            out[bound] = out[key]
            out[key] = True
    if "prefixItems" in out:
        items = out.pop("prefixItems")
        out["minItems"] = out["maxItems"] = len(items)
        kinds = {i.get("type") for i in items if isinstance(i, dict)}
        out["items"] = {"type": kinds.pop()} if len(kinds) == 1 else {}
    for key in ("$schema", "$id", "contentMediaType", "$defs"):
        out.pop(key, None)
    return out


def _walk(node: Any) -> Any:
    """Rewrite every ``schema`` (parameters, media types) and component schema."""
    if isinstance(node, list):
        return [_walk(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = _schema(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {name: _schema(s) for name, s in value.items()}
        else:
            out[key] = _walk(value)
    return out


ITEMS = "/collections/{collection_id}/items"


def with_collection_paths(doc: dict[str, Any], collections: list[str]) -> dict[str, Any]:
    """``doc`` with ``limit`` as a parameter component and one items path per collection
    (the operation of :data:`ITEMS` without its path parameter)."""
    op = doc.get("paths", {}).get(ITEMS, {}).get("get")
    if op is None:
        return doc
    params = op.get("parameters", [])
    limit = next((p for p in params if p.get("name") == "limit"), None)
    if limit is None:
        return doc
    doc.setdefault("components", {}).setdefault("parameters", {})["limit"] = limit
    ref = {"$ref": "#/components/parameters/limit"}
    op["parameters"] = [ref if p is limit else p for p in params]
    for name in collections:
        concrete = copy.deepcopy(op)
        concrete["operationId"] = f"{op.get('operationId', 'items')}_{name}"
        concrete["summary"] = f"Features of {name}"
        concrete["parameters"] = [p for p in concrete["parameters"]
                                  if p.get("name") != "collection_id"]
        doc["paths"][f"/collections/{name}/items"] = {"get": concrete}
    return doc


def downgrade(doc: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.1 document (as FastAPI writes it) as OpenAPI 3.0.3."""
    out = _walk(copy.deepcopy(doc))
    out["openapi"] = "3.0.3"
    out.pop("jsonSchemaDialect", None)
    out.pop("webhooks", None)
    return out


@router.get("/openapi-3.0.json", include_in_schema=False)
def openapi_30(request: Request) -> JSONResponse:
    """The OpenAPI 3.0 rendition of ``/openapi.json``."""
    app = request.app
    cached = getattr(app.state, "openapi_30", None)
    if cached is None:
        cached = app.state.openapi_30 = with_collection_paths(
            downgrade(app.openapi()), app.state.registry.names())
    return JSONResponse(cached, media_type=MEDIA_TYPE)
