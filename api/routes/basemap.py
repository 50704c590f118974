"""``/tiles/basemap/{z}/{x}/{y}.mvt``: the offline basemap as one vector tile source.

One tile holds every basemap layer of the catalogue (group ``basemap``: built-up areas,
green, water, waterways, buildings, roads, place names) as MVT layers named after them,
rendered and cached like any layer tile (:mod:`api.routes.tiles`), so a map needs one
request per tile for its whole basemap. Public, © OpenStreetMap contributors.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import RegistryDep
from api.errors import problems
from api.routes.tiles import MAX_AGE, MVT, cached_tile, tile_response, tile_state
from geo.store.tiles import validate_tile
from layers.registry import Layer, Registry

router = APIRouter(tags=["tiles"])

GROUP = "basemap"


def basemap_layers(registry: Registry, z: int | None = None) -> list[Layer]:
    """The basemap layers of the catalogue, bottom to top (those drawn at zoom ``z``)."""
    return [lyr for lyr in registry if lyr.group == GROUP
            and (z is None or lyr.minzoom <= z <= lyr.maxzoom)]


@router.get("/tiles/basemap/{z}/{x}/{y}.mvt", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "Empty tile"},
                       304: {"description": "Not modified"}, **problems(404, 422, 503)})
async def basemap_tile(request: Request, registry: RegistryDep, z: int, x: int, y: int,
                       city: Annotated[str | None, Query(description="City code")] = None
                       ) -> Response:
    """One vector tile of the basemap (every basemap layer drawn at ``z``), EPSG:3857 XYZ."""
    validate_tile(z, x, y)
    versions, city_id = await tile_state(request, city)
    parts = [await cached_tile(request, lyr, z, x, y, personal=False, city_id=city_id,
                               versions=versions) for lyr in basemap_layers(registry, z)]
    data = b"".join(p[0] for p in parts)  # MVT layers concatenate into one tile
    etag = '"' + "-".join(p[1].strip('"')[:8] for p in parts) + '"'
    return tile_response(request, data, etag, {"Cache-Control": f"public, max-age={MAX_AGE}"})
