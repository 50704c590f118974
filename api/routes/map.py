"""``/map``: the planners' interactive map (Leaflet + vector tiles, served offline).

The page reads ``/layers`` for the layer control and legends, draws layers from our
``/tiles`` endpoint, and searches names through ``/search``. Vendored JS/CSS are served
from ``/static``; an online basemap is added only when ``settings.basemap_url`` is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import ConnDep, SettingsDep
from api.errors import problems
from geo.store.cities import city_extents, unknown_city

router = APIRouter(tags=["map"])

LAYERS_DIR = Path(__file__).resolve().parents[2] / "layers"
_env = Environment(loader=FileSystemLoader(LAYERS_DIR / "templates"),
                   autoescape=select_autoescape(["html"]))

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"title": "服务圈地图", "layers": "图层", "legend": "图例", "search": "按名称搜索…",
           "no_results": "未找到", "key": "API 密钥（分析人员）", "key_save": "保存",
           "key_hint": "密钥只保存在本次浏览器会话中，关闭浏览器后需重新输入",
           "switch": "English", "city": "城市", "restricted": "受限图层：需要分析人员密钥",
           "attribution": "© OpenStreetMap contributors"},
    "en": {"title": "Service circle map", "layers": "Layers", "legend": "Legend",
           "search": "Search by name…", "no_results": "Nothing found",
           "key": "API key (analysts)", "key_save": "Save",
           "key_hint": "The key is kept for this browser session only; enter it again after "
                       "closing the browser", "switch": "中文", "city": "City",
           "restricted": "Restricted layer: needs an analyst key",
           "attribution": "© OpenStreetMap contributors"},
}


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI for the OpenAPI document, from vendored assets (works offline); started
    by ``/static/docs.js``, so the page has no inline script."""
    return HTMLResponse(_env.get_template("docs.html").render(title="servicecircle API"))


def mount_static(app: FastAPI) -> None:
    """Serve ``layers/static`` (vendored Leaflet, the map's JS/CSS) at ``/static``."""
    app.mount("/static", StaticFiles(directory=LAYERS_DIR / "static"), name="static")


@router.get("/map", response_class=HTMLResponse, responses=problems(404, 422, 503))
def map_page(request: Request, conn: ConnDep, settings: SettingsDep,
             lang: Annotated[Literal["zh", "en"], Query()] = "zh",
             city: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """The interactive map; Chinese by default, ``?lang=en`` for English.

    Without ``?city=`` the first city (by code) is shown; a selector switches cities.
    """
    rows = city_extents(conn)
    cities = {code: box for code, _, _, box in rows}
    if city is not None and city not in cities:
        raise unknown_city(city, cities)
    city = city or (rows[0][0] if rows else None)
    box = cities.get(city) if city else None
    bounds = [[box[1], box[0]], [box[3], box[2]]] if box else None
    config: dict[str, Any] = {
        "lang": lang, "strings": STRINGS[lang], "basemap_url": settings.basemap_url,
        "bounds": bounds, "city": city,
        "base": str(request.base_url).rstrip("/"),
    }
    other = "en" if lang == "zh" else "zh"
    switch = urlencode({"lang": other, **({"city": city} if city else {})})
    options = [{"code": code, "name": en if lang == "en" else zh, "selected": code == city}
               for code, zh, en, _ in rows]
    html = _env.get_template("map.html").render(
        lang=lang, s=STRINGS[lang], switch=f"?{switch}", cities=options,
        config=config)
    return HTMLResponse(html)
