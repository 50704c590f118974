"""The nearest-station finder: public, no key (what riders and residents look up on the move).

``GET /cities/{city}/finder/nearest`` gives the ``k`` stations of a type nearest to a point
(``lon``/``lat``, EPSG:4326) or to a typed address (``q``: a compound, station or street
name of the city) along the walking or riding network, each with minutes, metres, the
route along the streets (GeoJSON LineString), opening hours and services
(:mod:`geo.finder`, run by :func:`geo.runs.run_find`); ``GET …/finder/search`` lists the
places a typed address may mean. ``/finder`` is the phone-first page using both.
The networks with their stations are kept in the app's :class:`~geo.runs.FinderCache`
while the data are unchanged, so a request costs one shortest-path search.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import CityDep, ConnDep, RegistryDep, SettingsDep
from api.errors import problems
from api.responses import JSONBody
from api.routes.map import default_city
from api.schemas import FinderAnswer, PlaceResults
from geo.domain import ServiceType, Term, station_service_term
from geo.finder import NearestStations, address_names
from geo.runs import FinderCache, FinderParams, run_find, run_search
from geo.runs.params import FINDER_MAX_K, parse
from geo.store.cities import city_extents, unknown_city
from geo.store.finder import Place
from geo.store.vocabulary import service_type_terms
from layers.maplibre import map_style
from layers.registry import Layer
from layers.styles import term_classes

router = APIRouter(tags=["finder"])

Lang = Annotated[Literal["zh", "en"], Query(description="Language of labels")]
_LOCK = threading.Lock()
_env = Environment(loader=FileSystemLoader(Path(__file__).resolve().parents[2] / "layers"
                                           / "templates"),
                   autoescape=select_autoescape(["html"]))


def finder_cache(request: Request) -> FinderCache:
    """The app's cache of networks with their stations (created on first use)."""
    state = request.app.state
    with _LOCK:
        if getattr(state, "finder_cache", None) is None:
            state.finder_cache = FinderCache()
    cache: FinderCache = state.finder_cache
    return cache


def _label(term: Term, lang: str) -> dict[str, str]:
    return {"code": term.code, "label": term.label(lang), "label_zh": term.zh,
            "label_en": term.en}


def _place(p: Place) -> dict[str, Any]:
    return {"kind": p.kind, "id": p.id, "name": p.name, "service_type": p.service_type,
            "lon": p.lon, "lat": p.lat, "matched": p.matched}


def _answer(result: NearestStations, lang: str) -> list[dict[str, Any]]:
    return [{"rank": s.rank, "id": s.station_id, "external_id": s.external_id, "name": s.name,
             "address": s.address, "opening_hours": s.opening_hours,
             "services": [_label(station_service_term(v), lang) for v in s.services],
             "metres": round(s.metres, 1), "minutes": round(s.minutes, 2),
             "lon": s.location.x, "lat": s.location.y,
             "route": {"type": "LineString",
                       "coordinates": [[round(x, 7), round(y, 7)] for x, y in s.route.coords]}}
            for s in result.stations]


@router.get("/cities/{city}/finder/nearest", response_model=FinderAnswer,
            responses=problems(404, 422, 503),
            summary="The nearest stations of a type along the streets, with routes")
def nearest(request: Request, conn: ConnDep, settings: SettingsDep, city: CityDep,
            lon: Annotated[float | None, Query(description="Longitude (EPSG:4326), with lat")]
            = None,
            lat: Annotated[float | None, Query(description="Latitude (EPSG:4326), with lon")]
            = None,
            q: Annotated[str | None, Query(max_length=100, description=(
                "Or an address: a compound, station or street name (e.g. 建设路12号)"))] = None,
            service_type: Annotated[str, Query(max_length=64, description=(
                "Station type: code, Chinese or English name (courier_station, 小哥驿站); "
                "unknown names are a 422 with close names suggested"))] = "courier_station",
            mode: Annotated[Literal["walk", "ride"], Query(description=(
                "walk, or ride (the riders' e-bike network and speed)"))] = "walk",
            k: Annotated[int, Query(ge=1, le=FINDER_MAX_K, description="How many stations")] = 3,
            lang: Lang = "zh") -> Response:
    """From a point or a typed address: the ``k`` nearest stations by network minutes,
    each with metres, the route along the streets (GeoJSON LineString, EPSG:4326),
    opening hours and services. 422 for a point outside the city or far from every
    street, an unknown type or a missing start; 404 when the address matches no place."""
    params = parse(FinderParams, lon=lon, lat=lat, q=q or None, service_type=service_type,
                   mode=mode, k=k)
    run = run_find(conn, city, params, settings, cache=finder_cache(request))
    r = run.result
    term = run.term
    return JSONBody({
        "city": city.code, "lang": lang, "service_type": _label(term, lang), "mode": r.mode,
        "speed_m_per_min": r.speed_m_per_min, "k": r.k,
        "origin": {"lon": r.origin.x, "lat": r.origin.y},
        "start": {"lon": r.start.x, "lat": r.start.y, "snap_m": round(r.snap_m, 1)},
        "place": _place(run.place) if run.place else None,
        "n_stations": r.n_stations, "n_reachable": r.n_reachable,
        "stations": _answer(r, lang)})


@router.get("/cities/{city}/finder/search", response_model=PlaceResults,
            responses=problems(404, 422, 503),
            summary="Compounds, stations and streets matching a typed address")
def search(conn: ConnDep, city: CityDep,
           q: Annotated[str, Query(min_length=1, max_length=100, description=(
               "A name or address, e.g. 锦江公寓, 建设路12号"))],
           limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """The city's places whose name matches ``q`` (as typed, then without house numbers
    or a leading city/district), best first, each with the point a route starts from."""
    found = run_search(conn, city, q, limit=limit)
    return JSONBody({"city": city.code, "q": q, "names": list(address_names(q)),
                     "results": [_place(p) for p in found]})


#: Colours of the page's own marks: the other stations' routes, the start, the white halo
#: (the chosen type's colour comes from the vocabulary).
PALETTE = {"other": "#808b96", "start": "#1a5276", "halo": "#fffffe"}

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"title": "找驿站", "search": "搜索小区、驿站或道路…", "locate": "我的位置",
           "type": "类型", "walk": "步行", "ride": "骑行", "tap": "点地图、搜索地址或用我的位置作为起点",
           "nearest": "最近的站点", "min": "分钟", "m": "米", "hours": "开放时间",
           "services": "服务", "none": "附近没有可到达的站点", "no_place": "未找到该地址",
           "locating": "正在定位…", "no_location": "无法获取位置", "loading": "正在查找…",
           "switch": "English", "from": "起点", "start": "从这里出发",
           "attribution": "© OpenStreetMap contributors", "map": "地图",
           "compound": "小区", "street": "道路", "station": "站点"},
    "en": {"title": "Find a station", "search": "Search a compound, station or street…",
           "locate": "My location", "type": "Type", "walk": "Walk", "ride": "Ride",
           "tap": "Tap the map, search an address or use your location to start",
           "nearest": "Nearest stations", "min": "min", "m": "m", "hours": "Opening hours",
           "services": "Services", "none": "No station can be reached from here",
           "no_place": "Address not found", "locating": "Finding your location…",
           "no_location": "Your location is not available", "loading": "Searching…",
           "switch": "中文", "from": "Start", "start": "Start here",
           "attribution": "© OpenStreetMap contributors", "map": "Map",
           "compound": "Compound", "street": "Street", "station": "Station"},
}


@router.get("/finder", response_class=HTMLResponse, responses=problems(404, 422, 503))
def finder_page(request: Request, conn: ConnDep, settings: SettingsDep,
                registry: RegistryDep, lang: Lang = "zh",
                city: Annotated[str | None, Query(max_length=64)] = None,
                service_type: Annotated[str | None, Query(max_length=64)] = None
                ) -> HTMLResponse:
    """The phone-first finder page: a map of the city's streets and stations, a search
    box, "my location", tap on the map; the nearest stations with their routes."""
    rows = city_extents(conn)
    if city is not None and city not in {r[0] for r in rows}:
        raise unknown_city(city, [r[0] for r in rows])
    city = city or default_city(rows, settings)
    box = next((b for code, _, _, b in rows if code == city), None)
    terms = service_type_terms(conn)
    chosen = service_type if service_type in {t.code for t in terms} else \
        ServiceType.COURIER_STATION.value
    types = term_classes(terms)
    base = str(request.base_url).rstrip("/")

    def classes_for(layer: Layer) -> Any:
        return types if layer.style.property == "type" else layer.style.classes

    center = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) if box else None
    style = map_style(registry, base=base, city=city, lang=lang,
                      readable=lambda layer: layer.name == "service_points",
                      classes_for=classes_for, selection={}, center=center, zoom=14)
    config = {"lang": lang, "city": city, "strings": STRINGS[lang], "style": style,
              "palette": PALETTE,
              "bounds": [[box[1], box[0]], [box[3], box[2]]] if box else None,
              "service_type": chosen, "k": 3, "max_k": FINDER_MAX_K,
              "worker": "/static/vendor/maplibre/maplibre-gl-csp-worker.js"}
    other = "en" if lang == "zh" else "zh"
    switch = urlencode({"lang": other, **({"city": city} if city else {})})
    return HTMLResponse(_env.get_template("finder.html").render(
        lang=lang, s=STRINGS[lang], switch=f"?{switch}", config=config))
