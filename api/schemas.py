"""Response models of the HTTP API (shown in ``/docs`` and ``/openapi.json``).

Bodies are written by :mod:`api.responses`; these models state their shape. Every model
allows further members (``extra="allow"``) so an added field is not a breaking change;
the members named here are always present.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from geo.store.siting import Scenario as StoredScenario


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class ProblemError(Model):
    """One problem of the input: where (row, field), why, and what to change."""

    row: int | None = None
    field: str | None = None
    reason: str
    hint: str | None = Field(default=None, description="What to change, in this API's terms")


class Problem(Model):
    """An RFC 9457 problem (``application/problem+json``)."""

    type: str = Field(..., examples=["about:blank#invalid-input"])
    title: str
    status: int
    code: str = Field(..., description="Stable error code, e.g. invalid-input, not-found")
    detail: str | None = None
    hint: str | None = Field(default=None, description="What to change, in this API's terms")
    errors: list[ProblemError] | None = None
    suggestions: list[str] | None = Field(default=None, description=(
        "Close names the caller may have meant (did you mean …), e.g. city codes"))


# --- GeoJSON -----------------------------------------------------------------------------

class Feature(Model):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(Model):
    """GeoJSON FeatureCollection, EPSG:4326 lon/lat; ``meta`` describes the answer."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    meta: dict[str, Any] | None = None


# --- tables ------------------------------------------------------------------------------

class Table(Model):
    """A table: what it shows (``meta``), how many rows, the rows. ``format=csv`` gives
    the same rows as CSV (UTF-8 with BOM, whole people)."""

    meta: dict[str, Any]
    count: int
    rows: list[dict[str, Any]]


class RunMeta(Model):
    """A stored analysis run: id, time, parameters, headline figures."""

    id: int
    created_at: str
    params: dict[str, Any]
    summary: dict[str, Any]


class CoverageRun(RunMeta):
    data_version: dict[str, Any]
    at: str | None = Field(default=None, description=(
        "The moment asked for: only service points open then count (null: all day)"))


class CoverageCounts(Model):
    """Whole people and compounds inside / outside / unknown (off the street network)."""

    compounds: int
    compounds_in: int
    compounds_out: int
    compounds_unknown: int
    residents: int
    residents_in: int
    residents_out: int
    residents_unknown: int
    households: int
    households_in: int
    households_out: int
    households_unknown: int
    share_covered: float | None = Field(
        description="Residents inside / residents with known access (null without any)")
    target_group: str | None = Field(None, description=(
        "The group the service type serves: all, age_0_14, age_15_59 or age_60_plus"))
    speed_m_per_min: float | None = Field(None, description="Their walking speed, m/min")
    target: int | None = Field(None, description="People of the served group (compounds of "
                               "unknown group size left out)")
    target_in: int | None = None
    target_out: int | None = None
    target_unknown: int | None = None
    compounds_target_unknown: int | None = Field(
        None, description="Compounds whose size of the served group is unknown")
    target_share_covered: float | None = Field(
        None, description="Served group inside / served group with known access")


class CoverageUnitRow(CoverageCounts):
    """One community, grid or street: ``unit_id`` is the feature id of the map's
    ``communities`` / ``grids`` / ``streets`` layer."""

    unit_kind: Literal["community", "grid", "street"]
    unit_id: int
    external_id: str | None
    name: str | None


class DataCompleteness(Model):
    """How complete the compound data of the run were."""

    compounds: int
    compounds_with_residents: int
    compounds_with_gates: int
    share_with_residents: float | None
    share_with_gates: float | None


class CoveragePanel(Model):
    """The numbers beside the map for one service type and threshold: city totals,
    data completeness and the breakdown by community, grid and street (the rows the CSV
    and Excel downloads hold). ``labels`` names every column in ``lang``."""

    city: str
    run_id: int
    created_at: str
    lang: Literal["zh", "en"]
    service_type: str
    service_type_label: str
    minutes: float
    budget_m: float
    target_group: str | None = Field(None, description="The group the type serves")
    target_group_label: str | None = Field(None, description="Its label in ``lang``")
    speed_m_per_min: float | None = Field(None, description="Their walking speed, m/min")
    gap_layer: str = Field(description="The map layer of this threshold's gaps")
    totals: CoverageCounts
    data: DataCompleteness
    labels: dict[str, str]
    rows: list[CoverageUnitRow]
    downloads: dict[str, str] = Field(description="csv and xlsx links of these rows")
    at: str | None = Field(default=None, description=(
        "The moment asked for: only service points open then count (null: all day)"))


class CourierRunMeta(Model):
    city: str
    run_id: int
    created_at: str
    service_type: str | None
    mode: str | None
    budget_m: float | None
    minutes: float | None
    speed_m_per_min: float | None
    weight: str | None
    summary: dict[str, Any]


# --- siting ------------------------------------------------------------------------------

class Totals(Model):
    total_weight: float
    before_weight: float
    after_weight: float
    gain: float
    before_share: float
    after_share: float


class SitingWalkers(Model):
    """Whom a siting answer counts and how fast they walk: the type's, as in its coverage
    (:meth:`geo.siting.scenario.SitingDemand.summary`)."""

    target_group: str | None = Field(description=(
        "Population group whose people the demand counts (all, age_0_14, age_15_59, "
        "age_60_plus); null for households, cases and rider demand"))
    speed_m_per_min: float = Field(description="Walking speed, m/min")
    budget_m: float = Field(description="The walking circle in network metres (minutes × speed)")
    zh: str = Field(description="Stated in Chinese, e.g. 60岁以上居民，步行60米/分钟")
    en: str = Field(description="Stated in English, e.g. residents 60+, walking 60 m/min")


class PlanAnswer(Totals):
    city: str
    service_type: str
    model: str
    minutes: float
    weight: str
    walkers: SitingWalkers
    n_candidates: int
    solver: dict[str, Any]
    sites: FeatureCollection
    compounds: FeatureCollection | None = None
    scenario_id: int | None


class WhatIfAnswer(Totals):
    city: str
    service_type: str
    minutes: float
    weight: str
    walkers: SitingWalkers
    unknown_weight: float
    sites: list[dict[str, Any]]
    newly_covered: list[int]
    runtime_ms: float
    scenario_id: int | None
    title: dict[str, str] | None = None
    circles: FeatureCollection | None = None
    compounds: FeatureCollection | None = None


class Written(Model):
    written: int


def _members(cls: type, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of dataclass ``cls`` as (required) pydantic field definitions."""
    hints = get_type_hints(cls)
    return {f.name: (hints[f.name], ...) for f in fields(cls) if f.name not in without}


#: A saved scenario (:meth:`geo.store.siting.Scenario.summary`): the stored members but the
#: sites, and how many sites it has.
Scenario = create_model("Scenario", __base__=Model, n_sites=(int, ...),
                        **_members(StoredScenario, without=("sites",)))
ScenarioWithSites = create_model("ScenarioWithSites", __base__=Scenario,
                                 sites=(FeatureCollection, ...))


# --- catalogue, keys, health, imports, OGC -------------------------------------------------

class NetworkPart(Model):
    """A part of a walking network apart from the largest (street names, OSM ways)."""

    n_edges: int
    length_m: float
    names: list[str]
    way_ids: list[int]


class WalkNetwork(Model):
    """A city's walking network: only nodes with walking edges count; ``n_components``
    parts, the largest holding ``largest_share`` of the street length (null without
    figures: a network stored before they were kept)."""

    city: str
    n_nodes: int | None = None
    n_edges: int | None = None
    n_components: int | None = None
    length_m: float | None = None
    largest_length_m: float | None = None
    largest_share: float | None = None
    pieces: list[NetworkPart] = []


class Health(Model):
    status: str
    postgis: str
    cities: list[str]
    networks: list[WalkNetwork] = Field(
        default=[], description="Walking-network figures per city, as `city add` printed them")


class Layer(Model):
    name: str
    title: str
    title_zh: str
    title_en: str
    group: str
    geometry_type: str
    public: bool
    style: dict[str, Any]
    tiles: str


class LayerCatalogue(Model):
    lang: str
    attribution: str
    groups: dict[str, str]
    layers: list[Layer]


class SearchResults(Model):
    q: str
    results: list[dict[str, Any]]


class TileJSON(Model):
    tilejson: str
    name: str
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: list[float]
    vector_layers: list[dict[str, Any]]


class Me(Model):
    name: str | None
    role: str | None


class Key(Model):
    name: str
    role: str
    created_at: str
    revoked_at: str | None


class CreatedKey(Key):
    key: str = Field(..., description="The plain key: shown in this response only")


class Keys(Model):
    keys: list[Key]


class ImportReport(Model):
    city: str
    kind: str
    rows_read: int
    inserted: int
    updated: int
    repaired: list[Any]
    warnings: list[str]
    dry_run: bool


class Landing(Model):
    title: str
    links: list[dict[str, Any]]


class Conformance(Model):
    conformsTo: list[str]


class Collection(Model):
    id: str
    title: str
    links: list[dict[str, Any]]
    extent: dict[str, Any]


class Collections(Model):
    links: list[dict[str, Any]]
    collections: list[Collection]


# --- grids (workload and re-gridding) ------------------------------------------------------

class GridsAnswer(Model):
    """Per-grid workload (``grids``) and the imbalance per community or street; formulas in
    :mod:`geo.grids.workload`."""

    city: str
    start: str | None
    end: str | None
    months: float
    lower: int
    upper: int
    by: Literal["community", "street"]
    grids: list[dict[str, Any]]
    imbalance: list[dict[str, Any]]


class RegridProblemOut(Model):
    """A compound that keeps a proposed grid outside the range, and why."""

    compound_id: int
    compound: str
    reason: Literal["compound_exceeds_range", "component_below_range", "grid_above_range",
                    "grid_below_range"]
    compound_households: float
    grid_households: float
    proposal: int
    label: str = Field(description="The reason in words (zh, or en with ?lang=en), from the "
                       "vocabulary's regrid_reasons")


class RegridAnswer(Model):
    """A community's proposed grids (GeoJSON, EPSG:4326), the before/after table and the
    compounds preventing a feasible proposal (empty when ``feasible``)."""

    city: str
    community: str
    lower: int
    upper: int
    feasible: bool
    epsg: int
    run_id: int | None = Field(default=None, description="The stored proposal's run id "
                               "(with save), else null")
    before_after: list[dict[str, Any]]
    problems: list[RegridProblemOut]
    grids: FeatureCollection


# --- nearest-station finder ----------------------------------------------------------------

class LabelOut(Model):
    """A code with its label in the requested language and both labels."""

    code: str
    label: str
    label_zh: str
    label_en: str


class LonLat(Model):
    """A point, EPSG:4326."""

    lon: float
    lat: float


class FinderStart(LonLat):
    """Where the start meets the network (EPSG:4326) and the straight metres to it."""

    snap_m: float


class PlaceOut(LonLat):
    """A named place of the city: compound, station or street, with the point a route
    starts from (EPSG:4326) and the text that found it."""

    kind: Literal["compound", "station", "street"]
    id: int | None
    name: str
    service_type: str | None
    matched: str


class FoundStation(LonLat):
    """One station reached: network metres and minutes (straight snap distances
    included), the route along the streets (GeoJSON LineString, EPSG:4326, from the
    snapped start to the station), opening hours (OSM syntax) and what it offers."""

    rank: int
    id: int
    external_id: str | None
    name: str
    address: str | None
    opening_hours: str | None
    services: list[LabelOut]
    metres: float
    minutes: float
    route: dict[str, Any] = Field(description="GeoJSON LineString, EPSG:4326")


class FinderAnswer(Model):
    """The nearest stations of a type from a point or an address, by rising minutes."""

    city: str
    lang: Literal["zh", "en"]
    service_type: LabelOut
    mode: Literal["walk", "ride"]
    speed_m_per_min: float
    k: int
    origin: LonLat
    start: FinderStart
    place: PlaceOut | None = Field(description="The place a typed address resolved to")
    n_stations: int = Field(description="Stations of the type in the city")
    n_reachable: int = Field(description="Those the network connects to the start")
    stations: list[FoundStation]


class PlaceResults(Model):
    """Places matching a typed address, best first; ``names`` the texts searched."""

    city: str
    q: str
    names: list[str]
    results: list[PlaceOut]


# --- case months -------------------------------------------------------------------------

class CaseMonth(Model):
    """Cases of one calendar month (China Standard Time), all categories."""

    month: str = Field(description="YYYY-MM")
    n_cases: int | None = Field(description="Cases; null when withheld (public: fewer than "
                                "min_public_case_count)")
    suppressed: bool


class CaseMonths(Model):
    """The months a city's case data cover, for the map's period control: every month from
    the first to the last with cases (zeros included); public callers see complete months
    only."""

    city: str
    access: Literal["analyst", "public"]
    min_public_case_count: int
    first: str | None = Field(description="First month with cases (YYYY-MM), null: none")
    last: str | None = Field(description="Last month with cases (YYYY-MM), null: none")
    months: list[CaseMonth]
