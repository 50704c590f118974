"""Map styles and legends derived from the vocabulary (:mod:`geo.domain`), and popup labels.

Codes, zh/en labels and colours of service types, case categories and statuses are defined
in :mod:`geo.domain` only; this module turns them into legend classes and popup labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from geo.domain import (
    CASE_CATEGORIES,
    CASE_STATUSES,
    PROPERTY_MANAGEMENT,
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
    "elderly": ("老年人数", "Elderly residents"),
    "property_management": ("物业管理", "Property management"),
    "type": ("类型", "Type"), "address": ("地址", "Address"),
    "opening_hours": ("开放时间", "Opening hours"), "capacity": ("容量", "Capacity"),
    "floor_area_m2": ("面积（平方米）", "Floor area (m²)"), "highway": ("道路等级", "Road class"),
    "length_m": ("长度（米）", "Length (m)"), "walk": ("可步行", "Walkable"),
    "ride": ("可骑行", "Rideable"), "category": ("类别", "Category"), "status": ("状态", "Status"),
    "reported_at": ("上报时间", "Reported"), "closed_at": ("办结时间", "Closed"),
    "satisfaction": ("满意度", "Satisfaction"), "handling_unit": ("处理单位", "Handling unit"),
    "channel": ("上报渠道", "Channel"), "description": ("描述", "Description"),
}

_COURIER = SERVICE_TYPES[ServiceType.COURIER_STATION]
_PARCEL = SERVICE_TYPES[ServiceType.PARCEL_STATION]

#: zh/en titles of layer groups in the map's layer control.
GROUP_LABELS: dict[str, tuple[str, str]] = {
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
}
#: Property columns holding codes of the vocabulary → the name of their list of terms.
VOCABULARY_COLUMNS: dict[str, str] = {
    "type": "service_types", "service_type": "service_types", "category": "case_categories",
    "status": "case_statuses", "property_management": "property_management",
}


def _pairs(terms: Mapping[str, Term]) -> dict[str, tuple[str, str]]:
    return {t.code: (t.zh, t.en) for t in terms.values()}


#: zh/en labels of coded property values shown in popups, by column.
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    **{column: _pairs(VOCABULARY[kind]) for column, kind in VOCABULARY_COLUMNS.items()},
    "mode": {"walk": ("步行", "Walking"), "ride": ("骑行", "Riding")},
    "walk": {"true": ("是", "Yes"), "false": ("否", "No")},
    "ride": {"true": ("是", "Yes"), "false": ("否", "No")},
    "snapped": {"true": ("是", "Yes"), "false": ("否（离道路太远）", "No (too far from a street)")},
    "suppressed": {"true": ("是（事件过少不公开）", "Yes (too few cases to show)"),
                   "false": ("否", "No")},
    "reached": {"true": ("是", "Yes"), "false": ("否", "No")},
}


def value_labels(columns: tuple[str, ...] | list[str], lang: str) -> dict[str, dict[str, str]]:
    """Popup labels of coded values for the given columns, in ``lang`` (zh or en)."""
    i = 1 if lang == "en" else 0
    return {c: {v: pair[i] for v, pair in VALUE_LABELS[c].items()}
            for c in columns if c in VALUE_LABELS}
