"""One-page printable siting report (HTML, and PDF through headless Chromium).

The page holds the scenario's headline figures, whom the demand counts and how fast they
walk (:class:`~geo.siting.scenario.SitingDemand`: "60岁以上居民，步行60米/分钟" for an
elderly canteen, with the circle in metres), the ranked proposal table (site, newly
covered demand, compounds brought inside, cost where given) and a before/after map
drawn as inline SVG on the city's stored OpenStreetMap basemap (no tiles, so it prints
offline; :mod:`geo.siting.reportmap`): streets and place names, compounds covered before
(green), brought inside by the proposals (orange), still outside (red), the proposals'
walking circles, existing stations (outlined squares in their type's colour,
:mod:`geo.domain`) and proposed sites (numbered circles), a scale bar and a north arrow.
The title is in words ("贵溪 新建红色驿站5处 方案") with its English equivalent below;
Chinese labels with English alongside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import jinja2
import shapely
from markupsafe import Markup

from geo.domain import PROPOSED_SITE_COLOR, Term, service_type_term
from geo.settings import DEFAULT_WALK_SPEED_M_PER_MIN
from geo.siting.pdf import chromium_path, render_pdf
from geo.siting.reportmap import COLORS, report_map
from geo.siting.scenario import SitingDemand, siting_demand

MAP_W, MAP_H = 680, 500
__all__ = ["REPORT_CSP", "ReportData", "chromium_path", "render_html", "render_pdf"]


@dataclass(frozen=True)
class ReportData:
    """What a report shows. ``compounds`` need ``covered_before``/``covered_after``;
    ``sites`` need ``rank, candidate, kind, name, gain, demand_inside, cost``. ``demand``:
    whom the figures count and how fast they walk (the run layer passes the scenario's;
    without it, the type's at the default walking speed,
    :data:`geo.settings.DEFAULT_WALK_SPEED_M_PER_MIN`)."""

    title: str
    city_name: str
    service_type: str
    minutes: float
    weight: str
    total_weight: float
    before_weight: float
    after_weight: float
    sites: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame | None = None
    stations: gpd.GeoDataFrame | None = None
    solver: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    #: (zh, en) labels of a service type added at run time, as its lookup-table row has
    #: them; built-in types take theirs from :data:`geo.domain.SERVICE_TYPES`.
    type_labels: tuple[str, str] | None = None
    #: The title in English words, printed under the title.
    title_en: str = ""
    #: The proposed sites' walking circles (``site`` = position in ``sites``, polygons).
    circles: gpd.GeoDataFrame | None = None
    #: The city's stored OpenStreetMap basemap (:func:`geo.store.basemap.read_stored_basemap`).
    basemap: gpd.GeoDataFrame | None = None
    demand: SitingDemand | None = None

    def walkers(self) -> SitingDemand:
        """``demand``, or the type's walkers at the default walking speed."""
        return self.demand or siting_demand(self.service_type, self.weight,
                                            default_speed_m_per_min=DEFAULT_WALK_SPEED_M_PER_MIN)


#: The report loads nothing and runs nothing: even markup slipped into a name stays inert.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'")

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string("""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<title>{{ d.title }}</title>
<style>
@page { size: A4; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif;
       font-size: 10.5pt; color: #222; margin: 0; }
h1 { font-size: 16pt; margin: 0 0 1mm; } .en { color: #666; font-size: 9pt; }
.title-en { font-size: 11pt; color: #444; margin: 0 0 1mm; }
.figs { display: flex; gap: 4mm; margin: 2mm 0; }
.fig { border: 1px solid #ccc; border-radius: 2mm; padding: 2mm 3mm; flex: 1; }
.fig b { font-size: 14pt; display: block; }
table { border-collapse: collapse; width: 100%; margin-top: 2mm; font-size: 9pt; }
th, td { border-bottom: 1px solid #ddd; padding: 0.8mm 1.5mm; text-align: right; }
th { line-height: 1.15; } th .en { font-size: 7.5pt; font-weight: normal; }
td:nth-child(3), td:nth-child(6), td:nth-child(7) { white-space: nowrap; }
th:nth-child(2), td:nth-child(2), th:nth-child(3), td:nth-child(3) { text-align: left; }
td:nth-child(2) { min-width: 40mm; } td:nth-child(3) { min-width: 28mm; }
th { background: #f3f3f3; font-weight: 600; }
svg { border: 1px solid #ccc; margin-top: 2mm; }
.legend span { display: inline-block; margin-right: 4mm; }
.sw { display: inline-block; width: 3mm; height: 3mm; margin-right: 1mm; vertical-align: middle; }
footer { color: #777; font-size: 8pt; margin-top: 2mm; }
</style></head><body>
<h1>{{ d.title }}</h1>
{% if d.title_en %}<div class="title-en">{{ d.title_en }}</div>{% endif %}
<div class="en">{{ d.city_name }} · {{ type_zh }} {{ type_en }} · {{ '%g' % d.minutes }} 分钟步行服务圈
 ({{ '%g' % d.minutes }}-minute walking circle) · 需求 demand: {{ walk_zh }}，{{ '%g' % d.minutes }}分钟{{ budget }}米
 ({{ walk_en }}: {{ budget }} m in {{ '%g' % d.minutes }} min)</div>
<div class="figs">
 <div class="fig">现状覆盖 Covered now<b>{{ fmt(d.before_weight) }}</b>{{ pct(d.before_weight) }}</div>
 <div class="fig">新增覆盖 Newly covered<b>+{{ fmt(d.after_weight - d.before_weight) }}</b>
   {{ n_sites }} 个新站点 new sites</div>
 <div class="fig">方案后覆盖 Covered after<b>{{ fmt(d.after_weight) }}</b>{{ pct(d.after_weight) }}</div>
 <div class="fig">总{{ w_zh }} Total<b>{{ fmt(d.total_weight) }}</b>&nbsp;</div>
</div>
<table><thead><tr><th>排名<br><span class="en">Rank</span></th><th>站点<br><span class="en">Site</span></th>
<th>类型<br><span class="en">Kind</span></th>
<th>新增覆盖{{ w_zh }}<br><span class="en">Newly covered</span></th>
<th>新纳入小区<br><span class="en">Compounds in</span></th>
<th>费用<br><span class="en">Cost</span></th><th>经纬度<br><span class="en">Lon, lat</span></th></tr></thead>
<tbody>{% for r in rows %}<tr><td>{{ r.rank }}</td><td>{{ r.label }}</td><td>{{ r.kind }}</td>
<td>{{ fmt(r.gain) }}</td><td>{{ r.demand_inside }}</td><td>{{ r.cost }}</td>
<td>{{ '%.5f,%.5f' % (r.lon, r.lat) }}</td></tr>{% endfor %}</tbody></table>
{{ svg }}
<div class="legend"><span><i class="sw" style="background:{{ colors.before }}"></i>现状已覆盖 covered before</span>
<span><i class="sw" style="background:{{ colors.after }}"></i>新纳入 brought inside</span>
<span><i class="sw" style="background:{{ colors.outside }}"></i>仍未覆盖 still outside</span>
{% if d.circles is not none %}<span><i class="sw" style="border:1px dashed {{ proposed_color }}"></i>新站点{{ '%g' % d.minutes }}分钟步行圈 walking circle</span>{% endif %}
<span><i class="sw" style="background:{{ type_color }};outline:1px solid #222"></i>现有站点 existing stations</span>
<span><i class="sw" style="background:{{ proposed_color }};border-radius:50%"></i>建议新站点 proposed</span>
</div>
<footer>{{ solver_line }} · {{ d.created_at }} · 底图数据 Map data © OpenStreetMap contributors</footer>
</body></html>
""")


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if math.isfinite(v) else "—"


def _svg(d: ReportData) -> Markup:
    """The report map as inline SVG (:func:`geo.siting.reportmap.report_map`)."""
    return report_map(d.sites, compounds=d.compounds, stations=d.stations, circles=d.circles,
                      basemap=d.basemap, width=MAP_W, height=MAP_H,
                      station_color=_term(d).color or PROPOSED_SITE_COLOR)


def _term(d: ReportData) -> Term:
    zh, en = d.type_labels or (None, None)
    return service_type_term(d.service_type, zh=zh, en=en)


def render_html(d: ReportData) -> str:
    """The one-page report as a self-contained HTML string; every text value is escaped."""
    term = _term(d)
    type_zh, type_en = term.zh, term.en
    walk = d.walkers()
    w_zh, w_en = walk.label("zh"), walk.label("en")
    sites = d.sites.to_crs(4326)
    xy = shapely.get_coordinates(sites.geometry.values)
    kinds = {"street": "街边点位 street point", "gate": "小区门口 compound gate",
             "imported": "导入点位 imported", "user": "用户提出 user-proposed"}
    rows = []
    for k, r in enumerate(sites.itertuples()):
        cost = getattr(r, "cost", math.nan)
        rows.append({"rank": int(r.rank), "label": (r.name or r.candidate), "gain": float(r.gain),
                     "kind": kinds.get(r.kind, r.kind), "demand_inside": int(r.demand_inside),
                     "cost": "—" if cost is None or not math.isfinite(cost) else f"{cost:,.0f}",
                     "lon": xy[k, 0], "lat": xy[k, 1]})
    sv = d.solver
    solver_line = "求解 Solver: " + (
        f"{sv.get('solver')} ({sv.get('status')}), gap {100 * float(sv['gap']):.2f} %"
        if sv.get("gap") is not None and math.isfinite(float(sv["gap"]))
        else "what-if")

    def pct(v: float) -> str:
        return f"{100 * v / d.total_weight:.1f} %" if d.total_weight > 0 else ""

    return str(_TEMPLATE.render(d=d, rows=rows, svg=_svg(d), fmt=_fmt, pct=pct, type_zh=type_zh,
                            type_en=type_en, w_zh=w_zh, w_en=w_en, n_sites=len(rows),
                            walk_zh=walk.statement("zh"), walk_en=walk.statement("en"),
                            budget=_fmt(walk.budget_m(d.minutes)),
                            type_color=term.color, proposed_color=PROPOSED_SITE_COLOR,
                            solver_line=solver_line, csp=REPORT_CSP, colors=COLORS))
