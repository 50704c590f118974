"""``/map``: the planners' interactive map (MapLibre GL JS + our vector tiles, offline).

The page loads the city's MapLibre style (``/map/style.json``, built from the layer
catalogue by :mod:`layers.maplibre`, reusable by other MapLibre or QGIS users), reads
``/layers`` and ``/vocabulary`` for its panels and legend, and searches names through
``/search``. Vendored JS/CSS are served from ``/static``; the basemap is the city's own
OpenStreetMap extract unless an online one is configured (:mod:`layers.basemaps`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import ConnDep, CurrentUser, RegistryDep, SettingsDep, sees_personal
from api.errors import problems
from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.settings import Settings
from geo.store.cities import city_extents, get_city, unknown_city
from geo.store.coverage import latest_run, run_contents
from geo.store.vocabulary import service_type_terms
from layers.basemaps import online_basemap
from layers.legend import LegendClass
from layers.maplibre import map_style
from layers.registry import Layer
from layers.styles import VOCABULARY_COLUMNS, term_classes

router = APIRouter(tags=["map"])

LAYERS_DIR = Path(__file__).resolve().parents[2] / "layers"
_env = Environment(loader=FileSystemLoader(LAYERS_DIR / "templates"),
                   autoescape=select_autoescape(["html"]))

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"title": "服务圈地图", "layers": "图层", "legend": "图例", "search": "按名称搜索…",
           "no_results": "未找到", "key": "API 密钥（分析人员）", "key_save": "保存",
           "key_hint": "密钥只保存在本次浏览器会话中，关闭浏览器后需重新输入",
           "switch": "English", "city": "城市", "restricted": "受限图层：需要分析人员密钥",
           "attribution": "© OpenStreetMap contributors", "panel": "图层与图例",
           "bad_key": "API 密钥无效或已被吊销：已按未登录方式显示公开图层。请检查密钥后重新保存。"},
    "en": {"title": "Service circle map", "layers": "Layers", "legend": "Legend",
           "search": "Search by name…", "no_results": "Nothing found",
           "key": "API key (analysts)", "key_save": "Save",
           "key_hint": "The key is kept for this browser session only; enter it again after "
                       "closing the browser", "switch": "中文", "city": "City",
           "restricted": "Restricted layer: needs an analyst key",
           "attribution": "© OpenStreetMap contributors", "panel": "Layers and legend",
           "bad_key": "The API key is wrong or revoked: public layers are shown as for "
                      "anonymous users. Check the key and save it again."},
}


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI for the OpenAPI document, from vendored assets (works offline); started
    by ``/static/docs.js``, so the page has no inline script."""
    return HTMLResponse(_env.get_template("docs.html").render(title="servicecircle API"))


def mount_static(app: FastAPI) -> None:
    """Serve ``layers/static`` (vendored MapLibre GL JS, the map's JS/CSS) at ``/static``."""
    app.mount("/static", StaticFiles(directory=LAYERS_DIR / "static"), name="static")


def default_city(rows: list[tuple[str, str, str, Any]], settings: Settings) -> str | None:
    """The city ``/map`` opens on without ``?city=``: ``settings.default_city`` if it
    exists, else the first demo city present, else the first city by code."""
    from geo.demo import DEMO_CITIES

    codes = [code for code, *_ in rows]
    for code in (settings.default_city, *DEMO_CITIES, *codes):
        if code and code in codes:
            return code
    return None


def _city_or_default(conn: Any, settings: Settings, city: str | None
                     ) -> tuple[str | None, list[tuple[str, str, str, Any]]]:
    rows = city_extents(conn)
    if city is not None and city not in {r[0] for r in rows}:
        raise unknown_city(city, [r[0] for r in rows])
    return city or default_city(rows, settings), rows


def coverage_contents(conn: Any, city: str | None) -> dict[str, list[Any]] | None:
    """Service types and minutes of the city's latest coverage run (None: no run), so the
    map's numbers panel asks only for what the run holds."""
    if city is None:
        return None
    try:
        city_id = get_city(conn, city).id
        run = latest_run(conn, city_id)
    except NotFoundError:
        return None
    types, minutes, _ = run_contents(conn, city_id, run["id"])
    return {"service_types": sorted(set(types)), "minutes": sorted(set(minutes))}


@router.get("/map", response_class=HTMLResponse, responses=problems(404, 422, 503))
def map_page(request: Request, conn: ConnDep, settings: SettingsDep,
             lang: Annotated[Literal["zh", "en"], Query()] = "zh",
             city: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """The interactive map; Chinese by default, ``?lang=en`` for English.

    Without ``?city=`` the default city is shown (``SERVICECIRCLE_DEFAULT_CITY``, else the
    first demo city); a selector switches cities.
    """
    city, rows = _city_or_default(conn, settings, city)
    cities = {code: box for code, _, _, box in rows}
    box = cities.get(city) if city else None
    bounds = [[box[1], box[0]], [box[3], box[2]]] if box else None
    query = {"lang": lang, **({"city": city} if city else {})}
    config: dict[str, Any] = {
        "lang": lang, "strings": STRINGS[lang], "basemap_url": settings.basemap_url,
        "bounds": bounds, "city": city, "coverage": coverage_contents(conn, city),
        "base": str(request.base_url).rstrip("/"),
        "style": f"/map/style.json?{urlencode(query)}",
        "worker": "/static/vendor/maplibre/maplibre-gl-csp-worker.js",
    }
    other = "en" if lang == "zh" else "zh"
    switch = urlencode({"lang": other, **({"city": city} if city else {})})
    options = [{"code": code, "name": en if lang == "en" else zh, "selected": code == city}
               for code, zh, en, _ in rows]
    html = _env.get_template("map.html").render(
        lang=lang, s=STRINGS[lang], switch=f"?{switch}", cities=options,
        config=config)
    return HTMLResponse(html)


@router.get("/map/style.json", responses=problems(401, 404, 422, 503))
def style_json(request: Request, conn: ConnDep, settings: SettingsDep, registry: RegistryDep,
               user: CurrentUser,
               lang: Annotated[Literal["zh", "en"], Query()] = "zh",
               city: Annotated[str | None, Query(max_length=64)] = None,
               service_type: Annotated[str | None, Query(max_length=64)] = None,
               minutes: Annotated[int | None, Query()] = None) -> dict[str, Any]:
    """The MapLibre style (spec v8) of a city: the basemap and every layer the caller may
    read, styled from the layer catalogue, with absolute tile URLs.

    ``service_type`` and ``minutes`` select the coverage layers' tiles (default: the
    map's default service type and the life circle). Load it in MapLibre
    (``new maplibregl.Map({style: …})``) or in QGIS (vector tiles, "load style").
    """
    from geo.domain import DEFAULT_SERVICE_TYPE, LIFE_CIRCLE_MINUTES, WALK_MINUTES

    city, rows = _city_or_default(conn, settings, city)
    terms = service_type_terms(conn)
    codes = [t.code for t in terms]
    problems_: list[Problem] = []
    if service_type is not None and service_type not in codes:
        problems_.append(Problem(f"{service_type!r} is not one of {', '.join(codes)}",
                                 field="service_type"))
    if minutes is not None and minutes not in WALK_MINUTES:
        problems_.append(Problem(f"{minutes} is not one of "
                                 f"{', '.join(map(str, WALK_MINUTES))}", field="minutes"))
    if problems_:
        raise InvalidInputError("invalid style selection", problems_)
    selection: dict[str, str | int] = {
        "service_type": service_type or (DEFAULT_SERVICE_TYPE if DEFAULT_SERVICE_TYPE in codes
                                         else codes[0] if codes else ""),
        "minutes": minutes or LIFE_CIRCLE_MINUTES}
    types = term_classes(terms)

    def classes_for(layer: Layer) -> tuple[LegendClass, ...]:
        st = layer.style
        if st.classify == "categorical" and VOCABULARY_COLUMNS.get(st.property or "") == \
                "service_types":
            return types
        return st.classes

    def readable(layer: Layer) -> bool:
        return layer.public or sees_personal(user)

    box = next((b for code, _, _, b in rows if code == city), None)
    center = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) if box else None
    return map_style(registry, base=str(request.base_url).rstrip("/"), city=city, lang=lang,
                     readable=readable, classes_for=classes_for, selection=selection,
                     center=center, online=online_basemap(settings, center=center))
