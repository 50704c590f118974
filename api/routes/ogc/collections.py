"""OGC API – Features: landing page, conformance, collections, one collection, queryables.

Every resource is JSON by default and HTML with ``f=html`` or a browser's
``Accept: text/html``. ``?city=`` narrows a collection's spatial and temporal extent to
that city. Restricted collections are listed (reading their features needs a key).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Connection

from api.deps import ConnDep, CurrentUser, RegistryDep, readable_layer, sees_personal
from api.errors import problems
from api.routes.ogc import html
from api.routes.ogc.common import (
    CONFORMANCE,
    GEOJSON,
    HTML,
    JSON,
    RESOURCE_PARAMETERS,
    alternates,
    base_url,
    check_parameters,
    link,
    output_format,
    served_crs,
)
from api.schemas import Collection, Collections, Conformance, Landing
from geo.crs.ogc import CRS84_URI
from geo.store.cities import get_city
from geo.store.features import existing_tables, layer_extent, queryables, temporal_extent
from layers.registry import Layer

router = APIRouter(tags=["features"])

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
FormatQ = Annotated[str | None, Query(
    max_length=16, description="Output format: json (GeoJSON for features) or html; "
    "default JSON, HTML for a browser's Accept: text/html")]
LangQ = Annotated[Literal["zh", "en"], Query(description="Language of HTML pages")]
CityQ = Annotated[str | None, Query(max_length=64, description="City code: extents of that "
                                                               "city only")]


def _html_or(request: Request, f: str | None) -> bool:
    check_parameters(request.query_params.keys(), RESOURCE_PARAMETERS)
    return output_format(request, f) == "html"


@router.get("/", summary="OGC API landing page", response_model=Landing,
            responses={200: {"content": {HTML: {}}}, **problems(400, 422)})
def landing(request: Request, f: FormatQ = None, lang: LangQ = "zh") -> Any:
    """Links to the API definition, conformance, collections and the map (HTML for a
    browser, with a link to the map)."""
    fmt = "html" if _html_or(request, f) else "json"
    b = base_url(request)
    body = {
        "title": "servicecircle",
        "description": "Grid governance layers: units, compounds, service points, analyses.",
        "attribution": "© OpenStreetMap contributors",
        "links": [
            *alternates(f"{b}/", fmt, JSON),
            link(f"{b}/openapi-3.0.json", "service-desc", OPENAPI_30,
                 "API definition (OpenAPI 3.0)"),
            link(f"{b}/openapi.json", "service-desc", "application/vnd.oai.openapi+json;"
                 "version=3.1", "API definition (OpenAPI 3.1)"),
            link(f"{b}/docs", "service-doc", HTML, "API documentation"),
            link(f"{b}/conformance", "conformance", JSON, "Conformance"),
            link(f"{b}/collections", "data", JSON, "Collections"),
            link(f"{b}/map", "alternate", HTML, "Interactive map"),
        ],
    }
    return html.page("landing", body, lang) if fmt == "html" else body


@router.get("/conformance", response_model=Conformance,
            responses={200: {"content": {HTML: {}}}, **problems(400, 422)})
def conformance(request: Request, f: FormatQ = None, lang: LangQ = "zh") -> Any:
    """The conformance classes implemented."""
    body = {"conformsTo": CONFORMANCE}
    return html.page("conformance", body, lang) if _html_or(request, f) else body


def collection_doc(request: Request, conn: Connection, layer: Layer, *, fmt: str,
                   city: str | None, crs: tuple[str, ...]) -> dict[str, Any]:
    """The JSON description of one collection (extents of ``city`` if given)."""
    b = base_url(request)
    extent = layer_extent(conn, layer, city=city) if layer.source.city_column or not city \
        else None
    if extent is None and city:
        box = get_city(conn, city).bounds.bounds  # no features there: the city's own bounds
        extent = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    extent = extent or (-180.0, -90.0, 180.0, 90.0)
    href = f"{b}/collections/{layer.name}"
    q = f"?city={city}" if city else ""
    amp = f"&city={city}" if city else ""
    doc: dict[str, Any] = {
        "id": layer.name,
        "title": layer.title_zh,
        "description": f"{layer.title_en}. {layer.description_en}".strip(),
        "itemType": "feature",
        "crs": list(crs),
        "storageCrs": CRS84_URI,
        "extent": {"spatial": {"bbox": [list(extent)], "crs": CRS84_URI}},
        "public": layer.public,
        "links": [
            *alternates(f"{href}{q}", fmt, JSON),
            # no ?f=json: GDAL looks this path up in the API definition for its page size
            link(f"{href}/items{q}", "items", GEOJSON, "Features"),
            link(f"{href}/items?f=html{amp}", "items", HTML, "Features as HTML"),
            link(f"{href}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 "application/schema+json", "Queryables"),
            link(f"{b}/tiles/{layer.name}/tilejson.json{q}", "tiles", JSON,
                 "Vector tiles (TileJSON)"),
        ],
    }
    when = temporal_extent(conn, layer, city=city)
    if when is not None:
        doc["extent"]["temporal"] = {
            "interval": [[t.isoformat().replace("+00:00", "Z") for t in when]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return doc


@router.get("/collections", response_model=Collections,
            responses={200: {"content": {HTML: {}}}, **problems(400, 404, 422, 503)})
def collections(request: Request, conn: ConnDep, registry: RegistryDep, f: FormatQ = None,
                lang: LangQ = "zh", city: CityQ = None) -> Any:
    """Every layer as a collection (restricted ones are listed; reading them needs a key)."""
    fmt = "html" if _html_or(request, f) else "json"
    if city is not None:
        get_city(conn, city)
    b = base_url(request)
    present = existing_tables(conn, (layer.source.table for layer in registry))
    crs = served_crs(conn)
    q = f"?city={city}" if city else ""
    body = {"links": alternates(f"{b}/collections{q}", fmt, JSON),
            "collections": [collection_doc(request, conn, layer, fmt=fmt, city=city, crs=crs)
                            for layer in registry if layer.source.table in present]}
    return html.page("collections", body, lang) if fmt == "html" else body


@router.get("/collections/{collection_id}", response_model=Collection,
            responses={200: {"content": {HTML: {}}}, **problems(400, 404, 422, 503)})
def collection(request: Request, conn: ConnDep, registry: RegistryDep, collection_id: str,
               f: FormatQ = None, lang: LangQ = "zh", city: CityQ = None) -> Any:
    """One collection's metadata and links (404 problem if unknown)."""
    fmt = "html" if _html_or(request, f) else "json"
    layer = registry.get(collection_id)
    if city is not None:
        get_city(conn, city)
    body = collection_doc(request, conn, layer, fmt=fmt, city=city, crs=served_crs(conn))
    return html.page("collection", body, lang) if fmt == "html" else body


@router.get("/collections/{collection_id}/queryables",
            responses={200: {"content": {"application/schema+json": {}, HTML: {}}},
                       **problems(400, 401, 403, 404, 422, 503)})
def collection_queryables(request: Request, conn: ConnDep, registry: RegistryDep,
                          user: CurrentUser, collection_id: str, f: FormatQ = None,
                          lang: LangQ = "zh") -> Any:
    """JSON Schema of the properties ``filter``, ``sortby`` and ``property=value`` accept
    (personal properties only for analysts)."""
    fmt = "html" if _html_or(request, f) else "json"
    layer = readable_layer(registry, collection_id, user)
    b = base_url(request)
    props: dict[str, Any] = {}
    labels = layer.labels("en")
    for name, kind in queryables(conn, layer, personal=sees_personal(user)).items():
        schema: dict[str, Any] = {"title": labels.get(name, name)}
        if kind in ("date-time", "date"):
            schema.update(type="string", format=kind)
        else:
            schema["type"] = kind
        props[name] = schema
    body = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{b}/collections/{layer.name}/queryables", "type": "object",
            "title": layer.title_en, "properties": props, "additionalProperties": False}
    if fmt == "html":
        return html.page("queryables", {**body, "id": layer.name}, lang)
    return JSONResponse(body, media_type="application/schema+json",
                        headers={"Vary": "X-API-Key, Authorization"})


__all__ = ["HTMLResponse", "collection_doc", "router"]
