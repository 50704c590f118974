"""HTML pages of the OGC API resources (OGC API – Features Part 1 "HTML" class).

Server-rendered Jinja templates (``layers/templates/ogc``), autoescaped, with no script;
the page's Content-Security-Policy (:data:`api.security.OGC_HTML_CSP`) allows only the
stylesheet of this origin. Chinese by default, English with ``?lang=en``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.security import OGC_HTML_CSP

TEMPLATES = Path(__file__).resolve().parents[3] / "layers" / "templates" / "ogc"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"landing": "服务圈 OGC API", "conformance": "符合性类别", "collections": "数据集",
           "collection": "数据集", "items": "要素", "item": "要素", "queryables": "可查询属性",
           "links": "链接", "extent": "范围", "temporal": "时间范围", "crs": "坐标参考系",
           "matched": "匹配要素数", "returned": "本页要素数", "next": "下一页",
           "prev": "上一页", "property": "属性", "value": "值", "type": "类型",
           "geometry": "几何", "switch": "English", "map": "交互地图",
           "restricted": "受限：读取要素需要分析人员密钥", "json": "JSON",
           "attribution": "© OpenStreetMap contributors"},
    "en": {"landing": "servicecircle OGC API", "conformance": "Conformance classes",
           "collections": "Collections", "collection": "Collection", "items": "Features",
           "item": "Feature", "queryables": "Queryables", "links": "Links",
           "extent": "Extent", "temporal": "Time span", "crs": "Coordinate reference systems",
           "matched": "Features matched", "returned": "Features on this page",
           "next": "Next page", "prev": "Previous page", "property": "Property",
           "value": "Value", "type": "Type", "geometry": "Geometry", "switch": "中文",
           "map": "Interactive map",
           "restricted": "Restricted: reading features needs an analyst key", "json": "JSON",
           "attribution": "© OpenStreetMap contributors"},
}


def page(name: str, doc: dict[str, Any], lang: str, *,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    """The HTML rendition of the JSON document ``doc`` of resource ``name``."""
    strings = STRINGS["en" if lang == "en" else "zh"]
    body = _env.get_template(f"{name}.html").render(doc=doc, s=strings, lang=lang,
                                                     other="zh" if lang == "en" else "en")
    return HTMLResponse(body, headers={**(headers or {}),
                                       "Content-Security-Policy": OGC_HTML_CSP})
