"""MapLibre style JSON (style specification v8) of a city, built from the layer catalogue.

One style for the web map and for anyone else drawing our tiles (MapLibre, QGIS ≥ 3.28
"vector tile layer → load style"): the offline basemap (:mod:`layers.catalog.basemap`)
or a configured online one (:mod:`layers.basemaps`) at the bottom, then every catalogue
layer the caller may read, in catalogue order, with the colours, classes and visibility
declared there (the vocabulary's, service types added at run time included). Sources are
absolute URLs of our tile endpoints, filtered by city and by the selected service type
and minutes where a layer declares those filters.

Each style layer carries ``metadata``: ``sc:layer`` (the catalogue layer), ``sc:group``
and ``sc:part`` (``main``, ``outline``, ``glyph``, ``label`` or ``basemap``); a layer
whose style declares ``text`` gets a ``label`` part (the number and its unit).
Text is drawn with local fonts (no ``glyphs``: MapLibre ≥ 5.11 renders glyphs locally).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from layers.legend import LegendClass
from layers.registry import Layer, Registry

#: Fonts the map asks the browser for (Debian's fonts-noto-cjk).
FONT = ["Noto Sans CJK SC Regular"]
BACKGROUND = "#f2efe9"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

#: Graduated point symbols: radius 3 px + 0.07 px per square root of the value, ≤ 24 px
#: (area proportional to the value, e.g. residents reached).
R_MIN, R_MAX, R_PER_SQRT = 3.0, 24.0, 0.07
#: Radius of point markers that carry a glyph (a service type's "党", "红" …), pixels,
#: and the zoom from which the glyphs are drawn (below it: smaller plain dots).
GLYPH_RADIUS = 10.0
GLYPH_MINZOOM = 14

Expr = list[Any]


def _prop(name: str) -> Expr:
    return ["get", name]


def color_expression(layer: Layer, classes: tuple[LegendClass, ...]) -> Any:
    """The fill/line/circle colour of ``layer``: one colour, a ``match`` on a categorical
    property or a ``step`` on a graduated one (the class whose lower bound the value
    reaches; below the first bound or missing: the layer's colour)."""
    st = layer.style
    if not st.property or not classes:
        return st.color
    if st.classify == "categorical":
        expr: Expr = ["match", ["to-string", _prop(st.property)]]
        for c in classes:
            expr += [str(c.value), c.color]
        return [*expr, st.color]
    ordered = sorted(classes, key=lambda c: float(c.value or 0))
    step: Expr = ["step", ["to-number", _prop(st.property)], st.color]
    for c in ordered:
        step += [float(c.value or 0), c.color]
    return ["case", ["==", _prop(st.property), None], st.color, step]


def radius_expression(layer: Layer) -> Any:
    """Circle radius: graduated point layers by the square root of their value."""
    st = layer.style
    if st.classify == "graduated" and st.property:
        v = ["max", 0, ["to-number", ["coalesce", _prop(st.property), 0]]]
        return ["min", R_MAX, ["+", R_MIN, ["*", R_PER_SQRT, ["sqrt", v]]]]
    if any(c.icon for c in st.classes):  # small dots at city scale, glyph markers close up
        return ["interpolate", ["linear"], ["zoom"], GLYPH_MINZOOM - 3, 3.5,
                GLYPH_MINZOOM, GLYPH_RADIUS]
    return st.radius


def tile_url(base: str, layer: str, query: Mapping[str, str | int]) -> str:
    """The XYZ template of ``layer``'s tiles with ``query`` (braces left unencoded)."""
    q = urlencode({k: v for k, v in query.items() if v not in (None, "")})
    return f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt" + (f"?{q}" if q else "")


def _meta(layer: Layer, part: str) -> dict[str, str]:
    return {"sc:layer": layer.name, "sc:group": layer.group, "sc:part": part}


def catalogue_layers(layer: Layer, classes: tuple[LegendClass, ...], *, lang: str
                     ) -> list[dict[str, Any]]:
    """The style layers drawing one catalogue layer (source and source-layer: its name)."""
    st, name = layer.style, layer.name
    visibility = {"visibility": "visible" if layer.visible else "none"}
    common: dict[str, Any] = {"source": name, "source-layer": name, "minzoom": layer.minzoom,
              "layout": visibility}
    colour = color_expression(layer, classes)
    out: list[dict[str, Any]] = []
    if st.kind == "fill":
        out.append({"id": name, "type": "fill", **common, "metadata": _meta(layer, "main"),
                    "paint": {"fill-color": colour, "fill-opacity": st.fill_opacity}})
        edge = "#666666" if st.property else st.color
        out.append({"id": f"{name}:outline", "type": "line", **common,
                    "layout": dict(visibility), "metadata": _meta(layer, "outline"),
                    "paint": {"line-color": edge, "line-width": st.weight,
                              "line-opacity": 0.8}})
        if st.text:
            prop, zh, en = st.text
            number = ["number-format", ["to-number", _prop(prop)], {"max-fraction-digits": 0}]
            out.append({"id": f"{name}:label", "type": "symbol", **common,
                        "layout": {**visibility, "text-font": FONT, "text-size": 12,
                                   "text-field": ["concat", number, en if lang == "en" else zh]},
                        "metadata": _meta(layer, "label"),
                        "paint": {"text-color": "#222222", "text-halo-color": "#ffffff",
                                  "text-halo-width": 1.5}})
    elif st.kind == "line":
        out.append({"id": name, "type": "line", **common, "metadata": _meta(layer, "main"),
                    "paint": {"line-color": colour, "line-width": st.weight,
                              "line-opacity": 0.9}})
    else:
        out.append({"id": name, "type": "circle", **common, "metadata": _meta(layer, "main"),
                    "paint": {"circle-color": colour, "circle-radius": radius_expression(layer),
                              "circle-opacity": st.fill_opacity,
                              "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5}})
        glyphs = [c for c in classes if c.icon]
        if glyphs and st.property:
            text: Expr = ["match", ["to-string", _prop(st.property)]]
            for c in glyphs:
                text += [str(c.value), c.icon]
            out.append({"id": f"{name}:glyph", "type": "symbol", **common,
                        "minzoom": max(layer.minzoom, GLYPH_MINZOOM),
                        "metadata": _meta(layer, "glyph"),
                        "layout": {**visibility, "text-field": [*text, ""],
                                   "text-font": FONT, "text-size": 11,
                                   "text-allow-overlap": True, "text-ignore-placement": True},
                        "paint": {"text-color": "#ffffff"}})
    return out


def _label(lang: str) -> Expr:
    own = "name_en" if lang == "en" else "name_zh"
    return ["coalesce", _prop(own), _prop("name")]


def basemap_layers(layers: Iterable[Layer], *, lang: str, source: str = "basemap"
                   ) -> list[dict[str, Any]]:
    """Style layers of the offline basemap (one source; source-layers ``basemap_*``)."""
    colour = {lyr.name: lyr.style.color for lyr in layers}
    out: list[dict[str, Any]] = []

    def add(id_: str, kind: str, src_layer: str, paint: dict[str, Any], *, minzoom: float = 0,
            layout: dict[str, Any] | None = None, filt: Any = None) -> None:
        if src_layer not in colour:
            return
        lyr: dict[str, Any] = {"id": id_, "type": kind, "source": source,
                               "source-layer": src_layer, "minzoom": minzoom, "paint": paint,
                               "layout": layout or {},
                               "metadata": {"sc:layer": src_layer, "sc:group": "basemap",
                                            "sc:part": "basemap"}}
        if filt is not None:
            lyr["filter"] = filt
        out.append(lyr)

    major = ["motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link",
             "primary_link"]
    middle = ["tertiary", "secondary_link", "tertiary_link", "unclassified", "residential",
              "living_street", "road"]
    rail = ["rail", "subway", "light_rail", "tram"]
    kind = ["get", "kind"]

    def width(extra: float) -> Expr:  # pixels by road class and zoom, + ``extra``
        return ["interpolate", ["exponential", 1.6], ["zoom"],
                11, ["match", kind, major, 2.0 + extra, middle, 0.8 + extra, 0.4 + extra],
                17, ["match", kind, major, 14.0 + extra, middle, 8.0 + extra, 3.0 + extra]]

    add("basemap:builtup", "fill", "basemap_builtup",
        {"fill-color": ["match", kind, ["university", "college", "school", "kindergarten"],
                        "#f0e6d2", "hospital", "#f5dede", colour.get("basemap_builtup")]})
    add("basemap:green", "fill", "basemap_green", {"fill-color": colour.get("basemap_green")})
    add("basemap:water", "fill", "basemap_water", {"fill-color": colour.get("basemap_water")})
    add("basemap:waterways", "line", "basemap_waterways",
        {"line-color": colour.get("basemap_waterways"),
         "line-width": ["match", kind, ["river", "canal"], 4, 1.5]})
    add("basemap:buildings", "fill", "basemap_buildings",
        {"fill-color": colour.get("basemap_buildings"), "fill-outline-color": "#c4b9ae"},
        minzoom=14)
    not_rail = ["!", ["in", kind, ["literal", rail]]]
    add("basemap:roads-casing", "line", "basemap_roads",
        {"line-color": "#c9bfb5", "line-width": width(1.5)},
        layout={"line-cap": "round", "line-join": "round"}, filt=not_rail)
    add("basemap:roads", "line", "basemap_roads",
        {"line-color": ["match", kind, major, "#fcd9a0", "#ffffff"], "line-width": width(0)},
        layout={"line-cap": "round", "line-join": "round"}, filt=not_rail)
    add("basemap:rail", "line", "basemap_roads",
        {"line-color": "#8c8c8c", "line-width": 1.5, "line-dasharray": [3, 2]},
        filt=["in", kind, ["literal", rail]])
    add("basemap:waterway-names", "symbol", "basemap_waterways",
        {"text-color": "#3a6f96", "text-halo-color": "#ffffff", "text-halo-width": 1.2},
        minzoom=13, layout={"symbol-placement": "line", "text-field": _label(lang),
                            "text-font": FONT, "text-size": 12})
    add("basemap:road-names", "symbol", "basemap_roads",
        {"text-color": "#3d3d3d", "text-halo-color": "#ffffff", "text-halo-width": 1.5},
        minzoom=13, filt=not_rail,
        layout={"symbol-placement": "line", "text-field": _label(lang), "text-font": FONT,
                "text-size": ["interpolate", ["linear"], ["zoom"], 13, 11, 17, 14],
                "symbol-spacing": 300, "text-max-angle": 30})
    add("basemap:labels", "symbol", "basemap_labels",
        {"text-color": ["step", ["get", "rank"], "#222222", 4, "#6b5a4a"],
         "text-halo-color": "#ffffff", "text-halo-width": 1.5},
        layout={"text-field": _label(lang), "text-font": FONT,
                "text-size": ["step", ["get", "rank"], 15, 2, 13, 4, 11],
                "symbol-sort-key": ["get", "rank"], "text-max-width": 8,
                "text-padding": 4},
        filt=["any", ["<", ["get", "rank"], 4], [">=", ["zoom"], 15]])
    return out


def map_style(registry: Registry, *, base: str, city: str | None, lang: str,
              readable: Callable[[Layer], bool],
              classes_for: Callable[[Layer], tuple[LegendClass, ...]],
              selection: Mapping[str, str | int],
              center: tuple[float, float] | None = None, zoom: float | None = None,
              online: dict[str, Any] | None = None) -> dict[str, Any]:
    """The style of ``city`` in ``lang`` with absolute URLs under ``base``.

    ``readable(layer)`` decides which catalogue layers the caller gets; ``classes_for``
    gives a layer's legend classes (the vocabulary's, with service types added at run
    time); ``selection`` holds the values of the tile filters (``service_type``,
    ``minutes``) for the layers declaring them. ``online`` is an online basemap's source
    and layers (:func:`layers.basemaps.online_basemap`), drawn instead of the offline one.
    """
    city_q: dict[str, str | int] = {"city": city} if city else {}
    sources: dict[str, Any] = {}
    style_layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": BACKGROUND},
         "metadata": {"sc:part": "basemap", "sc:group": "basemap"}}]
    base_layers = [lyr for lyr in registry if lyr.group == "basemap"]
    if online:
        sources.update(online["sources"])
        style_layers += online["layers"]
    elif base_layers:
        sources["basemap"] = {
            "type": "vector", "tiles": [tile_url(base, "basemap", city_q)],
            "minzoom": min(lyr.minzoom for lyr in base_layers),
            "maxzoom": max(lyr.maxzoom for lyr in base_layers),
            "attribution": OSM_ATTRIBUTION}
        style_layers += basemap_layers(base_layers, lang=lang)
    # areas, then lines, then points on top (catalogue order within each)
    order = {"fill": 0, "line": 1, "circle": 2}
    for layer in sorted(registry, key=lambda lyr: order[lyr.style.kind]):
        if layer.group == "basemap" or not readable(layer):
            continue
        filters = {c: selection[c] for c, _ in layer.source.query_filters if c in selection}
        sources[layer.name] = {"type": "vector",
                               "tiles": [tile_url(base, layer.name, {**city_q, **filters})],
                               "minzoom": layer.minzoom, "maxzoom": layer.maxzoom,
                               "attribution": OSM_ATTRIBUTION}
        style_layers += catalogue_layers(layer, classes_for(layer), lang=lang)
    style: dict[str, Any] = {
        "version": 8, "name": f"servicecircle {city or ''}".strip(),
        "metadata": {"sc:city": city, "sc:lang": lang, "sc:selection": dict(selection),
                     "sc:basemap": "osm", **(online["metadata"] if online else {}),
                     "sc:symbol": {"min": R_MIN, "max": R_MAX, "per_sqrt": R_PER_SQRT}},
        "sources": sources, "layers": style_layers}
    if center is not None:
        style["center"] = list(center)
        style["zoom"] = zoom if zoom is not None else 13
    return style
