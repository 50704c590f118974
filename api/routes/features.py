"""OGC API – Features, Part 1 core: landing page, conformance, collections and items.

GeoJSON in EPSG:4326 lon/lat (CRS84, RFC 7946). Paging by ``limit``/``offset`` with
``next``/``prev`` links; other query parameters filter on exposed properties.
Restricted collections need an analyst key; personal properties go to analysts only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

from api.deps import ConnDep, CurrentUser, RegistryDep, readable_layer, sees_personal
from api.errors import problems
from api.schemas import Collection, Collections, Conformance, Feature, FeatureCollection, Landing
from geo.store.features import MAX_LIMIT, existing_tables, layer_extent, parse_bbox, query_features
from geo.store.features import get_feature as fetch_feature
from layers.registry import Layer

router = APIRouter(tags=["features"])

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
#: Query parameters that are not property filters.
RESERVED = {"bbox", "limit", "offset", "city", "f", "lang"}


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


@router.get("/", summary="OGC API landing page", response_model=Landing,
            responses={303: {"description": "A web browser is sent to /map"}, **problems(422)})
def landing(request: Request, f: str | None = None) -> dict[str, Any] | RedirectResponse:
    """Links to the API definition, conformance, collections and the map.

    A web browser (``Accept: text/html`` without ``f=json``) is sent to ``/map``.
    """
    accept = request.headers.get("accept", "")
    if f != "json" and "text/html" in accept:
        return RedirectResponse("/map", status_code=303)
    b = _base(request)
    return {
        "title": "servicecircle",
        "description": "Grid governance layers: units, compounds, service points, analyses.",
        "attribution": "© OpenStreetMap contributors",
        "links": [
            _link(f"{b}/", "self", "application/json", "This document"),
            _link(f"{b}/openapi.json", "service-desc",
                  "application/vnd.oai.openapi+json;version=3.0", "API definition"),
            _link(f"{b}/docs", "service-doc", "text/html", "API documentation"),
            _link(f"{b}/conformance", "conformance", "application/json", "Conformance"),
            _link(f"{b}/collections", "data", "application/json", "Collections"),
            _link(f"{b}/map", "alternate", "text/html", "Interactive map"),
        ],
    }


@router.get("/conformance", response_model=Conformance, responses=problems(422))
def conformance() -> dict[str, Any]:
    """The conformance classes implemented."""
    return {"conformsTo": CONFORMANCE}


def _collection(request: Request, conn: Any, layer: Layer) -> dict[str, Any]:
    b = _base(request)
    extent = layer_extent(conn, layer) or (-180.0, -90.0, 180.0, 90.0)
    href = f"{b}/collections/{layer.name}"
    return {
        "id": layer.name,
        "title": layer.title_zh,
        "description": f"{layer.title_en}. {layer.description_en}".strip(),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [list(extent)], "crs": CRS84}},
        "public": layer.public,
        "links": [
            _link(href, "self", "application/json"),
            _link(f"{href}/items", "items", GEOJSON, "Features"),
            _link(f"{b}/tiles/{layer.name}/tilejson.json", "tiles", "application/json",
                  "Vector tiles (TileJSON)"),
        ],
    }


@router.get("/collections", response_model=Collections, responses=problems(503))
def collections(request: Request, conn: ConnDep, registry: RegistryDep) -> dict[str, Any]:
    """Every layer as a collection (restricted ones are listed; reading them needs a key)."""
    b = _base(request)
    present = existing_tables(conn, (layer.source.table for layer in registry))
    return {"links": [_link(f"{b}/collections", "self", "application/json")],
            "collections": [_collection(request, conn, layer) for layer in registry
                            if layer.source.table in present]}


@router.get("/collections/{collection_id}", response_model=Collection,
            responses=problems(404, 503))
def collection(request: Request, conn: ConnDep, registry: RegistryDep,
               collection_id: str) -> dict[str, Any]:
    """One collection's metadata and links (404 problem if unknown)."""
    return _collection(request, conn, registry.get(collection_id))


@router.get("/collections/{collection_id}/items", response_class=GeoJSONResponse,
            response_model=FeatureCollection,
            responses={200: {"content": {GEOJSON: {}}}, **problems(401, 403, 404, 422, 503)})
def items(
    request: Request, conn: ConnDep, registry: RegistryDep, user: CurrentUser,
    collection_id: str,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (EPSG:4326)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    city: Annotated[str | None, Query(description="City code")] = None,
) -> GeoJSONResponse:
    """Features as a GeoJSON FeatureCollection; other parameters filter properties (equality)."""
    layer = readable_layer(registry, collection_id, user)
    box = parse_bbox(bbox)
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    page = query_features(conn, layer, bbox=box, limit=limit, offset=offset, filters=filters,
                          city=city, personal=sees_personal(user))
    href = f"{_base(request)}/collections/{layer.name}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}

    def page_url(off: int) -> str:
        return f"{href}?{urlencode({**params, 'limit': limit, 'offset': off})}"

    links = [_link(page_url(offset), "self", GEOJSON),
             _link(f"{_base(request)}/collections/{layer.name}", "collection", "application/json")]
    if offset + len(page.features) < page.number_matched:
        links.append(_link(page_url(offset + limit), "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(_link(page_url(max(0, offset - limit)), "prev", GEOJSON, "Previous page"))
    body = {"type": "FeatureCollection", "features": page.features,
            "numberMatched": page.number_matched, "numberReturned": len(page.features),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links}
    return GeoJSONResponse(body, headers={"Vary": "X-API-Key, Authorization"})


@router.get("/collections/{collection_id}/items/{fid}", response_class=GeoJSONResponse,
            response_model=Feature,
            responses={200: {"content": {GEOJSON: {}}}, **problems(401, 403, 404, 422, 503)})
def item(request: Request, conn: ConnDep, registry: RegistryDep, user: CurrentUser,
         collection_id: str, fid: int) -> GeoJSONResponse:
    """One feature (404 problem if unknown)."""
    layer = readable_layer(registry, collection_id, user)
    feature = fetch_feature(conn, layer, fid, personal=sees_personal(user))
    b = _base(request)
    feature["links"] = [
        _link(f"{b}/collections/{layer.name}/items/{fid}", "self", GEOJSON),
        _link(f"{b}/collections/{layer.name}", "collection", "application/json"),
    ]
    return GeoJSONResponse(feature, headers={"Vary": "X-API-Key, Authorization"})
