"""Domain vocabulary: codes for service types, case categories and statuses.

Codes live here; Chinese/English labels for maps live in ``layers/``. The built-in codes
are also seeded into the database lookup tables (``service_type``, ``case_category``) by
the first migration; further service types can be added by configuration
(``servicecircle types add``).
"""

from __future__ import annotations

from enum import StrEnum


class ServiceType(StrEnum):
    """Built-in kinds of service point (阵地/站点)."""

    PARTY_MASS_CENTRE = "party_mass_centre"  # 党群服务中心
    RED_STATION = "red_station"  # 红色驿站 / 近邻红色驿站 / 党群驿站
    GRID_STATION = "grid_station"  # 网格服务站
    CONVENIENCE_POINT = "convenience_point"  # 红色便民点
    COURIER_STATION = "courier_station"  # 小哥驿站 / 暖新驿站
    PARCEL_STATION = "parcel_station"  # 快递驿站 / 菜鸟驿站
    ELDERLY_CANTEEN = "elderly_canteen"  # 孝老食堂
    ELDERLY_DAYCARE = "elderly_daycare"  # 日间照料中心
    AFTER_SCHOOL = "after_school"  # 六点半课堂


SERVICE_TYPE_LABELS: dict[str, tuple[str, str]] = {
    ServiceType.PARTY_MASS_CENTRE: ("党群服务中心", "Party-mass service centre"),
    ServiceType.RED_STATION: ("红色驿站", "Red station"),
    ServiceType.GRID_STATION: ("网格服务站", "Grid service station"),
    ServiceType.CONVENIENCE_POINT: ("红色便民点", "Convenience point"),
    ServiceType.COURIER_STATION: ("小哥驿站", "Courier rest station"),
    ServiceType.PARCEL_STATION: ("快递驿站", "Parcel station"),
    ServiceType.ELDERLY_CANTEEN: ("孝老食堂", "Elderly canteen"),
    ServiceType.ELDERLY_DAYCARE: ("日间照料中心", "Elderly day care"),
    ServiceType.AFTER_SCHOOL: ("六点半课堂", "After-school room"),
}


class CaseCategory(StrEnum):
    """The seven case categories of the "7621" platform."""

    SAFETY_HAZARD = "safety_hazard"  # 安全隐患
    SANITATION = "sanitation"  # 环境卫生
    ILLEGAL_CONSTRUCTION = "illegal_construction"  # 私搭乱建
    DISPUTE = "dispute"  # 矛盾纠纷
    LIVELIHOOD = "livelihood"  # 民生诉求
    CLUTTER = "clutter"  # 乱堆乱放
    PUBLIC_ORDER = "public_order"  # 治安稳定


CASE_CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    CaseCategory.SAFETY_HAZARD: ("安全隐患", "Safety hazard"),
    CaseCategory.SANITATION: ("环境卫生", "Sanitation"),
    CaseCategory.ILLEGAL_CONSTRUCTION: ("私搭乱建", "Illegal construction"),
    CaseCategory.DISPUTE: ("矛盾纠纷", "Dispute"),
    CaseCategory.LIVELIHOOD: ("民生诉求", "Livelihood request"),
    CaseCategory.CLUTTER: ("乱堆乱放", "Clutter"),
    CaseCategory.PUBLIC_ORDER: ("治安稳定", "Public order"),
}


class CaseStatus(StrEnum):
    """Stages of the closed loop 集单—派单—接单—评单."""

    REPORTED = "reported"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    CLOSED = "closed"


class PropertyManagement(StrEnum):
    """Whether a compound has a property company (有物业) or not (无物业)."""

    MANAGED = "managed"
    UNMANAGED = "unmanaged"
    UNKNOWN = "unknown"


#: Largest plausible area (km²) of one polygon of each kind of governance unit. A polygon
#: bigger than this is rejected as a mistake (drawn in the wrong units or CRS, a whole
#: district imported as one compound) rather than spread over every grid of the city.
#: Generous on purpose: urban compounds (小区) cover hundredths of a km² and the largest
#: gated compounds about 1–2 km²; a grid (网格) is a few hundred households — in rural
#: areas a village of a few km², so at most a community's area; communities (社区/村)
#: reach tens of km² in rural areas; streets (街道/乡镇) hundreds.
MAX_AREA_KM2: dict[str, float] = {
    "compound": 5.0,
    "grid": 25.0,
    "community": 100.0,
    "street": 2_000.0,
}
