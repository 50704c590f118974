"""OGC API – Features: Parts 1 (core, GeoJSON, HTML, OpenAPI 3.0), 2 (CRS) and 3
(queryables, CQL2 filters), with sorting.

``collections`` holds the landing page, conformance, collections and queryables;
``items`` the features; ``html`` their HTML pages; ``openapi30`` the OpenAPI 3.0
rendition of the API definition.
"""

from fastapi import APIRouter

from api.routes.ogc import collections, items, openapi30

router = APIRouter()
router.include_router(collections.router)
router.include_router(items.router)
router.include_router(openapi30.router)
