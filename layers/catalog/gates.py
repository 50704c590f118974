"""The gate layer: compound gates given by users and gates inferred from OpenStreetMap.

One point per gate (view ``compound_gate``, migration 0007f): ``origin_kind`` says whether
the user gave it (``gate``) or it was inferred (``inferred_gate``, :mod:`geo.network.gates`);
``used`` whether coverage starts walks there (a compound's own gates win over inferred ones).
"""

from __future__ import annotations

from geo.domain import ORIGIN_KINDS, OriginKind
from layers.legend import LegendClass
from layers.registry import Layer, Source, Style

GATE_CLASSES = tuple(LegendClass(t.code, t.color or "#888888", t.zh, t.en)
                     for t in ORIGIN_KINDS.values() if t.code != OriginKind.INTERIOR_POINT)

LAYERS: tuple[Layer, ...] = (
    Layer(
        name="compound_gates", title_zh="小区出入口", title_en="Compound gates",
        geometry_type="Point", minzoom=14, maxzoom=22,
        source=Source("compound_gate", columns=("compound_id", "external_id", "origin_kind",
                                                "used"),
                      version_tables=("compound",)),
        style=Style("circle", ORIGIN_KINDS[OriginKind.GATE].color or "#1f618d",
                    fill_opacity=0.9, radius=4.0, property="origin_kind",
                    classify="categorical", classes=GATE_CLASSES),
        visible=False,
        description_zh="用户提供的小区出入口，及从OpenStreetMap推断的出入口（门、入口节点，"
        "步行道路穿过小区边界处）；覆盖分析从最近的出入口出发",
        description_en="Compound gates given by users and gates inferred from OpenStreetMap "
        "(gate and entrance nodes, walkable ways crossing the compound outline); coverage "
        "walks from the best gate",
    ),
)
