"""Grid-case layers from the latest stored hot-spot run of each city.

Built by ``servicecircle analyze cases`` (tables ``case_hex``, ``case_kde``, ``case_grid``,
views ``case_*_latest``). Public columns (``n_public``, ``density_public``,
``closure_rate_public`` …) are stored with the run, computed by :mod:`geo.cases.public`
under the one public rule of :mod:`geo.cases.privacy` (whole complete months, released
cell-months of at least ``min_public_case_count`` cases, all categories), so they equal
the public answers of ``/cities/{city}/cases/...``; exact counts and Gi* statistics are
personal (analysts only). Filtering by category or period on the fly is served by
``/cities/{city}/cases/...`` as GeoJSON.
"""

from __future__ import annotations

from geo.cases.hotspots import CONFIDENCE_LEVELS
from layers.legend import LegendClass, ramp
from layers.registry import Layer, Source, Style

#: Diverging hot/cold legend of Gi* confidence bins (ColorBrewer RdBu), from the confidence
#: levels of :data:`geo.cases.hotspots.CONFIDENCE_LEVELS` (strictest first).
_HOT, _COLD = ("#b2182b", "#ef8a62", "#fddbc7"), ("#2166ac", "#67a9cf", "#d1e5f0")
_NEUTRAL = "#f7f7f7"
HOTSPOT_CLASSES: tuple[LegendClass, ...] = (
    *(LegendClass(mag, c, f"热点 {round(100 * conf)}% 置信",
                  f"Hot spot, {round(100 * conf)} % confidence")
      for (conf, _, mag), c in zip(CONFIDENCE_LEVELS, _HOT, strict=True)),
    LegendClass(0, _NEUTRAL, "不显著", "Not significant"),
    *(LegendClass(-mag, c, f"冷点 {round(100 * conf)}% 置信",
                  f"Cold spot, {round(100 * conf)} % confidence")
      for (conf, _, mag), c in reversed(list(zip(CONFIDENCE_LEVELS, _COLD, strict=True)))),
)

#: Cases per hexagon (public: suppressed below the minimum count).
COUNT_CLASSES: tuple[LegendClass, ...] = ramp(
    (5, 10, 20, 50, 100), ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"),
    unit=(" 件", " cases"), counts=True)

#: Kernel density, cases per km².
DENSITY_CLASSES: tuple[LegendClass, ...] = ramp(
    (0, 10, 50, 100, 200), ("#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837"),
    unit=(" 件/km²", " cases/km²"))

#: Closure rate 办结率 (0–1): low rates in red.
CLOSURE_CLASSES: tuple[LegendClass, ...] = (
    LegendClass(0.0, "#d7191c", "办结率 < 80%", "Closure rate < 80 %"),
    LegendClass(0.8, "#fdae61", "80–90%", "80–90 %"),
    LegendClass(0.9, "#a6d96a", "90–95%", "90–95 %"),
    LegendClass(0.95, "#1a9641", "≥ 95%", "≥ 95 %"),
)

_RUN_VERSIONS = ("analysis_run",)

LAYERS: tuple[Layer, ...] = (
    Layer(
        name="case_hotspots", title_zh="事件热点（Gi*）", title_en="Case hot spots (Gi*)",
        geometry_type="Polygon", minzoom=9, maxzoom=18, group="cases", visible=False,
        source=Source("case_hex_latest", columns=("h3", "bin", "n_cases", "gi_z", "p", "q"),
                      personal=("n_cases", "gi_z", "p", "q"),
                      version_tables=("case_hex", *_RUN_VERSIONS)),
        style=Style("fill", "#b2182b", fill_opacity=0.6, weight=0.3, property="bin",
                    classify="categorical", classes=HOTSPOT_CLASSES, label_property="h3"),
        description_zh="Getis-Ord Gi* 热点/冷点（H3 六边形，含零事件格，999 次置换）",
        description_en="Getis-Ord Gi* hot and cold spots on H3 hexagons (zero-count cells "
        "included, 999 permutations)",
    ),
    Layer(
        name="case_hexes", title_zh="事件数（六边形）", title_en="Cases per hexagon",
        geometry_type="Polygon", minzoom=9, maxzoom=18, group="cases", visible=False,
        source=Source("case_hex_latest", columns=("h3", "n_public", "suppressed", "n_cases"),
                      personal=("n_cases",), version_tables=("case_hex", *_RUN_VERSIONS)),
        style=Style("fill", "#de2d26", fill_opacity=0.55, weight=0.3, property="n_public",
                    classify="graduated", classes=COUNT_CLASSES, label_property="h3"),
        description_zh="每个 H3 六边形的事件数；少于最小公开数的格子不显示数字",
        description_en="Cases per H3 hexagon; cells below the public minimum show no count",
    ),
    Layer(
        name="case_density", title_zh="事件核密度", title_en="Case kernel density",
        geometry_type="Polygon", minzoom=9, maxzoom=18, group="cases", visible=False,
        source=Source("case_kde_latest", columns=("h3", "density_public", "density_per_km2",
                                                  "n_near"),
                      personal=("density_per_km2", "n_near"),
                      version_tables=("case_kde", *_RUN_VERSIONS)),
        style=Style("fill", "#31a354", fill_opacity=0.5, weight=0.0, property="density_public",
                    classify="graduated", classes=DENSITY_CLASSES, label_property="h3"),
        description_zh="高斯核密度（件/平方公里），在城市投影坐标系中计算，带宽见分析参数",
        description_en="Gaussian kernel density (cases per km²) computed in the city's "
        "projected CRS; bandwidth in the run's parameters",
    ),
    Layer(
        name="case_grid_closure", title_zh="网格办结率", title_en="Closure rate by grid",
        geometry_type="MultiPolygon", minzoom=11, maxzoom=18, group="cases", visible=False,
        source=Source("case_grid_latest",
                      columns=("external_id", "name", "residents", "n_public",
                               "closure_rate_public", "median_closure_h_public", "suppressed",
                               "n_cases", "per_1000_residents", "closure_rate",
                               "median_closure_h", "p90_closure_h", "n_open", "n_overdue",
                               "mean_satisfaction"),
                      personal=("n_cases", "per_1000_residents", "closure_rate",
                                "median_closure_h", "p90_closure_h", "n_open", "n_overdue",
                                "mean_satisfaction"),
                      version_tables=("case_grid", "grid", *_RUN_VERSIONS)),
        style=Style("fill", "#1a9641", fill_opacity=0.5, weight=1.0,
                    property="closure_rate_public", classify="graduated",
                    classes=CLOSURE_CLASSES),
        description_zh="各网格事件办结率、办结时长中位数（小时）；事件少于最小公开数的网格不显示",
        description_en="Closure rate and median closure time (hours) per grid; grids below "
        "the public minimum show no figures",
    ),
)
