"""Siting layers: proposed new stations of the newest scenario, imported candidate sites."""

from __future__ import annotations

from geo.domain import PROPOSED_SITE_COLOR
from layers.legend import LegendClass
from layers.registry import Layer, Source, Style

RANK_CLASSES = (
    LegendClass(1, PROPOSED_SITE_COLOR, "第1–3名建议站点", "Proposed site, rank 1–3"),
    LegendClass(4, "#9c27b0", "第4–10名建议站点", "Proposed site, rank 4–10"),
    LegendClass(11, "#ce93d8", "第11名及以后", "Proposed site, rank 11 and later"),
)

LAYERS: tuple[Layer, ...] = (
    Layer(
        name="siting_proposals", title_zh="新建站点建议（最新方案）",
        title_en="Proposed new stations (latest scenario)",
        geometry_type="Point", minzoom=10, maxzoom=22, group="siting", visible=False,
        source=Source("siting_site_latest",
                      columns=("scenario_id", "scenario_name", "service_type", "minutes", "rank",
                               "candidate", "kind", "name", "gain", "demand_inside", "cost",
                               "source"),
                      version_tables=("siting_site", "siting_scenario")),
        style=Style("circle", PROPOSED_SITE_COLOR, fill_opacity=0.9, radius=9.0, property="rank",
                    classify="graduated", classes=RANK_CLASSES),
        description_zh="每个城市最新保存的选址方案中建议的新站点；gain 为按排名新增覆盖的居民数",
        description_en="Sites proposed by each city's newest saved siting scenario; gain is "
        "the residents newly inside the walking circle, in rank order",
    ),
    Layer(
        name="siting_candidates", title_zh="候选站址（导入）", title_en="Candidate sites (imported)",
        geometry_type="Point", minzoom=12, maxzoom=22, group="siting",
        source=Source("siting_candidate", columns=("external_id", "name", "kind", "cost",
                                                   "capacity", "source")),
        style=Style("circle", "#8d6e63", fill_opacity=0.8, radius=5.0),
        description_zh="导入的候选站址（闲置社区用房、物业用房等）",
        description_en="Imported candidate sites (vacant community rooms, property offices, ...)",
        visible=False,
    ),
)
