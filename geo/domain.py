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
