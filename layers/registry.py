"""Layer declarations and the registry: every map layer is declared once, in ``layers/catalog/``.

How to add a layer (e.g. for an analysis result table or view):

1. Create ``layers/catalog/<topic>.py`` defining ``LAYERS: tuple[Layer, ...]``.
2. Each :class:`Layer` names its :class:`Source`: a table or view with an integer-like id
   column, an EPSG:4326 geometry column, the property columns exposed (``columns``), the
   subset that is personal (``personal`` → only analysts see them), fixed filters, and the
   ``layer_version`` tables whose change counters invalidate cached tiles.
3. Give it a :class:`Style` (kind fill/line/circle, colour, optional legend classes keyed
   on one property, each class with zh/en labels) and ``public=False`` for raw personal data.
4. Import the module in ``layers/catalog/__init__.py`` and add it to ``MODULES``; the
   catalogue (:func:`layers.catalog.default_registry`) then holds it and ``/layers``,
   OGC API Features, tiles and ``/map`` serve it; ``tests/layers`` checks every
   declared layer against the migrated database (columns exist, geometry type matches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from geo.domain import CASE_CATEGORIES, SERVICE_TYPES
from geo.errors import InvalidInputError, NotFoundError, Problem
from geo.vocab import normalise, spellings, suggest, unknown_term
from layers.legend import LegendClass
from layers.styles import COLUMN_LABELS

GeometryType = Literal["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                       "MultiPolygon"]
StyleKind = Literal["fill", "line", "circle"]
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
#: A code of a lookup table, as its CHECK constraint allows (bounded in length).
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class AnyCode:
    """Tile-filter values that are codes of a lookup table extended at run time.

    Service types grow with ``servicecircle types add``, so a filter on them accepts any
    well-formed code (lower-case letters, digits and ``_``, starting with a letter; bound as
    a parameter); a code nobody uses matches no feature. Iterating gives the ``known``
    (built-in) codes, which ``/layers`` lists; ``/vocabulary`` lists every code in use.
    """

    known: tuple[str, ...]

    def __iter__(self) -> Iterator[str]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)


FilterValues = tuple[str | int, ...] | AnyCode


@dataclass(frozen=True)
class Style:
    """How a layer is drawn: one colour, or classes keyed on ``property``."""

    kind: StyleKind
    color: str
    fill_opacity: float = 0.35
    weight: float = 1.5
    radius: float = 6.0
    property: str | None = None
    classify: Literal["categorical", "graduated"] | None = None
    classes: tuple[LegendClass, ...] = ()
    label_property: str | None = "name"  # popup title / search field
    #: A text drawn on each feature: (numeric property, zh unit, en unit), e.g. households.
    text: tuple[str, str, str] | None = None

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {"kind": self.kind, "color": self.color, "fill_opacity": self.fill_opacity,
                "weight": self.weight, "radius": self.radius, "property": self.property,
                "classify": self.classify, "label_property": self.label_property,
                "classes": [c.as_dict(lang) for c in self.classes]}


@dataclass(frozen=True)
class Source:
    """Where a layer's features come from.

    Parameters
    ----------
    table
        Table or view name (identifier, no schema) holding EPSG:4326 geometries.
    id_column
        Unique integer id of a feature (the OGC feature id).
    columns
        Property columns exposed to clients, in this order.
    personal
        Columns of ``columns`` that are personal: returned to analysts only.
    filters
        Fixed ``column = value`` conditions applied to every query.
    city_column
        Column holding ``city.id`` (enables ``?city=<code>``), or ``None``.
    version_tables
        ``layer_version`` tables whose counters version the cached tiles (default: ``table``).
    time_column
        Column (timestamptz) holding each feature's time, for the OGC ``datetime``
        parameter; layers of analysis-run results (``analysis_run`` among the versions)
        use their run's time without it (:func:`geo.store.features.time_expr`).
    query_filters
        Columns a client may filter tiles by (``?column=value``), each with its allowed
        values (or :class:`AnyCode`); see :meth:`parse_query_filters`.
    run_table
        For layers of a city's latest analysis run: a view with the same columns holding
        the rows of every run (column ``run_id``). Tiles and OGC features of such a layer
        then take ``?at=<moment>`` and show the run of that moment
        (:func:`geo.store.coverage.latest_run`, the run the tables use), ``table``
        otherwise.
    """

    table: str
    id_column: str = "id"
    geometry_column: str = "geom"
    columns: tuple[str, ...] = ()
    personal: tuple[str, ...] = ()
    filters: tuple[tuple[str, str | int | bool], ...] = ()
    city_column: str | None = "city_id"
    version_tables: tuple[str, ...] = ()
    name_column: str | None = "name"
    id_per_city: bool = False  # id unique per city only: fid = city_id * 2**32 + id
    query_filters: tuple[tuple[str, FilterValues], ...] = ()
    time_column: str | None = None
    run_table: str | None = None

    @property
    def versions(self) -> tuple[str, ...]:
        return self.version_tables or (self.table,)

    def parse_query_filters(self, params: Mapping[str, str]) -> tuple[tuple[str, str | int], ...]:
        """The declared filters present in ``params`` as ``(column, allowed value)`` pairs.

        A value outside the declared ones, or a parameter naming an exposed column that is
        not declared filterable, raises one :class:`InvalidInputError` listing every problem.
        Values returned are the declared constants (never the caller's text), or for an
        :class:`AnyCode` filter the code a built-in name (Chinese or English) stands for, or
        the caller's text once it is a well-formed code.
        """
        declared = dict(self.query_filters)
        problems: list[Problem] = []
        out: list[tuple[str, str | int]] = []
        for col in self.columns:
            if col not in params:
                continue
            if col not in declared:
                problems.append(Problem(f"cannot filter by {col!r}", field=col))
                continue
            text = params[col].strip()
            allowed = declared[col]
            if isinstance(allowed, AnyCode):
                terms = [t for t in (*SERVICE_TYPES.values(), *CASE_CATEGORIES.values())
                         if t.code in allowed.known]
                code = spellings(terms).get(normalise(text))  # a built-in name → its code
                if code is not None:
                    out.append((col, code))
                elif _CODE.fullmatch(text):
                    out.append((col, text))
                else:
                    problems += unknown_term(text, terms, what=col.replace("_", " "),
                                             field=col).errors
                continue
            match = [v for v in allowed if str(v) == text]
            if not match:
                listed = ", ".join(str(v) for v in allowed)
                problems.append(Problem(f"{text!r} is not one of {listed}", field=col))
            else:
                out.append((col, match[0]))
        if problems:
            raise InvalidInputError("invalid tile filter", problems)
        return tuple(out)

    def visible_columns(self, *, personal: bool) -> tuple[str, ...]:
        """Exposed columns; personal ones only when ``personal`` is True."""
        return tuple(c for c in self.columns if personal or c not in self.personal)


@dataclass(frozen=True)
class Layer:
    """A map layer: titles (zh/en), geometry type, zoom range, style, access and source."""

    name: str
    title_zh: str
    title_en: str
    geometry_type: GeometryType
    source: Source
    style: Style
    minzoom: int = 0
    maxzoom: int = 22
    public: bool = True
    group: str = "base"
    description_zh: str = ""
    description_en: str = ""
    visible: bool = True  # shown when the map opens
    property_labels: tuple[tuple[str, str, str], ...] = ()  # (column, zh, en) for popups

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def labels(self, lang: str) -> dict[str, str]:
        """Popup label of each exposed column (own labels, then common ones, then the name)."""
        own = {c: (zh, en) for c, zh, en in self.property_labels}
        out = {}
        for c in self.source.columns:
            zh, en = own.get(c) or COLUMN_LABELS.get(c) or (c, c)
            out[c] = en if lang == "en" else zh
        return out

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_zh


def validate_layer(layer: Layer) -> None:
    """Check identifiers, zooms and column lists; raise one :class:`InvalidInputError`."""
    problems: list[Problem] = []
    s = layer.source
    idents = [("name", layer.name), ("source.table", s.table), ("source.id_column", s.id_column),
              ("source.geometry_column", s.geometry_column)]
    idents += [("source.columns", c) for c in s.columns]
    idents += [("source.filters", c) for c, _ in s.filters]
    idents += [("source.version_tables", t) for t in s.version_tables]
    idents += [("source.query_filters", c) for c, _ in s.query_filters]
    if s.city_column:
        idents.append(("source.city_column", s.city_column))
    if s.time_column:
        idents.append(("source.time_column", s.time_column))
    if s.run_table:
        idents.append(("source.run_table", s.run_table))
    for fld, value in idents:
        if not _IDENT.match(value):
            problems.append(Problem(f"{value!r} is not a plain lower-case identifier", field=fld))
    if not (0 <= layer.minzoom <= layer.maxzoom <= 24):
        problems.append(Problem("need 0 <= minzoom <= maxzoom <= 24", field="minzoom"))
    for c in s.personal:
        if c not in s.columns:
            problems.append(Problem(f"personal column {c!r} is not in columns", field="personal"))
    for c, values in s.query_filters:
        if c not in s.columns or c in s.personal:
            problems.append(Problem(f"filter column {c!r} is not a public exposed column",
                                    field="query_filters"))
        if not values:
            problems.append(Problem(f"filter column {c!r} has no allowed values",
                                    field="query_filters"))
    if layer.style.property and layer.style.property not in s.columns:
        problems.append(Problem(f"style property {layer.style.property!r} is not exposed",
                                field="style.property"))
    if layer.style.text and (layer.style.text[0] not in s.columns
                             or layer.style.text[0] in s.personal):
        problems.append(Problem(f"text property {layer.style.text[0]!r} is not a public "
                                "exposed column", field="style.text"))
    if layer.style.property and layer.style.property in s.personal:
        problems.append(Problem("style property must not be personal", field="style.property"))
    if problems:
        raise InvalidInputError(f"invalid layer {layer.name!r}", problems)


@dataclass
class Registry:
    """Layers by name, in declaration order."""

    _layers: dict[str, Layer] = field(default_factory=dict)

    def add(self, layer: Layer) -> None:
        """Validate and register ``layer``; a duplicate name is an error."""
        validate_layer(layer)
        if layer.name in self._layers:
            raise InvalidInputError(f"layer {layer.name!r} is declared twice")
        self._layers[layer.name] = layer

    def extend(self, layers: Iterable[Layer]) -> None:
        for layer in layers:
            self.add(layer)

    def get(self, name: str) -> Layer:
        """The layer ``name``; :class:`NotFoundError` (close names suggested) if none."""
        try:
            return self._layers[name]
        except KeyError:
            near = tuple(suggest(name, self._layers))
            mean = f"; did you mean {' or '.join(near)}?" if near else ""
            raise NotFoundError(f"no layer {name!r}{mean}", suggestions=near) from None

    def __iter__(self) -> Iterator[Layer]:
        return iter(self._layers.values())

    def __len__(self) -> int:
        return len(self._layers)

    def __contains__(self, name: object) -> bool:
        return name in self._layers

    def names(self) -> list[str]:
        return list(self._layers)
