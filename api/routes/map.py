"""``/map``: the planners' interactive map (Leaflet + vector tiles, served offline).

The page reads ``/layers`` for the layer control and legends, draws layers from our
``/tiles`` endpoint, and searches names through ``/search``. Vendored JS/CSS are served
from ``/static``; an online basemap is added only when ``settings.basemap_url`` is set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import text

from api.deps import ConnDep, SettingsDep

router = APIRouter(tags=["map"])

LAYERS_DIR = Path(__file__).resolve().parents[2] / "layers"
_env = Environment(loader=FileSystemLoader(LAYERS_DIR / "templates"),
                   autoescape=select_autoescape(["html"]))

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"title": "服务圈地图", "layers": "图层", "legend": "图例", "search": "按名称搜索…",
           "no_results": "未找到", "key": "API 密钥（分析人员）", "key_save": "保存",
           "switch": "English", "restricted": "受限图层：需要分析人员密钥",
           "attribution": "© OpenStreetMap contributors"},
    "en": {"title": "Service circle map", "layers": "Layers", "legend": "Legend",
           "search": "Search by name…", "no_results": "Nothing found",
           "key": "API key (analysts)", "key_save": "Save", "switch": "中文",
           "restricted": "Restricted layer: needs an analyst key",
           "attribution": "© OpenStreetMap contributors"},
}


def mount_static(app: FastAPI) -> None:
    """Serve ``layers/static`` (vendored Leaflet, the map's JS/CSS) at ``/static``."""
    app.mount("/static", StaticFiles(directory=LAYERS_DIR / "static"), name="static")


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, conn: ConnDep, settings: SettingsDep,
             lang: Annotated[Literal["zh", "en"], Query()] = "zh",
             city: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """The interactive map; Chinese by default, ``?lang=en`` for English."""
    row = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(bounds) AS e FROM city WHERE CAST(:c AS text) IS NULL OR code = :c) x"),
        {"c": city}).one()
    bounds = None if row[0] is None else [[row[1], row[0]], [row[3], row[2]]]
    config: dict[str, Any] = {
        "lang": lang, "strings": STRINGS[lang], "basemap_url": settings.basemap_url,
        "bounds": bounds, "city": city,
        "base": str(request.base_url).rstrip("/"),
    }
    other = "en" if lang == "zh" else "zh"
    switch = urlencode({"lang": other, **({"city": city} if city else {})})
    html = _env.get_template("map.html").render(
        lang=lang, s=STRINGS[lang], switch=f"?{switch}",
        config=json.dumps(config, ensure_ascii=False))
    return HTMLResponse(html)
