"""Re-gridding layer: the proposed grids of each city's newest saved proposal
(``servicecircle analyze regrid --save``, ``POST …/grids/regrid`` with ``save``).

Each proposed grid carries the households, residents and compounds of
:mod:`geo.grids.regrid` (the figures the API answered with) and whether its households are
within the proposal's range; coloured in range / out of range, outlined and labelled with
its households. Aggregated figures only: public.
"""

from __future__ import annotations

from geo.domain import GRID_IN_RANGE_COLOR, GRID_OUT_OF_RANGE_COLOR
from layers.legend import LegendClass
from layers.registry import Layer, Source, Style

RANGE_CLASSES = (
    LegendClass("true", GRID_IN_RANGE_COLOR, "户数在目标范围内", "Households within the range"),
    LegendClass("false", GRID_OUT_OF_RANGE_COLOR, "户数超出目标范围", "Households outside the range"),
)

LAYERS: tuple[Layer, ...] = (
    Layer(
        name="grid_proposal", title_zh="网格优化方案（最新）", title_en="Proposed grids (latest)",
        geometry_type="MultiPolygon", minzoom=12, maxzoom=20, visible=False,
        source=Source("regrid_grid_latest",
                      columns=("run_id", "community", "proposal", "name", "households",
                               "residents", "compounds", "in_range", "lower", "upper"),
                      version_tables=("regrid_grid", "analysis_run")),
        style=Style("fill", GRID_OUT_OF_RANGE_COLOR, fill_opacity=0.3, weight=2.0,
                    property="in_range", classify="categorical", classes=RANGE_CLASSES,
                    text=("households", "户", " households")),
        property_labels=(("run_id", "方案编号", "Proposal run"),
                         ("community", "社区", "Community"),
                         ("proposal", "方案网格编号", "Proposed grid"),
                         ("in_range", "户数在范围内", "Within the range"),
                         ("lower", "户数下限", "Lower bound (households)"),
                         ("upper", "户数上限", "Upper bound (households)")),
        description_zh="每个城市最新保存的网格优化方案：按户数范围重新划分一个社区的网格（小区不拆分），"
        "颜色表示户数是否在范围内，标注为户数",
        description_en="Each city's newest saved re-gridding proposal: one community's grids "
        "redrawn to hold households within the range (compounds never split); coloured by "
        "whether the households are within the range, labelled with the households",
    ),
)
