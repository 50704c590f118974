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


class PlanAnswer(Totals):
    city: str
    service_type: str
    model: str
    minutes: float
    weight: str
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
    unknown_weight: float
    sites: list[dict[str, Any]]
    newly_covered: list[int]
    runtime_ms: float
    scenario_id: int | None


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

class Health(Model):
    status: str
    postgis: str
    cities: list[str]


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
