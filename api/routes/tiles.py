"""Vector tiles ``/tiles/{layer}/{z}/{x}/{y}.mvt`` and TileJSON 3.0.0 per layer.

Rules: z/x/y are checked before any SQL (bad value → 422 problem); a zoom outside the
layer's ``minzoom..maxzoom`` → 404 problem; a tile without features → **204 No Content**
(with ETag and Cache-Control like any tile). Tiles are cached in process, keyed by layer,
z/x/y, city, personal-attribute access and the ``layer_version`` counters of the layer's
tables, so any data change serves fresh tiles. ``If-None-Match`` → 304.
Restricted layers need an analyst key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import text

from api.deps import ConnDep, CurrentUser, RegistryDep, readable_layer, sees_personal
from geo.errors import NotFoundError
from geo.store.features import layer_extent
from geo.store.tiles import BUFFER, EXTENT, TileCache, render_tile, source_versions, validate_tile

router = APIRouter(tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE = 60


def _tile_cache(request: Request) -> TileCache:
    return request.app.state.tile_cache  # type: ignore[no-any-return]


@router.get("/tiles/{layer}/{z}/{x}/{y}.mvt", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "Empty tile"},
                       304: {"description": "Not modified"}})
def tile(request: Request, conn: ConnDep, registry: RegistryDep, user: CurrentUser,
         layer: str, z: int, x: int, y: int,
         city: Annotated[str | None, Query(description="City code")] = None) -> Response:
    """One Mapbox vector tile (extent 4096, buffer 64) of ``layer``, EPSG:3857 XYZ scheme."""
    validate_tile(z, x, y)
    lyr = readable_layer(registry, layer, user)
    personal = sees_personal(user) and bool(lyr.source.personal)
    city_id = None
    if city is not None:
        city_id = conn.execute(text("SELECT id FROM city WHERE code = :c"),
                               {"c": city}).scalar_one_or_none()
        if city_id is None:
            raise NotFoundError(f"no city {city!r}")
    key = (lyr.name, z, x, y, city_id, personal, source_versions(conn, lyr))
    cache = _tile_cache(request)
    hit = cache.get(key)
    if hit is None:
        hit = cache.put(key, render_tile(conn, lyr, z, x, y, personal=personal, city_id=city_id))
    data, etag = hit
    scope = "public" if lyr.public else "private"
    headers = {"ETag": etag, "Cache-Control": f"{scope}, max-age={MAX_AGE}",
               "Vary": "X-API-Key, Authorization"}
    inm = request.headers.get("if-none-match")
    if inm and etag in [t.strip().removeprefix("W/") for t in inm.split(",")]:
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/tiles/{layer}/tilejson.json")
def tilejson(request: Request, conn: ConnDep, registry: RegistryDep, user: CurrentUser,
             layer: str) -> dict[str, Any]:
    """TileJSON 3.0.0 of ``layer`` (one vector layer named after it)."""
    lyr = registry.get(layer)
    base = str(request.base_url).rstrip("/")
    bounds = layer_extent(conn, lyr) or (-180.0, -85.0511, 180.0, 85.0511)
    columns = lyr.source.visible_columns(personal=sees_personal(user))
    center_zoom = max(lyr.minzoom, min(14, lyr.maxzoom))
    return {
        "tilejson": "3.0.0",
        "name": lyr.name,
        "description": f"{lyr.title_zh} / {lyr.title_en}",
        "attribution": "© OpenStreetMap contributors",
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{lyr.name}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": lyr.minzoom,
        "maxzoom": lyr.maxzoom,
        "bounds": list(bounds),
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, center_zoom],
        "vector_layers": [{"id": lyr.name, "description": lyr.title_en,
                           "minzoom": lyr.minzoom, "maxzoom": lyr.maxzoom,
                           "fields": {c: c for c in columns}}],
        "extent": EXTENT,
        "buffer": BUFFER,
        "empty_tile": "204 No Content",
        "access": "public" if lyr.public else "analyst",
    }
