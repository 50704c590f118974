"""Base layers: administrative units, compounds, service points, streets and raw cases."""

from __future__ import annotations

from geo.domain import SERVICE_TYPES, ServiceType
from layers.registry import Layer, Source, Style
from layers.styles import (
    RESIDENT_CLASSES,
    UNTYPED_COLOR,
    case_category_classes,
    service_type_classes,
)

_UNIT = ("external_id", "name", "source")
_EXAMPLES = tuple(SERVICE_TYPES[t] for t in (ServiceType.PARTY_MASS_CENTRE, ServiceType.RED_STATION,
                                             ServiceType.COURIER_STATION))


def _boundary(name: str, table: str, parent: tuple[str, ...], *, titles: tuple[str, str],
              descriptions: tuple[str, str], zooms: tuple[int, int], color: str,
              fill_opacity: float, weight: float) -> Layer:
    """An administrative unit's boundaries (street, community, grid): outlined, barely
    filled, off at start, with its id, name, source and parent unit."""
    return Layer(name=name, title_zh=titles[0], title_en=titles[1],
                 geometry_type="MultiPolygon", minzoom=zooms[0], maxzoom=zooms[1],
                 source=Source(table, columns=(*_UNIT, *parent)),
                 style=Style("fill", color, fill_opacity=fill_opacity, weight=weight),
                 visible=False, description_zh=descriptions[0], description_en=descriptions[1])


LAYERS: tuple[Layer, ...] = (
    _boundary("streets", "street", (), titles=("街道", "Sub-districts (streets)"),
              descriptions=("街道（乡镇）辖区边界", "Sub-district boundaries"), zooms=(8, 18),
              color="#6c3483", fill_opacity=0.04, weight=3.0),
    _boundary("communities", "community", ("street_id",), titles=("社区", "Communities"),
              descriptions=("社区（村）边界", "Community boundaries"), zooms=(10, 18),
              color="#2874a6", fill_opacity=0.05, weight=2.0),
    _boundary("grids", "grid", ("community_id",), titles=("网格", "Grids"),
              descriptions=("网格边界（一格一专职网格员）", "Grid boundaries"), zooms=(12, 20),
              color="#117a65", fill_opacity=0.06, weight=1.0),
    Layer(
        name="compounds", title_zh="小区（按居民人数）", title_en="Compounds by residents",
        geometry_type="MultiPolygon", minzoom=12, maxzoom=20,
        source=Source("compound", columns=(*_UNIT, "community_id", "households", "residents",
                                           "elderly", "property_management", "age_0_14",
                                           "age_15_59")),
        style=Style("fill", "#fd8d3c", fill_opacity=0.6, weight=0.8, property="residents",
                    classify="graduated", classes=RESIDENT_CLASSES),
        visible=False,
        description_zh="居民小区，颜色表示居民人数", description_en="Residential compounds, "
        "coloured by number of residents",
    ),
    Layer(
        name="service_points", title_zh="服务阵地（按类型）", title_en="Service points by type",
        geometry_type="Point", minzoom=10, maxzoom=22,
        source=Source("service_point", columns=("external_id", "type", "name", "address",
                                                "opening_hours", "capacity", "floor_area_m2",
                                                "source")),
        style=Style("circle", UNTYPED_COLOR, fill_opacity=0.9, radius=7.0, property="type",
                    classify="categorical", classes=service_type_classes()),
        description_zh="、".join(t.zh for t in _EXAMPLES) + "等",
        description_en=", ".join(f"{t.en.lower()}s" for t in _EXAMPLES) + " and other service "
        "points",
    ),
    Layer(
        name="street_edges", title_zh="路网", title_en="Street network",
        geometry_type="LineString", minzoom=13, maxzoom=22,
        source=Source("street_edge", id_column="edge_id", id_per_city=True,
                      columns=("name", "highway", "length_m", "walk", "ride", "walk_rule"),
                      version_tables=("street_edge",)),
        style=Style("line", "#7b7d7d", weight=1.2),
        visible=False,
        description_zh="步行与骑行路网", description_en="Walking and riding street network",
    ),
    Layer(
        name="grid_cases", title_zh="网格事件（原始点位，受限）", title_en="Grid cases (raw, restricted)",
        geometry_type="Point", minzoom=12, maxzoom=22, public=False, group="cases",
        source=Source("grid_case", name_column="external_id", time_column="reported_at",
                      columns=("external_id", "category", "status", "reported_at", "closed_at",
                               "satisfaction", "handling_unit", "channel", "description"),
                      personal=("external_id", "handling_unit", "channel", "description")),
        style=Style("circle", "#c0392b", fill_opacity=0.8, radius=4.0, property="category",
                    classify="categorical", classes=case_category_classes(),
                    label_property="category"),
        visible=False,
        description_zh="原始事件点位，仅分析人员可见", description_en="Raw case locations, "
        "analysts only",
    ),
)
