"""Map styles and legends derived from the vocabulary (:mod:`geo.domain`), and popup labels.

Codes, zh/en labels and colours of service types, case categories and statuses are defined
in :mod:`geo.domain` only; this module turns them into legend classes and popup labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from geo.domain import (
    CASE_CATEGORIES,
    CASE_STATUSES,
    ORIGIN_KINDS,
    POPULATION_GROUPS,
    PROPERTY_MANAGEMENT,
    REGRID_REASONS,
    SERVICE_TYPES,
    ServiceType,
    Term,
)
from layers.legend import LegendClass, ramp

#: Colour of a code without a colour of its own in a legend (clients drawing a type added
#: at run time should take its colour from ``/vocabulary``; the map does).
UNTYPED_COLOR = "#607d8b"


def term_classes(terms: Iterable[Term]) -> tuple[LegendClass, ...]:
    """One categorical legend class per term (its colour, labels and glyph)."""
    return tuple(LegendClass(t.code, t.color or UNTYPED_COLOR, t.zh, t.en, icon=t.glyph)
                 for t in terms)


def service_type_classes() -> tuple[LegendClass, ...]:
    """One legend class per built-in service type (colour + glyph)."""
    return term_classes(SERVICE_TYPES.values())


def case_category_classes() -> tuple[LegendClass, ...]:
    """One legend class per case category."""
    return term_classes(CASE_CATEGORIES.values())


#: Residents per compound: lower bounds and a sequential yellow→red ramp.
RESIDENT_CLASSES: tuple[LegendClass, ...] = ramp(
    (0, 500, 1000, 2000, 5000), ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    unit=(" 人", " residents"))


#: zh/en labels of common property columns, for popups (layers may override them).
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "name": ("名称", "Name"), "external_id": ("编号", "ID"), "source": ("数据来源", "Source"),
    "street_id": ("所属街道", "Street"), "community_id": ("所属社区", "Community"),
    "households": ("户数", "Households"), "residents": ("居民人数", "Residents"),
    "elderly": ("60岁以上居民（人）", "Residents 60+"),
    "age_0_14": ("0–14岁居民（人）", "Residents 0–14"),
    "age_15_59": ("15–59岁居民（人）", "Residents 15–59"),
    "target_group": ("服务对象", "Served group"),
    "speed_m_per_min": ("步行速度（米/分钟）", "Walking speed (m/min)"),
    "target": ("服务对象人数（人）", "People of the served group"),
    "target_in": ("圈内服务对象（人）", "Served group inside"),
    "target_out": ("圈外服务对象（人）", "Served group outside"),
    "target_unknown": ("未能计算的服务对象（人）", "Served group not computable"),
    "compounds_target_unknown": ("服务对象人数不详的小区数", "Compounds with the group's size unknown"),
    "target_share_covered": ("覆盖率（服务对象）", "Share of the served group covered"),
    "origin_kind": ("出发点", "Walk starts at"), "walk_rule": ("步行规则", "Walk rule"),
    "property_management": ("物业管理", "Property management"),
    "type": ("类型", "Type"), "address": ("地址", "Address"),
    "opening_hours": ("开放时间", "Opening hours"), "capacity": ("容量", "Capacity"),
    "floor_area_m2": ("面积（平方米）", "Floor area (m²)"), "highway": ("道路等级", "Road class"),
    "length_m": ("长度（米）", "Length (m)"), "walk": ("可步行", "Walkable"),
    "ride": ("可骑行", "Rideable"), "category": ("类别", "Category"), "status": ("状态", "Status"),
    "reported_at": ("上报时间", "Reported"), "closed_at": ("办结时间", "Closed"),
    "satisfaction": ("满意度", "Satisfaction"), "handling_unit": ("处理单位", "Handling unit"),
    "channel": ("上报渠道", "Channel"), "description": ("描述", "Description"),
    # basemap
    "kind": ("类别", "Kind"), "name_zh": ("中文名", "Chinese name"),
    "name_en": ("英文名", "English name"), "rank": ("排名", "Rank"),
    # coverage
    "service_type": ("服务类型", "Service type"), "minutes": ("步行时间（分钟）", "Walk (minutes)"),
    "budget_m": ("步行距离上限（米）", "Walking distance limit (m)"),
    "n_points": ("服务点数", "Service points"), "gap_area_m2": ("缺口面积（平方米）", "Gap area (m²)"),
    "nearest_m": ("到最近服务点步行距离（米）", "Walk to the nearest service (m)"),
    "nearest_min": ("到最近服务点步行时间（分钟）", "Walk to the nearest service (min)"),
    "second_min": ("到第二近服务点步行时间（分钟）", "Walk to the second nearest (min)"),
    "snapped": ("已接入路网", "On the street network"),
    "compounds": ("小区数", "Compounds"), "residents_in": ("圈内居民（人）", "Residents inside"),
    "residents_out": ("圈外居民（人）", "Residents outside"),
    "residents_unknown": ("未能计算的居民（人）", "Residents not computable"),
    "share_covered": ("覆盖率（居民）", "Share of residents covered"),
    "n_required": ("必备服务类型数", "Required service types"),
    "n_within": ("步行范围内具备的类型数", "Types within the walk"),
    "score": ("完整度", "Completeness"), "missing": ("缺少的服务", "Missing services"),
    "street_m": ("可达街道长度（米）", "Streets reached (m)"),
    "unit_kind": ("单元类型", "Unit"),
    "unit_id": ("单元编号", "Unit id"),
    "compound_id": ("小区编号", "Compound id"),
    "compounds_in": ("圈内小区数", "Compounds inside"),
    "compounds_out": ("圈外小区数", "Compounds outside"),
    "compounds_unknown": ("未接入路网小区数", "Compounds off the network"),
    "households_in": ("圈内户数", "Households inside"),
    "households_out": ("圈外户数", "Households outside"),
    "households_unknown": ("未知户数", "Households unknown"),
    # courier
    "mode": ("出行方式", "Mode"), "grids": ("网格数", "Grids"),
    "demand": ("需求（单）", "Demand (orders)"),
    "catchment_street_m": ("服务范围内街道长度（米）", "Streets in reach (m)"),
    "residents_reached": ("覆盖居民（人）", "Residents reached"),
    "share_reached": ("覆盖率（居民）", "Share of residents reached"),
    "n_stations": ("驿站数", "Stations"), "reached": ("已覆盖", "Reached"),
    "share": ("重叠比例", "Overlap share"), "jaccard": ("重叠度（Jaccard）", "Overlap (Jaccard)"),
    # cases
    "bin": ("热点等级", "Hot-spot class"), "n_cases": ("事件数", "Cases"),
    "gi_z": ("Gi* z 值", "Gi* z-score"), "p": ("p 值", "p-value"), "q": ("q 值（FDR）", "q-value (FDR)"),
    "n_public": ("事件数", "Cases"), "suppressed": ("因事件过少不公开", "Withheld (too few cases)"),
    "density_public": ("事件密度（件/平方公里）", "Case density (per km²)"),
    "density_per_km2": ("事件密度（件/平方公里）", "Case density (per km²)"),
    "n_near": ("附近事件数", "Cases nearby"),
    "closure_rate_public": ("办结率", "Closure rate"), "closure_rate": ("办结率", "Closure rate"),
    "median_closure_h_public": ("办结时长中位数（小时）", "Median closure time (h)"),
    "median_closure_h": ("办结时长中位数（小时）", "Median closure time (h)"),
    "p90_closure_h": ("办结时长90分位（小时）", "90th percentile closure time (h)"),
    "per_1000_residents": ("每千居民事件数", "Cases per 1,000 residents"),
    "n_open": ("未办结", "Open"), "n_overdue": ("超期", "Overdue"),
    "mean_satisfaction": ("平均满意度", "Mean satisfaction"),
    # siting
    "scenario_name": ("方案", "Scenario"), "candidate": ("候选站址", "Candidate site"),
    "gain": ("新增覆盖居民（人）", "Residents newly covered"),
    "demand_inside": ("圈内需求", "Demand inside"), "cost": ("成本", "Cost"),
}

#: Columns counting people, households or things: shown as whole numbers in popups.
WHOLE_COLUMNS: frozenset[str] = frozenset({
    "residents", "households", "elderly", "residents_in", "residents_out", "residents_unknown",
    "households_in", "households_out", "households_unknown", "compounds_in", "compounds_out",
    "compounds_unknown",
    "residents_reached", "compounds", "grids", "n_points", "n_stations",
    "n_cases", "n_public", "n_near", "n_open", "n_overdue", "n_required", "n_within", "gain",
    "capacity", "budget_m", "nearest_m", "street_m", "catchment_street_m", "gap_area_m2",
    "length_m", "floor_area_m2",
    "target", "target_in", "target_out", "target_unknown", "compounds_target_unknown",
    "age_0_14", "age_15_59"})

_COURIER = SERVICE_TYPES[ServiceType.COURIER_STATION]
_PARCEL = SERVICE_TYPES[ServiceType.PARCEL_STATION]

#: zh/en titles of layer groups in the map's layer control.
GROUP_LABELS: dict[str, tuple[str, str]] = {
    "basemap": ("底图（OpenStreetMap）", "Basemap (OpenStreetMap)"),
    "base": ("基础图层", "Base layers"),
    "coverage": ("服务圈与覆盖缺口", "Service circles and gaps"),
    "courier": (f"{_COURIER.zh}与{_PARCEL.zh}", f"{_COURIER.en}s and {_PARCEL.en.lower()}s"),
    "cases": ("网格事件", "Grid cases"),
    "siting": ("新站选址", "New-station siting"),
}

#: The vocabulary's lists of terms by name (``/vocabulary`` serves them under these names).
VOCABULARY: dict[str, Mapping[str, Term]] = {
    "service_types": SERVICE_TYPES, "case_categories": CASE_CATEGORIES,
    "case_statuses": CASE_STATUSES, "property_management": PROPERTY_MANAGEMENT,
    "population_groups": POPULATION_GROUPS,
    "regrid_reasons": REGRID_REASONS,
}
#: Property columns holding codes of the vocabulary → the name of their list of terms.
VOCABULARY_COLUMNS: dict[str, str] = {
    "type": "service_types", "service_type": "service_types", "category": "case_categories",
    "status": "case_statuses", "property_management": "property_management",
    "target_group": "population_groups",
}


def _pairs(terms: Mapping[str, Term]) -> dict[str, tuple[str, str]]:
    return {t.code: (t.zh, t.en) for t in terms.values()}


#: zh/en labels of coded property values shown in popups, by column.
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    **{column: _pairs(VOCABULARY[kind]) for column, kind in VOCABULARY_COLUMNS.items()},
    "origin_kind": _pairs(ORIGIN_KINDS),
    "mode": {"walk": ("步行", "Walking"), "ride": ("骑行", "Riding")},
    "walk": {"true": ("是", "Yes"), "false": ("否", "No")},
    "ride": {"true": ("是", "Yes"), "false": ("否", "No")},
    "snapped": {"true": ("是", "Yes"), "false": ("否（离道路太远）", "No (too far from a street)")},
    "suppressed": {"true": ("是（事件过少不公开）", "Yes (too few cases to show)"),
                   "false": ("否", "No")},
    "reached": {"true": ("是", "Yes"), "false": ("否", "No")},
    "candidate": {"true": ("是", "Yes"), "false": ("否", "No")},
    "source": {"osm": ("OpenStreetMap", "OpenStreetMap"), "generated": ("演示生成", "Demo (generated)"),
               "import": ("导入", "Imported")},
}


def value_labels(columns: tuple[str, ...] | list[str], lang: str) -> dict[str, dict[str, str]]:
    """Popup labels of coded values for the given columns, in ``lang`` (zh or en)."""
    i = 1 if lang == "en" else 0
    return {c: {v: pair[i] for v, pair in VALUE_LABELS[c].items()}
            for c in columns if c in VALUE_LABELS}
