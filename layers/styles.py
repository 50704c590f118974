"""Colours, glyphs and zh/en labels for map legends (codes live in ``geo.domain``)."""

from __future__ import annotations

from geo.domain import CaseCategory, ServiceType
from layers.legend import LegendClass

#: Service type → (colour, glyph on the marker, label zh, label en).
SERVICE_TYPE_STYLE: dict[ServiceType, tuple[str, str, str, str]] = {
    ServiceType.PARTY_MASS_CENTRE: ("#c0392b", "党", "党群服务中心", "Party-mass service centre"),
    ServiceType.RED_STATION: ("#e74c3c", "红", "红色驿站", "Red station"),
    ServiceType.GRID_STATION: ("#2471a3", "网", "网格服务站", "Grid service station"),
    ServiceType.CONVENIENCE_POINT: ("#d68910", "便", "红色便民点", "Convenience point"),
    ServiceType.COURIER_STATION: ("#17a589", "哥", "小哥驿站", "Courier rest station"),
    ServiceType.PARCEL_STATION: ("#7d3c98", "快", "快递驿站", "Parcel station"),
    ServiceType.ELDERLY_CANTEEN: ("#a04000", "食", "孝老食堂", "Elderly canteen"),
    ServiceType.ELDERLY_DAYCARE: ("#1e8449", "老", "日间照料中心", "Elderly day care"),
    ServiceType.AFTER_SCHOOL: ("#2e4053", "学", "六点半课堂", "After-school room"),
}

CASE_CATEGORY_STYLE: dict[CaseCategory, tuple[str, str, str]] = {
    CaseCategory.SAFETY_HAZARD: ("#c0392b", "安全隐患", "Safety hazard"),
    CaseCategory.SANITATION: ("#27ae60", "环境卫生", "Sanitation"),
    CaseCategory.ILLEGAL_CONSTRUCTION: ("#8e44ad", "私搭乱建", "Illegal construction"),
    CaseCategory.DISPUTE: ("#e67e22", "矛盾纠纷", "Dispute"),
    CaseCategory.LIVELIHOOD: ("#2980b9", "民生诉求", "Livelihood request"),
    CaseCategory.CLUTTER: ("#7f8c8d", "乱堆乱放", "Clutter"),
    CaseCategory.PUBLIC_ORDER: ("#2c3e50", "治安稳定", "Public order"),
}

#: Residents per compound: lower bounds and a sequential yellow→red ramp.
RESIDENT_CLASSES: tuple[LegendClass, ...] = (
    LegendClass(0, "#ffffb2", "< 500 人", "< 500 residents"),
    LegendClass(500, "#fecc5c", "500–1,000 人", "500–1,000 residents"),
    LegendClass(1000, "#fd8d3c", "1,000–2,000 人", "1,000–2,000 residents"),
    LegendClass(2000, "#f03b20", "2,000–5,000 人", "2,000–5,000 residents"),
    LegendClass(5000, "#bd0026", "≥ 5,000 人", "≥ 5,000 residents"),
)


def service_type_classes() -> tuple[LegendClass, ...]:
    """One legend class per built-in service type (colour + glyph)."""
    return tuple(LegendClass(str(t), c, zh, en, icon=g)
                 for t, (c, g, zh, en) in SERVICE_TYPE_STYLE.items())


def case_category_classes() -> tuple[LegendClass, ...]:
    """One legend class per case category."""
    return tuple(LegendClass(str(k), c, zh, en) for k, (c, zh, en) in CASE_CATEGORY_STYLE.items())

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

#: zh/en titles of layer groups in the map's layer control.
GROUP_LABELS: dict[str, tuple[str, str]] = {
    "base": ("基础图层", "Base layers"),
    "coverage": ("服务圈与覆盖缺口", "Service circles and gaps"),
    "courier": ("小哥驿站与快递驿站", "Courier and parcel stations"),
    "cases": ("网格事件", "Grid cases"),
    "siting": ("新站选址", "New-station siting"),
}

#: zh/en labels of coded property values shown in popups, by column.
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "property_management": {"managed": ("有物业", "Managed"),
                            "unmanaged": ("无物业", "No property company"),
                            "unknown": ("不详", "Unknown")},
    "service_type": {str(t): (zh, en) for t, (_, _, zh, en) in SERVICE_TYPE_STYLE.items()},
    "type": {str(t): (zh, en) for t, (_, _, zh, en) in SERVICE_TYPE_STYLE.items()},
    "category": {str(k): (zh, en) for k, (_, zh, en) in CASE_CATEGORY_STYLE.items()},
    "status": {"reported": ("已上报", "Reported"), "dispatched": ("已派单", "Dispatched"),
               "handling": ("处理中", "In progress"), "closed": ("已办结", "Closed")},
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
