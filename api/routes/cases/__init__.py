"""Grid-case aggregates: hexagon counts, per-grid closure, trends, hot spots, raw points.

One router, ``/cities/{city}/cases``, from the modules named for what they serve:
:mod:`~api.routes.cases.selection` (which cases a caller may see, the shared query
parameters), :mod:`~api.routes.cases.counts` (``/hexes``, ``/grids``, ``/trends``),
:mod:`~api.routes.cases.hotspots` (``/hotspots``, ``/comparison``, ``/density``) and
:mod:`~api.routes.cases.points` (``/points``).

Everything except ``/points`` is aggregated. Callers below the analyst role (anonymous or
viewer keys) get public output under the one rule of :mod:`geo.cases.privacy`: windows widened
to whole calendar months (China Standard Time, complete months only; the effective window
is in ``meta``), counts that are sums of released unit-months of at least
``settings.min_public_case_count`` cases, counts over all categories (a category filter on
counts needs the analyst role), parts of a grid's cases below the minimum withheld, and
hot-spot statistics reduced to their confidence bin. Raw case points need the analyst role
(401 without a key, 403 for a viewer key).

Density, hot spots and comparisons are expensive (:mod:`api.expensive`): parameters are
bounded before computing (422), results cached by data version, and each client may run
only a few at once (429 with ``Retry-After``).

Windows are half-open ``[start, end)`` on the report time; ``start``/``end`` are ISO dates
or date-times, read in China Standard Time (UTC+8) when they carry no offset.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import problems
from api.routes.cases import counts, hotspots, points

router = APIRouter(prefix="/cities/{city}/cases", tags=["cases"],
                   responses=problems(401, 404, 422, 503))
for _part in (counts, hotspots, points):
    router.include_router(_part.router)
