"""Errors of the browser routes as HTML pages, not problem JSON.

The pages people open in a browser (``/map``, ``/docs``, a siting scenario's
``report.html``) answer their errors with a small styled page in Chinese (``?lang=en``:
English) saying what went wrong and linking the close names the error suggests (a city
``guixii`` → ``/map?city=guixi``). The page runs no script and loads nothing (its own
Content-Security-Policy, :data:`api.security.ERROR_PAGE_CSP`). API routes keep
``application/problem+json`` (:mod:`api.errors`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.security import ERROR_PAGE_CSP

TEMPLATES = Path(__file__).resolve().parents[1] / "layers" / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

#: Query parameter a suggestion replaces, per error code.
SUGGESTED_PARAMETER = {"unknown-city": "city", "unknown-service-type": "service_type",
                       "unknown-category": "categories", "unavailable-threshold": "minutes"}

#: What went wrong, in Chinese, per error code (the detail below it is the service's own
#: English text).
ZH_SUMMARY = {"unknown-city": "没有这个城市代码。", "not-found": "没有找到所请求的内容。",
              "unknown-service-type": "没有这个服务类型。", "unknown-category": "没有这个事件类别。",
              "unavailable-threshold": "该分析没有计算这个步行时间阈值。",
              "invalid-parameter": "请求参数有误。", "invalid-input": "请求参数有误。",
              "unauthorized": "需要 API 密钥。", "forbidden": "API 密钥的权限不足。",
              "internal": "服务器内部错误。"}

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"did_you_mean": "您要找的是不是：", "or": "、", "home": "返回地图",
           "switch": "English", "code": "错误代码",
           "404": "没有找到", "422": "参数有误", "401": "需要 API 密钥",
           "403": "权限不足", "503": "服务暂时不可用", "error": "出错了"},
    "en": {"did_you_mean": "Did you mean:", "or": " or ", "home": "Back to the map",
           "switch": "中文", "code": "Error code",
           "404": "Not found", "422": "Invalid parameters", "401": "API key needed",
           "403": "Not allowed", "503": "Service unavailable", "error": "Something went wrong"},
}


def is_page(path: str) -> bool:
    """Whether ``path`` is a page people open in a browser (errors answered as HTML)."""
    return path in ("/map", "/docs") or (path.startswith("/cities/")
                                         and path.endswith("/report.html"))


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _with(request: Request, **changes: str) -> str:
    params = dict(request.query_params) | changes
    return f"{request.url.path}?{urlencode(params)}"


def error_page(request: Request, problem: dict[str, Any], *, status: int,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """The HTML page of a problem body (``title``, ``detail``, ``code``, ``errors``,
    ``suggestions``), with the problem's status and headers (``Retry-After`` …)."""
    lang = _lang(request)
    s = STRINGS[lang]
    code = str(problem.get("code", "error"))
    param = SUGGESTED_PARAMETER.get(code)
    suggestions = [{"text": str(v), "href": _with(request, **{param: str(v)})
                    if param else None} for v in problem.get("suggestions") or ()]
    errors = [{"field": e.get("field"), "reason": e.get("reason")}
              for e in problem.get("errors") or ()]
    html = _env.get_template("error.html").render(
        lang=lang, s=s | {"heading": s.get(str(status), s["error"])}, status=status,
        summary=ZH_SUMMARY.get(code) if lang == "zh" else None,
        detail=problem.get("detail") or problem.get("title"), errors=errors,
        suggestions=suggestions, code=code,
        home="/map" + ("?lang=en" if lang == "en" else ""),
        switch=_with(request, lang="zh" if lang == "en" else "en"))
    keep = {k: v for k, v in (headers or {}).items()
            if k.lower() in ("retry-after", "www-authenticate")}
    return HTMLResponse(html, status_code=status,
                        headers=keep | {"Content-Security-Policy": ERROR_PAGE_CSP})


def as_page(request: Request, response: Response) -> Response:
    """``response`` (a problem) as an HTML page when ``request`` is for a browser route;
    unchanged otherwise."""
    if not is_page(request.url.path):
        return response
    body = json.loads(bytes(response.body))
    return error_page(request, body, status=response.status_code, headers=dict(response.headers))
