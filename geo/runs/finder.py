"""Nearest-station finder runs: one request, answered from a cached station set.

:func:`run_find` resolves the start (a point inside the city, or a typed address found
among the city's own names, :func:`run_search`), reads — or takes from a
:class:`FinderCache` — the network of the mode with the stations of the type snapped on
it (:class:`geo.finder.StationSet`) and answers with :func:`geo.finder.nearest_stations`.
The cache is keyed by the city, type, mode, speed, snap distance and the data version of
the tables read, so a data change is seen at the next request; a long-running service
keeps one (a request then costs one Dijkstra, not a network build). Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from sqlalchemy import Connection

from geo import vocab
from geo.domain import Term
from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.finder import NearestStations, StationSet, address_names, nearest_stations
from geo.io.validate import BOUNDS_MARGIN_DEG
from geo.network.graph import Mode
from geo.runs.base import city_of
from geo.runs.params import FinderParams
from geo.settings import Settings
from geo.store.cache import SizedLRU
from geo.store.cities import City, all_versions
from geo.store.finder import Place, read_stations, search_places
from geo.store.network import read_network
from geo.store.vocabulary import service_type_terms

#: Tables a station set is built from (their change counters key the cache).
FINDER_TABLES = ("street_edge", "street_node", "service_point", "city")
#: Memory the default cache may hold (bytes).
DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


class FinderCache(SizedLRU[StationSet]):
    """A thread-safe LRU of station sets, bounded in bytes (:attr:`StationSet.nbytes`)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES, *, max_entries: int = 64) -> None:
        super().__init__(max_bytes, size_of=lambda s: s.nbytes, max_entries=max_entries)


@dataclass(frozen=True)
class FinderRun:
    """One answer: the city, the resolved type (its code and :class:`~geo.domain.Term`),
    the place an address resolved to (None for a point), the stations found and whether
    the station set came from the cache."""

    city: City
    service_type: str
    term: Term
    place: Place | None
    result: NearestStations
    cached: bool


def speed_for(mode: Mode, settings: Settings) -> float:
    """The deployment's speed of ``mode`` (m/min)."""
    return settings.ride_speed_m_per_min if mode == "ride" else settings.walk_speed_m_per_min


def finder_stations(conn: Connection, city: City, service_type: str, mode: Mode, *,
                    settings: Settings, cache: FinderCache | None = None
                    ) -> tuple[StationSet, bool]:
    """The stations of ``service_type`` (a code) on ``city``'s ``mode`` network, and
    whether they came from ``cache``. :class:`NotFoundError` if the city has none."""
    speed = speed_for(mode, settings)
    versions = all_versions(conn)  # one query; a table never changed counts as 0
    key = (city.id, service_type, mode, speed, settings.max_snap_m,
           tuple(versions.get(t, 0) for t in FINDER_TABLES))
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit, True
    stations = read_stations(conn, city.id, service_type)
    if len(stations) == 0:
        raise NotFoundError(f"city {city.code!r} has no {service_type} stations",
                            code="no-stations")
    net = read_network(conn, city.id, mode=mode, speed_m_per_min=speed,
                       metric_epsg=city.metric_epsg)
    out = StationSet.from_frame(net, stations, max_snap_m=settings.max_snap_m)
    if cache is not None:
        cache.put(key, out)
    return out, False


def run_search(conn: Connection, city: City | str | int, q: str, *, limit: int = 10
               ) -> list[Place]:
    """Compounds, stations and streets of ``city`` whose name matches the typed address
    ``q`` (:func:`geo.finder.address_names`: as typed, then without house numbers or a
    leading city/district), best first."""
    c = city_of(conn, city)
    names = address_names(q)
    if not names:
        raise InvalidInputError("empty search", [Problem("type a name or address", field="q")])
    return search_places(conn, c.id, names, limit=limit)


def resolve_place(conn: Connection, city: City, q: str) -> Place:
    """The best place of ``city`` for address ``q``; :class:`NotFoundError` (``no-place``)
    when no compound, station or street name matches."""
    found = run_search(conn, city, q, limit=1)
    if not found:
        raise NotFoundError(f"no compound, station or street of {city.code!r} matches {q!r}",
                            code="no-place")
    return found[0]


def check_inside(city: City, lon: float, lat: float) -> None:
    """:class:`InvalidInputError` (``outside-city``) unless (lon, lat) lies in the city's
    bounds widened by the margin imports allow (:data:`geo.io.validate.BOUNDS_MARGIN_DEG`,
    ≈ 500 m: the streets at the edge overhang the bounds a little)."""
    zone = shapely.buffer(city.bounds, BOUNDS_MARGIN_DEG, join_style="mitre")
    if not zone.covers(shapely.Point(lon, lat)):
        x0, y0, x1, y1 = city.bounds.bounds
        raise InvalidInputError(
            f"the point ({lon:g}, {lat:g}) is outside {city.code!r} (lon {x0:g}–{x1:g}, "
            f"lat {y0:g}–{y1:g}, ± {BOUNDS_MARGIN_DEG:g}°)",
            [Problem("outside the city", field=f) for f in ("lon", "lat")], code="outside-city")


def run_find(conn: Connection, city: City | str | int, params: FinderParams | None = None,
             settings: Settings | None = None, *, cache: FinderCache | None = None
             ) -> FinderRun:
    """The ``params.k`` stations of ``params.service_type`` nearest to the start along the
    ``params.mode`` network (walking or riding speed from ``settings``). Never writes."""
    params = params or FinderParams()
    settings = settings or Settings()
    c = city_of(conn, city)
    start = params.start()
    place = None
    if start is None:
        place = resolve_place(conn, c, params.q or "")
        start = (place.lon, place.lat)
    check_inside(c, *start)
    terms = service_type_terms(conn)
    service_type = vocab.resolve_service_type(params.service_type, terms)
    term = next(t for t in terms if t.code == service_type)
    stations, cached = finder_stations(conn, c, service_type, params.mode, settings=settings,
                                       cache=cache)
    result = nearest_stations(stations, *start, k=params.k)
    return FinderRun(city=c, service_type=service_type, term=term, place=place, result=result,
                     cached=cached)
