"""Coverage layers of each city's newest coverage run (``servicecircle analyze coverage``).

Walking service circles per type (one layer per threshold of
:data:`geo.domain.WALK_MINUTES`), the circles of single service points, gaps (the
compounds outside the circle, each with its residents outside), compounds coloured by
minutes to the nearest service, grid coverage in residents and compound completeness —
all from the one coverage definition of :mod:`geo.coverage.analysis`, so the residents of
a gap layer add up to the residents outside in the tables. Tiles and features show the
all-day run, or with ``?at=<moment>`` (e.g. ``Mo 22:00``) the run counting only the
service points open then — the run the tables and the panel use for that moment. Every
feature carries ``service_type`` and ``minutes`` so that the map can select a type and a
threshold.
Aggregated figures only: public.
"""

from __future__ import annotations

from typing import Any

from geo.domain import LIFE_CIRCLE_MINUTES, SERVICE_TYPES, WALK_MINUTES
from geo.settings import DEFAULT_TRIM_M, DEFAULT_WALK_SPEED_M_PER_MIN
from layers.legend import LegendClass
from layers.registry import AnyCode, Layer, Source, Style
from layers.styles import UNTYPED_COLOR, service_type_classes

TYPE_CLASSES = service_type_classes()


def _minute_classes() -> tuple[LegendClass, ...]:
    """Walking minutes to the nearest service: the thresholds, then twice the largest."""
    bounds = (0, *WALK_MINUTES, 2 * LIFE_CIRCLE_MINUTES)
    ramp = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")  # green → red
    first, far = bounds[1], bounds[-1]
    out = [LegendClass(0, ramp[0], f"{first}分钟内", f"within {first} min")]
    out += [LegendClass(a, c, f"{a}–{b}分钟", f"{a}–{b} min")
            for a, b, c in zip(bounds[1:-1], bounds[2:], ramp[1:-1], strict=True)]
    out.append(LegendClass(far, ramp[-1], f"{far}分钟以上或不可达", f"over {far} min or unreachable"))
    return tuple(out)


MINUTE_CLASSES = _minute_classes()
SHARE_CLASSES = (
    LegendClass(0, "#d73027", "覆盖不足25%", "under 25 % covered"),
    LegendClass(0.25, "#fc8d59", "25–50%", "25–50 %"),
    LegendClass(0.5, "#fee08b", "50–75%", "50–75 %"),
    LegendClass(0.75, "#91cf60", "75–99%", "75–99 %"),
    LegendClass(0.99, "#1a9850", "全部覆盖", "all covered"),
)
VERSIONS = ("analysis_run",)
#: Tile filters the map's selectors use (``?service_type=…&minutes=…``).
#: Service types grow at run time (``servicecircle types add``): any code is accepted.
BY_TYPE = (("service_type", AnyCode(tuple(SERVICE_TYPES))),)
BY_TYPE_MINUTES = (*BY_TYPE, ("minutes", WALK_MINUTES))
_SPEED = f"{DEFAULT_WALK_SPEED_M_PER_MIN:g}"
_MINUTES = "/".join(str(m) for m in WALK_MINUTES)
_TRIM = f"{DEFAULT_TRIM_M:g}"
LEVEL = ("service_type", "minutes", "budget_m")


def _runs(table: str, **source: Any) -> Source:
    """The source of a coverage layer: each city's newest all-day run (view
    ``<table>_latest``), or with ``?at=<moment>`` the run of that moment (view
    ``<table>_by_run``, migration 0009b)."""
    return Source(f"{table}_latest", run_table=f"{table}_by_run", **source)


def _circles(minutes: int) -> Layer:
    return Layer(
        name=f"coverage_circles_{minutes}", title_zh=f"{minutes}分钟步行服务圈（按类型）",
        title_en=f"{minutes}-minute walking circles (by type)", geometry_type="MultiPolygon",
        minzoom=10, maxzoom=22, group="coverage", visible=minutes == LIFE_CIRCLE_MINUTES,
        source=_runs("service_circle_union", columns=(*LEVEL, "n_points"),
                     filters=(("minutes", minutes),), name_column=None,
                     version_tables=("service_circle_union", *VERSIONS),
                     query_filters=BY_TYPE),
        style=Style("fill", UNTYPED_COLOR, fill_opacity=0.18, weight=1.0, property="service_type",
                    classify="categorical", classes=TYPE_CLASSES, label_property="service_type"),
        description_zh=f"沿街道步行{minutes}分钟（{_SPEED}米/分钟）可达的范围：街道间的用地取最近街道"
        f"接入点的步行时间（距街道{_TRIM}米以内），小区按出入口步行时间整体计入，按服务类型合并",
        description_en=f"Land within a {minutes}-minute walk along the streets ({_SPEED} m/min): "
        f"land between streets takes the walk of its nearest street access point (within "
        f"{_TRIM} m of a street), compounds the walk from their gates, whole; united per "
        "service type",
    )


def _gaps(minutes: int) -> Layer:
    return Layer(
        name=f"coverage_gaps_{minutes}", title_zh=f"{minutes}分钟服务圈覆盖缺口",
        title_en=f"Gaps outside the {minutes}-minute circle", geometry_type="MultiPolygon",
        minzoom=11, maxzoom=22, group="coverage", visible=False,
        source=_runs("coverage_gap",
                     columns=(*LEVEL, "compound_id", "name", "nearest_min", "residents",
                              "households", "target_group", "speed_m_per_min", "target",
                              "gap_area_m2"),
                     filters=(("minutes", minutes),),
                     version_tables=("coverage_gap", *VERSIONS),
                     query_filters=BY_TYPE),
        style=Style("fill", "#b71c1c", fill_opacity=0.45, weight=0.5, property="service_type",
                    classify="categorical", classes=TYPE_CLASSES, label_property="name"),
        description_zh=f"出入口步行{minutes}分钟内没有该类型服务点的小区，居民人数即服务圈外居民（与统计表一致）；"
        "服务对象为该类型服务的人群（如孝老食堂：60岁以上居民，按其步行速度计算）",
        description_en=f"Compounds with no service point of the type within a {minutes}-minute "
        "walk from their gates; their residents are the residents outside in the tables; the "
        "served group is whom the type serves (e.g. elderly canteens: residents 60+, at their "
        "walking speed)",
    )


LAYERS: tuple[Layer, ...] = (
    *(_circles(m) for m in reversed(WALK_MINUTES)),
    *(_gaps(m) for m in reversed(WALK_MINUTES)),
    Layer(
        name="coverage_compound_minutes", title_zh="小区到最近服务点的步行时间",
        title_en="Compounds by walking minutes to the nearest service",
        geometry_type="MultiPolygon", minzoom=11, maxzoom=22, group="coverage", visible=False,
        source=_runs("coverage_compound",
                     columns=("compound_id", "name", "service_type", "nearest_id", "nearest_m",
                              "nearest_min", "second_id", "second_min", "snapped",
                              "residents", "households"),
                     version_tables=("coverage_compound", *VERSIONS),
                     query_filters=BY_TYPE),
        style=Style("fill", "#fc8d59", fill_opacity=0.7, weight=0.5, property="nearest_min",
                    classify="graduated", classes=MINUTE_CLASSES),
        description_zh="从小区出入口沿街道步行到最近服务点的分钟数（每种类型一层要素，按 service_type 筛选）",
        description_en="Walking minutes from the compound's gates to the nearest service point "
        "(one feature per type; select by service_type)",
    ),
    Layer(
        name="coverage_grid_share", title_zh="网格服务圈覆盖率（居民）",
        title_en="Grid coverage (share of residents)", geometry_type="MultiPolygon",
        minzoom=10, maxzoom=22, group="coverage", visible=False,
        source=_runs("coverage_grid",
                     columns=("grid_id", "name", *LEVEL, "compounds", "compounds_in",
                              "compounds_out", "compounds_unknown", "residents",
                              "residents_in", "residents_out", "residents_unknown",
                              "share_covered", "target_group", "speed_m_per_min", "target",
                              "target_in", "target_out", "compounds_target_unknown",
                              "target_share_covered"),
                     version_tables=("coverage_unit", *VERSIONS),
                     query_filters=BY_TYPE_MINUTES),
        style=Style("fill", "#fee08b", fill_opacity=0.55, weight=0.8, property="share_covered",
                    classify="graduated", classes=SHARE_CLASSES),
        description_zh="网格内居民在服务圈内的比例（跨网格小区按居民比例分摊）",
        description_en="Share of a grid's residents inside the circle (compounds split across "
        "grids apportioned by resident share)",
    ),
    Layer(
        name="coverage_completeness", title_zh=f"小区{LIFE_CIRCLE_MINUTES}分钟生活圈完整度",
        title_en=f"Compound {LIFE_CIRCLE_MINUTES}-minute completeness",
        geometry_type="MultiPolygon", minzoom=11, maxzoom=22, group="coverage", visible=False,
        source=_runs("coverage_completeness",
                     columns=("compound_id", "name", "n_required", "n_within", "score",
                              "missing", "residents"),
                     version_tables=("coverage_completeness", *VERSIONS)),
        style=Style("fill", "#91cf60", fill_opacity=0.6, weight=0.5, property="score",
                    classify="graduated", classes=SHARE_CLASSES),
        description_zh=f"{LIFE_CIRCLE_MINUTES}分钟步行范围内具备的必备服务类型比例"
        "（GB 50180-2018、完整社区建设指南）",
        description_en="Share of the required service types within a "
        f"{LIFE_CIRCLE_MINUTES}-minute walk (GB 50180-2018; Complete Community Construction Guide)",
    ),
    Layer(
        name="coverage_point_circles", title_zh="单个服务点的步行服务圈",
        title_en="Walking circle of each service point", geometry_type="MultiPolygon",
        minzoom=12, maxzoom=22, group="coverage", visible=False,
        source=_runs("service_circle", columns=(*LEVEL, "service_point_id", "name", "street_m"),
                     version_tables=("service_circle", *VERSIONS),
                     query_filters=BY_TYPE_MINUTES),
        style=Style("line", UNTYPED_COLOR, fill_opacity=0.05, weight=1.0, property="service_type",
                    classify="categorical", classes=TYPE_CLASSES),
        description_zh=f"每个服务点沿街道的{_MINUTES}分钟可达范围",
        description_en=f"{_MINUTES}-minute street-following circle of each service point",
    ),
)
