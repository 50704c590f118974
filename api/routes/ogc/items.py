"""OGC API – Features items: ``/collections/{id}/items`` and ``/items/{fid}``.

GeoJSON (CRS84 lon/lat by default) or HTML. Parameters: ``bbox`` (+ ``bbox-crs``), ``crs``
(Part 2: CRS84, EPSG:4326 lat/lon, CGCS2000 EPSG:4490, the cities' UTM zones; the answer
names it in ``Content-Crs``), ``datetime`` (cases and analysis runs), ``filter`` with
``filter-lang`` cql2-text or cql2-json (Part 3), ``sortby``, ``property=value`` on
queryables, ``city``, and on coverage collections ``at`` (with ``city``: the run counting
only the service points open at that moment, as the coverage tables and tiles use). ``limit`` above :data:`MAX_LIMIT` is capped, not refused.

Page sizes are chosen for clients that read whole collections: without ``limit`` a GeoJSON
page holds :data:`DEFAULT_LIMIT` features (an HTML page :data:`HTML_LIMIT`), and the
``next`` links ask for at least :data:`DEFAULT_LIMIT`. GDAL 3.8+ takes the ``default`` of
``limit`` in the OpenAPI document as its page size when it is above its own 1,000; GDAL
before 3.8 always starts with ``limit=10`` and then follows ``next`` links. Either way a
10,000-feature collection takes three requests. Unknown parameters are a 400 naming the
known ones.
Restricted collections need an analyst key; personal properties go to analysts only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection

from api.deps import ConnDep, CurrentUser, RegistryDep, readable_layer, sees_personal
from api.errors import problems
from api.routes.ogc import html
from api.routes.ogc.collections import FormatQ, LangQ
from api.routes.ogc.common import (
    GEOJSON,
    HTML,
    ITEMS_PARAMETERS,
    JSON,
    GeoJSONResponse,
    base_url,
    check_parameters,
    link,
    output_format,
    query_without,
    served_crs,
)
from api.schemas import Feature, FeatureCollection
from geo.crs.ogc import CRS84, CRS84_URI, content_crs_header, parse_crs
from geo.errors import InvalidInputError, Problem, QueryParameterError
from geo.store.cities import get_city
from geo.store.coverage import latest_run
from geo.store.features import (
    MAX_LIMIT,
    FeatureQuery,
    parse_bbox,
    query_features,
    queryables,
    source_table,
)
from geo.store.features import get_feature as fetch_feature
from geo.store.filters import parse_cql2, parse_datetime
from geo.store.vocabulary import resolve_vocabulary_filters
from layers.registry import Layer

router = APIRouter(tags=["features"])

#: Features per GeoJSON page without ``limit``, and at least per page of a ``next`` link
#: (a client's larger ``limit`` is kept).
DEFAULT_LIMIT = 5_000
#: Features per HTML page without ``limit``.
HTML_LIMIT = 50
VARY = "X-API-Key, Authorization, Accept"


def _vocabulary_filters(conn: Any, filters: dict[str, str]) -> dict[str, str]:
    """Property filters with service types and case categories given by name turned into
    codes; an unknown name is a 400 (OGC API) with "did you mean"."""
    try:
        return resolve_vocabulary_filters(conn, filters)
    except InvalidInputError as e:
        raise QueryParameterError(e.message, e.errors, code=e.code,
                                  suggestions=e.suggestions) from None


def _moment_run(conn: Connection, layer: Layer, city: str | None, at: str) -> int:
    """The run of ``city`` at the moment ``at`` (:func:`latest_run`, as the tables use);
    400 for a bad moment, a collection without runs by moment or no city; ``no-run`` 404."""
    try:
        source_table(layer, 0)
        if city is None:
            raise InvalidInputError("at needs a city", [Problem(
                "a moment is a city's coverage run: give city as well", field="at")])
        return int(latest_run(conn, get_city(conn, city).id, at=at)["id"])
    except QueryParameterError:
        raise
    except InvalidInputError as e:
        raise QueryParameterError(e.message, e.errors) from None


@router.get("/collections/{collection_id}/items", response_class=GeoJSONResponse,
            response_model=FeatureCollection,
            responses={200: {"content": {GEOJSON: {}, HTML: {}}},
                       **problems(400, 401, 403, 404, 422, 503)})
def items(
    request: Request, conn: ConnDep, registry: RegistryDep, user: CurrentUser,
    collection_id: str,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs "
                                                  "(default CRS84 lon/lat)")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200,
                                          description="CRS of bbox (URI)")] = None,
    crs: Annotated[str | None, Query(max_length=200, description="Output CRS (URI), one "
                                     "of the collection's crs list")] = None,
    limit: Annotated[int | None, Query(
        ge=1, description=f"Features per page (1 … {MAX_LIMIT}; larger values are capped); "
        f"default {DEFAULT_LIMIT} (HTML: {HTML_LIMIT})",
        json_schema_extra={"maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})] = None,
    offset: Annotated[int, Query(ge=0, le=2**62, description="Features to skip")] = 0,
    city: Annotated[str | None, Query(max_length=64, description="City code")] = None,
    datetime_: Annotated[str | None, Query(
        alias="datetime", max_length=100,
        description="RFC 3339 instant or interval (a/b, ../b, a/..): cases by report time, "
        "analysis results by run time")] = None,
    filter_: Annotated[str | None, Query(alias="filter", max_length=4000,
                                         description="CQL2 filter on queryables")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang", max_length=20,
                                             description="cql2-text (default) or "
                                             "cql2-json")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs", max_length=200,
                                            description="CRS84 only")] = None,
    sortby: Annotated[str | None, Query(max_length=400, description="Queryables to sort "
                                        "by, comma separated, '-' for descending")] = None,
    at: Annotated[str | None, Query(max_length=40, description=(
        "Coverage collections: the run counting only the service points open then ('Mo "
        "22:00', '周一 22:00' or an ISO date-time, China Standard Time; needs city)"))] = None,
    f: FormatQ = None,
    lang: LangQ = "zh",
) -> Any:
    """Features as a GeoJSON FeatureCollection (or an HTML page)."""
    layer = readable_layer(registry, collection_id, user)
    personal = sees_personal(user)
    fmt = output_format(request, f)
    props = queryables(conn, layer, personal=personal)
    check_parameters(request.query_params.keys(), ITEMS_PARAMETERS, props)
    allowed = served_crs(conn)
    out_crs = parse_crs(crs, allowed) if crs else CRS84
    box_crs = parse_crs(bbox_crs, allowed, field="bbox-crs") if bbox_crs else CRS84
    if filter_crs and parse_crs(filter_crs, allowed, field="filter-crs").uri != CRS84_URI:
        raise QueryParameterError("unsupported filter-crs", [Problem(
            "filters are evaluated in CRS84 only", field="filter-crs")])
    run_id = _moment_run(conn, layer, city, at) if at is not None else None
    n = min(limit or (HTML_LIMIT if fmt == "html" else DEFAULT_LIMIT), MAX_LIMIT)
    start = offset
    query = FeatureQuery(
        bbox=parse_bbox(bbox, box_crs, error=QueryParameterError), bbox_srid=box_crs.srid,
        filters=_vocabulary_filters(conn, {k: v for k, v in request.query_params.items()
                                           if k in props}),
        cql=parse_cql2(filter_, filter_lang or "cql2-text") if filter_ else None,
        sortby=sortby or None, interval=parse_datetime(datetime_) if datetime_ else None,
        city=city, crs=out_crs, run_id=run_id)
    page = query_features(conn, layer, limit=n, offset=start, personal=personal, query=query)
    b = base_url(request)
    href = f"{b}/collections/{layer.name}/items"
    params = query_without(request.query_params, "limit", "offset", "f")

    def page_url(off: int, size: int, kind: str) -> str:
        return f"{href}?{urlencode({**params, 'f': kind, 'limit': size, 'offset': off})}"

    kind = "html" if fmt == "html" else "json"
    other = "json" if kind == "html" else "html"
    links = [link(page_url(start, n, kind), "self", HTML if kind == "html" else GEOJSON),
             link(page_url(start, n, other), "alternate", GEOJSON if kind == "html" else HTML),
             link(f"{b}/collections/{layer.name}", "collection", JSON)]
    if start + len(page.features) < page.number_matched:
        size = n if kind == "html" else max(n, DEFAULT_LIMIT)
        links.append(link(page_url(start + n, min(size, MAX_LIMIT), kind), "next",
                          HTML if kind == "html" else GEOJSON, "Next page"))
    if start > 0:
        links.append(link(page_url(max(0, start - n), n, kind), "prev",
                          HTML if kind == "html" else GEOJSON, "Previous page"))
    body = {"type": "FeatureCollection", "features": page.features,
            "numberMatched": page.number_matched, "numberReturned": len(page.features),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links}
    headers = {"Vary": VARY, "Content-Crs": content_crs_header(out_crs)}
    if kind == "html":
        return html.page("items", {**body, "id": layer.name, "title": layer.title(lang),
                                   "columns": list(layer.source.visible_columns(
                                       personal=personal)),
                                   "labels": layer.labels(lang)}, lang, headers=headers)
    return GeoJSONResponse(body, headers=headers)


@router.get("/collections/{collection_id}/items/{fid}", response_class=GeoJSONResponse,
            response_model=Feature,
            responses={200: {"content": {GEOJSON: {}, HTML: {}}},
                       **problems(400, 401, 403, 404, 422, 503)})
def item(request: Request, conn: ConnDep, registry: RegistryDep, user: CurrentUser,
         collection_id: str, fid: int,
         crs: Annotated[str | None, Query(max_length=200, description="Output CRS (URI)")
                        ] = None,
         f: FormatQ = None, lang: LangQ = "zh") -> Any:
    """One feature (404 problem if unknown)."""
    layer = readable_layer(registry, collection_id, user)
    fmt = output_format(request, f)
    check_parameters(request.query_params.keys(), ("crs", "f", "lang"))
    out_crs = parse_crs(crs, served_crs(conn)) if crs else CRS84
    feature = fetch_feature(conn, layer, fid, personal=sees_personal(user), crs=out_crs)
    b = base_url(request)
    href = f"{b}/collections/{layer.name}/items/{fid}"
    feature["links"] = [
        link(f"{href}?f={'html' if fmt == 'html' else 'json'}", "self",
             HTML if fmt == "html" else GEOJSON),
        link(f"{href}?f={'json' if fmt == 'html' else 'html'}", "alternate",
             GEOJSON if fmt == "html" else HTML),
        link(f"{b}/collections/{layer.name}", "collection", JSON),
    ]
    headers = {"Vary": VARY, "Content-Crs": content_crs_header(out_crs)}
    if fmt == "html":
        return html.page("item", {**feature, "collection": layer.name,
                                  "title": layer.title(lang), "labels": layer.labels(lang)},
                         lang, headers=headers)
    return GeoJSONResponse(feature, headers=headers)
