"""The vocabulary: every code, label (zh/en), colour and threshold of the service, once.

Service types, case categories, case statuses and property management are ``StrEnum``
codes; each code has one :class:`Term` — its Chinese and English label and, where the map
draws it, its colour and marker glyph. The thresholds of the walking life circles
(GB 50180-2018) and of the couriers' circle are here too.

Everything else derives from this module: the layer styles and legends
(``layers/styles.py``), the ``/vocabulary`` endpoint the web map reads (its JavaScript
restates none of it), the siting report, the aliases accepted by imports. The first
migration seeds the database lookup tables ``service_type`` and ``case_category`` with the
same codes and labels (a test checks that they agree). Service types added at run time
(``servicecircle types add``) keep their labels in that table; :func:`service_type_term`
gives them a colour and a glyph.
"""

from __future__ import annotations

import colorsys
import zlib
from dataclasses import dataclass
from enum import StrEnum

# ----------------------------------------------------------------------------- codes


class ServiceType(StrEnum):
    """Built-in kinds of service point (阵地/站点)."""

    PARTY_MASS_CENTRE = "party_mass_centre"
    RED_STATION = "red_station"  # also called 近邻红色驿站 / 党群驿站
    GRID_STATION = "grid_station"
    CONVENIENCE_POINT = "convenience_point"
    COURIER_STATION = "courier_station"  # also called 暖新驿站
    PARCEL_STATION = "parcel_station"  # also called 菜鸟驿站
    ELDERLY_CANTEEN = "elderly_canteen"
    ELDERLY_DAYCARE = "elderly_daycare"
    AFTER_SCHOOL = "after_school"


class CaseCategory(StrEnum):
    """The seven case categories of the "7621" platform."""

    SAFETY_HAZARD = "safety_hazard"
    SANITATION = "sanitation"
    ILLEGAL_CONSTRUCTION = "illegal_construction"
    DISPUTE = "dispute"
    LIVELIHOOD = "livelihood"
    CLUTTER = "clutter"
    PUBLIC_ORDER = "public_order"


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


class SitingModel(StrEnum):
    """Location models of new-station siting (stated in :mod:`geo.siting.problem`): the
    most demand newly covered by ``p`` sites, the fewest sites covering a share of it, the
    least total walk."""

    MCLP = "mclp"
    LSCP = "lscp"
    PMEDIAN = "pmedian"


class OriginKind(StrEnum):
    """Where a walk from a compound starts: the user's gate, a gate inferred from
    OpenStreetMap, or (no gate known) an interior point of the compound."""

    GATE = "gate"
    INFERRED_GATE = "inferred_gate"
    INTERIOR_POINT = "interior_point"


# ----------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Term:
    """One code of the vocabulary with its labels and, if the map draws it, its look.

    ``color`` is a CSS hex colour, ``glyph`` a short text drawn on point markers;
    ``builtin`` is false for service types added at run time.
    """

    code: str
    zh: str
    en: str
    color: str | None = None
    glyph: str | None = None
    builtin: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", str(self.code))  # a plain str, not the enum member

    def label(self, lang: str) -> str:
        """The label in ``lang`` (``"en"``; anything else is Chinese)."""
        return self.en if lang == "en" else self.zh


def _terms(*terms: Term) -> dict[str, Term]:
    return {t.code: t for t in terms}


#: Built-in service types: label, colour and glyph (the one place they are defined).
SERVICE_TYPES: dict[str, Term] = _terms(
    Term(ServiceType.PARTY_MASS_CENTRE, "党群服务中心", "Party-mass service centre", "#c0392b", "党"),
    Term(ServiceType.RED_STATION, "红色驿站", "Red station", "#e74c3c", "红"),
    Term(ServiceType.GRID_STATION, "网格服务站", "Grid service station", "#2471a3", "网"),
    Term(ServiceType.CONVENIENCE_POINT, "红色便民点", "Convenience point", "#d68910", "便"),
    Term(ServiceType.COURIER_STATION, "小哥驿站", "Courier rest station", "#17a589", "哥"),
    Term(ServiceType.PARCEL_STATION, "快递驿站", "Parcel station", "#7d3c98", "快"),
    Term(ServiceType.ELDERLY_CANTEEN, "孝老食堂", "Elderly canteen", "#a04000", "食"),
    Term(ServiceType.ELDERLY_DAYCARE, "日间照料中心", "Elderly day care", "#1e8449", "老"),
    Term(ServiceType.AFTER_SCHOOL, "六点半课堂", "After-school room", "#2e4053", "学"),
)

CASE_CATEGORIES: dict[str, Term] = _terms(
    Term(CaseCategory.SAFETY_HAZARD, "安全隐患", "Safety hazard", "#c0392b"),
    Term(CaseCategory.SANITATION, "环境卫生", "Sanitation", "#27ae60"),
    Term(CaseCategory.ILLEGAL_CONSTRUCTION, "私搭乱建", "Illegal construction", "#8e44ad"),
    Term(CaseCategory.DISPUTE, "矛盾纠纷", "Dispute", "#e67e22"),
    Term(CaseCategory.LIVELIHOOD, "民生诉求", "Livelihood request", "#2980b9"),
    Term(CaseCategory.CLUTTER, "乱堆乱放", "Clutter", "#7f8c8d"),
    Term(CaseCategory.PUBLIC_ORDER, "治安稳定", "Public order", "#2c3e50"),
)

CASE_STATUSES: dict[str, Term] = _terms(
    Term(CaseStatus.REPORTED, "已上报", "Reported"),
    Term(CaseStatus.DISPATCHED, "已派单", "Dispatched"),
    Term(CaseStatus.HANDLING, "处理中", "In progress"),
    Term(CaseStatus.CLOSED, "已办结", "Closed"),
)

ORIGIN_KINDS: dict[str, Term] = _terms(
    Term(OriginKind.GATE, "小区出入口", "Gate", "#1f618d"),
    Term(OriginKind.INFERRED_GATE, "推断出入口（OSM）", "Inferred gate (OSM)", "#5dade2"),
    Term(OriginKind.INTERIOR_POINT, "小区内部点（无出入口）", "Interior point (no gate known)"),
)

PROPERTY_MANAGEMENT: dict[str, Term] = _terms(
    Term(PropertyManagement.MANAGED, "有物业", "Managed"),
    Term(PropertyManagement.UNMANAGED, "无物业", "No property company"),
    Term(PropertyManagement.UNKNOWN, "不详", "Unknown"),
)


def added_type_color(code: str) -> str:
    """The colour of a service type added at run time: a hue from a stable hash of ``code``.

    The same code gets the same colour in every process (CRC-32, not Python's salted
    ``hash``); saturation and lightness match the built-in colours' (white glyphs stay
    readable).
    """
    hue = (zlib.crc32(code.encode("utf-8")) % 360) / 360.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.40, 0.65)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def service_type_term(code: str, *, zh: str | None = None, en: str | None = None) -> Term:
    """The :class:`Term` of service type ``code``.

    A built-in type's term comes from :data:`SERVICE_TYPES`. Any other code is a type
    added at run time: labels ``zh``/``en`` as stored in the lookup table (the code if
    missing), colour :func:`added_type_color`, glyph the first character of its Chinese
    label.
    """
    if code in SERVICE_TYPES:
        return SERVICE_TYPES[code]
    zh = zh or code
    return Term(code, zh, en or code, added_type_color(code), zh[:1], builtin=False)


# ----------------------------------------------------------------------------- thresholds

#: Walking-time thresholds of the life circles, minutes (GB 50180-2018: 5-, 10-, 15-minute).
WALK_MINUTES: tuple[int, ...] = (5, 10, 15)
#: The 15-minute life circle: completeness, the default of siting and what-if.
LIFE_CIRCLE_MINUTES: int = max(WALK_MINUTES)
#: Longest walking circle a caller may ask of siting and what-if (minutes).
MAX_WALK_MINUTES: int = 60
#: GB 50180-2018 walking distances of the 5-, 10- and 15-minute life circles (metres).
GB50180_METRES: dict[int, float] = dict(zip(WALK_MINUTES, (300.0, 500.0, 1000.0), strict=True))
#: The seeds' "1-kilometre service circle" of courier stations (network metres).
COURIER_CIRCLE_M: float = 1000.0
#: The service type the map opens on: its coverage view, the numbers beside the map and
#: siting (one default for all of them).
DEFAULT_SERVICE_TYPE: str = ServiceType.RED_STATION.value
#: The service type siting proposes new stations of unless told otherwise.
DEFAULT_SITING_TYPE: str = DEFAULT_SERVICE_TYPE
#: Colour of proposed new stations (map layer and printed report).
PROPOSED_SITE_COLOR = "#6a1b9a"
#: Colour of the compounds new stations bring inside their walking circle (map and report).
BROUGHT_INSIDE_COLOR = "#ff9800"
#: Colours of proposed grids (re-gridding) whose households are within / outside the range.
GRID_IN_RANGE_COLOR = "#1b9e77"
GRID_OUT_OF_RANGE_COLOR = "#d95f02"

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

#: Target households per grid (网格): one grid worker per grid of about 120–300 households,
#: the default range of grid workload and re-gridding (:mod:`geo.grids`).
GRID_HOUSEHOLDS_RANGE: tuple[int, int] = (120, 300)


# ----------------------------------------------------------------------------- who walks


class PopulationGroup(StrEnum):
    """Residents counted by a coverage run: everyone or one age group (the age groups of
    China's census: 0–14, 15–59, 60 and over; 老年人 are people of 60 and over under the
    Law on the Protection of the Rights and Interests of the Elderly)."""

    ALL = "all"
    AGE_0_14 = "age_0_14"
    AGE_15_59 = "age_15_59"
    AGE_60_PLUS = "age_60_plus"


POPULATION_GROUPS: dict[str, Term] = _terms(
    Term(PopulationGroup.ALL, "全部居民", "all residents"),
    Term(PopulationGroup.AGE_0_14, "0–14岁居民", "residents 0–14"),
    Term(PopulationGroup.AGE_15_59, "15–59岁居民", "residents 15–59"),
    Term(PopulationGroup.AGE_60_PLUS, "60岁以上居民", "residents 60+"),
)

#: The column of a compound frame holding each group's people (whole people; missing or
#: null = unknown). The stored compound table keeps the 60+ group in ``elderly``, read as
#: ``age_60_plus`` by :func:`geo.store.inputs.read_compounds`.
GROUP_COLUMNS: dict[str, str] = {
    PopulationGroup.ALL: "residents", PopulationGroup.AGE_0_14: "age_0_14",
    PopulationGroup.AGE_15_59: "age_15_59", PopulationGroup.AGE_60_PLUS: "age_60_plus",
}

#: Walking speed of people of 60 and over, m/min: 60 m/min = 1.0 m/s, against 75 m/min
#: (1.25 m/s, :data:`geo.settings.DEFAULT_WALK_SPEED_M_PER_MIN`) for everyone. Field studies
#: of crossing pedestrians find a 15th-percentile speed of about 0.97 m/s for pedestrians
#: over 65 against 1.25 m/s for younger ones and recommend 0.91 m/s for planning where
#: older pedestrians walk (Knoblauch, Pietrucha & Nitzburg 1996, "Field studies of
#: pedestrian walking speed and start-up time", Transportation Research Record 1538,
#: 27–38); the MUTCD (2009, §4E.06) times crossings at 1.07 m/s and at 0.91 m/s where
#: slower pedestrians cross. GB 50180-2018 plans the elderly services of the 5- and
#: 10-minute life circles by walking time of the people served; at 60 m/min a 15-minute
#: walk is 900 m, a 5-minute walk 300 m.
ELDERLY_WALK_SPEED_M_PER_MIN: float = 60.0


@dataclass(frozen=True)
class Walkers:
    """Whom a service type serves and how fast they walk.

    ``speed_m_per_min`` is None for the deployment's walking speed
    (:attr:`geo.settings.Settings.walk_speed_m_per_min`, 75 m/min by default); ``source``
    names where the speed comes from.
    """

    group: PopulationGroup
    speed_m_per_min: float | None = None
    source: str = "GB 50180-2018 (75 m/min, 4.5 km/h)"


_ELDERLY = Walkers(PopulationGroup.AGE_60_PLUS, ELDERLY_WALK_SPEED_M_PER_MIN,
                   "Knoblauch et al. 1996 (TRR 1538); MUTCD 2009 §4E.06 (≈1.0 m/s)")

#: Target group and walking speed per built-in service type; every other type (and any type
#: added at run time) serves all residents at the deployment's walking speed. Elderly
#: canteens and day care serve residents of 60 and over at their slower pace; after-school
#: rooms (六点半课堂) serve pupils of 0–14, who are planned at the usual pace
#: (GB 50180-2018 plans primary schools by a 10-minute walk).
SERVICE_WALKERS: dict[str, Walkers] = {
    ServiceType.ELDERLY_CANTEEN: _ELDERLY,
    ServiceType.ELDERLY_DAYCARE: _ELDERLY,
    ServiceType.AFTER_SCHOOL: Walkers(PopulationGroup.AGE_0_14),
}


def service_walkers(code: str) -> Walkers:
    """The :class:`Walkers` of service type ``code`` (all residents at the usual pace unless
    :data:`SERVICE_WALKERS` says otherwise)."""
    return SERVICE_WALKERS.get(code, Walkers(PopulationGroup.ALL))


#: Siting demand measures that do not count people of a group (the people measures are
#: :data:`POPULATION_GROUPS`: siting's ``residents`` counts the type's target group,
#: ``elderly`` residents 60+; :func:`geo.siting.scenario.siting_demand`).
DEMAND_MEASURES: dict[str, Term] = _terms(
    Term("households", "户", "households"),
    Term("cases", "网格案件", "grid cases"),
    Term("rider_demand", "骑手订单", "rider demand"),
)

# ----------------------------------------------------------------------------- station services

#: What a station offers (``service_point.services``: water, charging, microwave, toilets …),
#: by code, with zh/en labels; the nearest-station finder (:mod:`geo.finder`) shows them.
#: Stored values are free text: a code, or a Chinese or English label of these.
STATION_SERVICES: dict[str, Term] = _terms(
    Term("rest", "休息", "Rest area"),
    Term("drinking_water", "饮水", "Drinking water"),
    Term("charging", "充电", "Charging"),
    Term("microwave", "微波炉加热", "Microwave"),
    Term("toilet", "卫生间", "Toilet"),
    Term("first_aid", "应急药箱", "First-aid kit"),
    Term("rain_gear", "雨具借用", "Rain gear to borrow"),
    Term("meetings", "议事", "Residents' meetings"),
    Term("volunteering", "志愿服务", "Volunteer service"),
    Term("tools", "便民工具", "Tools to borrow"),
    Term("party_activities", "党员活动", "Party member activities"),
    Term("government_errands", "政务代办", "Government errands done for you"),
    Term("consultation", "议事协商", "Community consultation"),
    Term("culture_sports", "文体活动", "Culture and sports"),
    Term("reading_room", "图书阅览", "Reading room"),
    Term("legal_advice", "法律咨询", "Legal advice"),
    Term("grid_worker", "网格员值守", "Grid worker on duty"),
    Term("mediation", "矛盾调解", "Dispute mediation"),
    Term("information", "信息采集", "Information collection"),
    Term("errands", "代办服务", "Errands done for you"),
    Term("haircut", "理发", "Haircuts"),
    Term("mending", "缝补", "Mending"),
    Term("appliance_repair", "家电维修", "Appliance repair"),
    Term("knife_sharpening", "磨刀", "Knife sharpening"),
    Term("blood_pressure", "血压测量", "Blood pressure check"),
    Term("parcel_pickup", "快递代收", "Parcel pick-up"),
    Term("parcel_sending", "快递代寄", "Parcel sending"),
    Term("feedback_wall", "民情回音壁", "Residents' feedback wall"),
    Term("meals", "助餐", "Meals for older people"),
    Term("meal_delivery", "送餐上门", "Meals delivered home"),
    Term("senior_discount", "老年人优惠", "Discount for older people"),
    Term("day_care", "日间照料", "Day care"),
    Term("rehabilitation", "康复训练", "Rehabilitation exercises"),
    Term("recreation", "文娱活动", "Recreation"),
    Term("bathing_help", "助浴", "Help with bathing"),
    Term("homework_help", "作业辅导", "Homework help"),
    Term("reading", "课外阅读", "Reading"),
    Term("hobby_groups", "兴趣活动", "Hobby groups"),
)


def station_service_term(value: str) -> Term:
    """The :class:`Term` of a stored station service: looked up by code, Chinese or English
    label (case and spaces ignored); any other text is its own code and labels."""
    key = "".join(str(value).split()).casefold()
    for term in STATION_SERVICES.values():
        if key in (term.code, "".join(term.zh.split()).casefold(),
                   "".join(term.en.split()).casefold()):
            return term
    return Term(str(value), str(value), str(value), builtin=False)
class RegridReason(StrEnum):
    """Why a proposed grid of re-gridding (:mod:`geo.grids.regrid`) is outside the range."""

    COMPOUND_EXCEEDS_RANGE = "compound_exceeds_range"
    COMPONENT_BELOW_RANGE = "component_below_range"
    GRID_ABOVE_RANGE = "grid_above_range"
    GRID_BELOW_RANGE = "grid_below_range"


#: zh/en labels of the re-gridding reasons (the API, the CLI and the notebooks show these).
REGRID_REASONS: dict[str, Term] = _terms(
    Term(RegridReason.COMPOUND_EXCEEDS_RANGE, "小区户数单独超过上限（不拆分小区）",
         "The compound alone holds more households than the upper bound (never split)"),
    Term(RegridReason.COMPONENT_BELOW_RANGE, "所在片区与其他片区不相连且总户数不足下限",
         "Its part of the community touches no other and holds fewer households than the "
         "lower bound"),
    Term(RegridReason.GRID_ABOVE_RANGE, "未找到更好的划分：网格户数超过上限",
         "No better partition found: the grid holds more households than the upper bound"),
    Term(RegridReason.GRID_BELOW_RANGE, "未找到更好的划分：网格户数不足下限",
         "No better partition found: the grid holds fewer households than the lower bound"),
)
