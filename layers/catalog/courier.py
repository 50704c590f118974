"""Courier-station reach layers from the newest stored run of each city and station type.

Built by ``servicecircle analyze courier`` (tables ``courier_station``,
``courier_compound``, ``courier_grid``, ``courier_overlap``; views ``courier_*_latest``,
one run per city and service type). Courier rest stations (小哥驿站) are measured along
the rideable streets (the seeds' 1-kilometre service circle), parcel stations (快递驿站)
along the walkable ones. Figures are residents (resident counts are public compound data).
"""

from __future__ import annotations

from geo.domain import COURIER_CIRCLE_M, SERVICE_TYPES, ServiceType
from layers.legend import LegendClass, ramp
from layers.registry import Layer, Source, Style
from layers.styles import UNTYPED_COLOR

#: Residents reached by one station.
REACH_CLASSES: tuple[LegendClass, ...] = ramp(
    (0, 2000, 5000, 10000, 20000), ("#edf8fb", "#b2e2e2", "#66c2a4", "#2ca25f", "#006d2c"),
    unit=(" 人", " residents"))

#: Share of a grid's residents reached by at least one station.
GRID_SHARE_CLASSES: tuple[LegendClass, ...] = ramp((0.0, 0.25, 0.5, 0.9), ("#d7191c", "#fdae61", "#a6d96a", "#1a9641"),
                                           unit=("%", " %"), scale=100)

#: Overlap of two catchments: share of the smaller one shared.
OVERLAP_CLASSES: tuple[LegendClass, ...] = (
    LegendClass(0.5, "#fdae61", "重叠 50–80%", "Overlap 50–80 %"),
    LegendClass(0.8, "#d7191c", "重叠 ≥ 80%", "Overlap ≥ 80 %"),
)

#: Compounds no station of the kind reaches: greys no service type has, one per kind (each
#: colour one meaning on the map).
UNREACHED_COLORS = {"courier": "#757575", "parcel": "#a1887f"}
_RUN = ("analysis_run",)
_COURIER = SERVICE_TYPES[ServiceType.COURIER_STATION]
_CIRCLE_KM = f"{COURIER_CIRCLE_M / 1000:g}"
_STATION_COLS = ("external_id", "name", "mode", "budget_m", "compounds", "residents",
                 "households", "grids", "demand", "catchment_street_m")


def _type_layers(kind: ServiceType, *, key: str, how_zh: str, how_en: str,
                 visible: bool) -> tuple[Layer, ...]:
    term = SERVICE_TYPES[kind]
    zh, en, color = term.zh, term.en, term.color or UNTYPED_COLOR
    f = (("service_type", str(kind)),)
    return (
        Layer(
            name=f"{key}_catchments", title_zh=f"{zh}服务范围（{how_zh}）",
            title_en=f"{en} reach ({how_en})", geometry_type="MultiPolygon",
            minzoom=11, maxzoom=18, group="courier", visible=visible,
            source=Source("courier_catchment_latest", columns=_STATION_COLS, filters=f,
                          version_tables=("courier_station", *_RUN)),
            style=Style("fill", color, fill_opacity=0.12, weight=1.0),
            description_zh=f"每个{zh}沿街道{how_zh}可达的范围（预算见分析参数，默认 {_CIRCLE_KM} 公里）",
            description_en=f"Streets reached from each {en.lower()} ({how_en}; budget in the "
            "run's parameters)",
        ),
        Layer(
            name=f"{key}_reach", title_zh=f"{zh}（按覆盖居民）",
            title_en=f"{en}s by residents reached", geometry_type="Point",
            minzoom=10, maxzoom=22, group="courier", visible=visible,
            source=Source("courier_station_latest", columns=_STATION_COLS, filters=f,
                          version_tables=("courier_station", "service_point", *_RUN)),
            style=Style("circle", color, fill_opacity=0.9, radius=9.0, property="residents",
                        classify="graduated", classes=REACH_CLASSES),
            description_zh=f"{zh}按其服务范围内的居民人数分级显示",
            description_en=f"{en}s graduated by the residents their reach covers",
        ),
        Layer(
            name=f"{key}_unreached", title_zh=f"{zh}未覆盖小区",
            title_en=f"Compounds no {en.lower()} reaches", geometry_type="MultiPolygon",
            minzoom=11, maxzoom=20, group="courier", visible=visible,
            source=Source("courier_compound_latest",
                          columns=("external_id", "name", "residents", "households", "mode",
                                   "budget_m"),
                          filters=(*f, ("reached", False)),
                          version_tables=("courier_compound", "compound", *_RUN)),
            # grey: "not reached" (a service type's colour here would mean that type)
            style=Style("fill", UNREACHED_COLORS[key], fill_opacity=0.55, weight=1.0),
            description_zh=f"没有任何{zh}在服务范围内可达的小区（按居民人数）",
            description_en=f"Compounds outside the reach of every {en.lower()}",
        ),
    )


LAYERS: tuple[Layer, ...] = (
    *_type_layers(ServiceType.COURIER_STATION, key="courier", how_zh="骑行", how_en="riding",
                  visible=False),
    *_type_layers(ServiceType.PARCEL_STATION, key="parcel", how_zh="步行", how_en="walking",
                  visible=False),
    Layer(
        name="courier_grid_reach", title_zh=f"网格{_COURIER.zh}覆盖率",
        title_en=f"{_COURIER.en} reach by grid", geometry_type="MultiPolygon",
        minzoom=11, maxzoom=18, group="courier", visible=False,
        source=Source("courier_grid_latest",
                      columns=("external_id", "name", "residents", "residents_reached",
                               "share_reached", "n_stations", "reached"),
                      filters=(("service_type", str(ServiceType.COURIER_STATION)),),
                      version_tables=("courier_grid", "grid", *_RUN)),
        style=Style("fill", "#1a9641", fill_opacity=0.45, weight=1.0, property="share_reached",
                    classify="graduated", classes=GRID_SHARE_CLASSES),
        description_zh=f"网格内居民在{_COURIER.zh}服务范围内的比例（按小区与网格的居民分摊）",
        description_en=f"Share of each grid's residents inside some {_COURIER.en.lower()}'s reach "
        "(compounds apportioned by resident share)",
    ),
    Layer(
        name="courier_overlaps", title_zh="服务范围重叠的驿站对",
        title_en="Stations with overlapping reach", geometry_type="LineString",
        minzoom=11, maxzoom=18, group="courier", visible=False,
        source=Source("courier_overlap_latest",
                      columns=("service_type", "station_a", "station_b", "compounds",
                               "residents", "demand", "share", "jaccard"),
                      filters=(("beyond", True),),
                      version_tables=("courier_overlap", "service_point", *_RUN)),
        style=Style("line", "#d7191c", weight=3.0, property="share", classify="graduated",
                    classes=OVERLAP_CLASSES),
        description_zh="共享较小服务范围一半以上居民（或需求）的驿站对：可考虑合并或迁址",
        description_en="Station pairs sharing at least half of the smaller catchment's "
        "residents (or demand): candidates to merge or move",
    ),
)
