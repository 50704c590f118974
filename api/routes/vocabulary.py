"""``GET /vocabulary``: the codes, labels (zh/en), colours and thresholds the web map uses.

They are defined once, in :mod:`geo.domain`; service types added at run time
(``servicecircle types add``) come from the lookup table with the labels stored there and
a colour of their own. The map's JavaScript restates none of it: its selectors, legends,
popups and panels are built from this answer and the layer catalogue (``/layers``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ConnDep, SettingsDep
from geo.domain import (
    BROUGHT_INSIDE_COLOR,
    COURIER_CIRCLE_M,
    DEFAULT_SERVICE_TYPE,
    DEFAULT_SITING_TYPE,
    GB50180_METRES,
    GRID_HOUSEHOLDS_RANGE,
    LIFE_CIRCLE_MINUTES,
    MAX_WALK_MINUTES,
    PROPOSED_SITE_COLOR,
    SERVICE_WALKERS,
    STATION_SERVICES,
    WALK_MINUTES,
    Term,
)
from geo.runs.params import PlanParams
from geo.store.vocabulary import service_type_terms
from layers.styles import VOCABULARY, VOCABULARY_COLUMNS

router = APIRouter(tags=["vocabulary"])


class TermOut(BaseModel):
    """One code with its labels and, if the map draws it, its colour and marker glyph."""

    code: str
    label: str = Field(description="The label in the requested language")
    label_zh: str
    label_en: str
    color: str | None = Field(None, description="CSS hex colour (map, legend, report)")
    glyph: str | None = Field(None, description="Short text drawn on point markers")
    builtin: bool = Field(True, description="False for a service type added at run time")


class ThresholdsOut(BaseModel):
    """Thresholds of the analyses (minutes, metres, metres per minute)."""

    walk_minutes: list[int] = Field(description="Walking-time thresholds of the life circles")
    life_circle_minutes: int = Field(description="The life circle of completeness and siting")
    max_walk_minutes: int = Field(description="Longest walking circle siting accepts")
    gb50180_m: dict[int, float] = Field(
        description="GB 50180-2018 walking distance (m) of each life circle (minutes)")
    courier_circle_m: float = Field(description="The couriers' service circle (network m)")
    circle_trim_m: float = Field(description="Polygon trim distance of the circles (m): "
                                 "land farther from every street is in no circle")
    circle_cell_m: float = Field(description="Cell size the circles are drawn on (m)")
    grid_households: tuple[int, int] = Field(
        description="Default target households per grid (lower, upper) of grid workload "
        "and re-gridding")
    walk_speed_m_per_min: float = Field(description="Walking speed of this service")
    ride_speed_m_per_min: float = Field(description="Couriers' riding speed of this service")


class WalkersOut(BaseModel):
    """Whom a service type serves and how fast they walk (coverage counts them)."""

    target_group: str
    speed_m_per_min: float = Field(description="Walking speed, m/min")
    source: str = Field(description="Where the speed comes from")


class DefaultsOut(BaseModel):
    """What the map's panels start with."""

    siting_service_type: str
    minutes: int
    siting_sites: int = Field(description="Number of new stations siting proposes by default")
    siting_colors: dict[str, str] = Field(description=(
        "Colours of the siting panel: proposed (new stations and their circles), "
        "brought_inside (compounds they bring inside)"))
    service_type: str = Field(description="The service type the map opens on (coverage "
                              "view, numbers beside the map, siting)")


class VocabularyOut(BaseModel):
    """Every list of codes, which property columns hold them, thresholds and defaults."""

    lang: Literal["zh", "en"]
    service_types: list[TermOut] = Field(description="Built-in types, then those added")
    case_categories: list[TermOut]
    case_statuses: list[TermOut]
    property_management: list[TermOut]
    population_groups: list[TermOut] = Field(
        description="Groups of residents a service type serves (all, 0–14, 15–59, 60+)")
    walkers: dict[str, WalkersOut] = Field(description=(
        "Service type → the group it serves and their walking speed (types not listed: all "
        "residents at walk_speed_m_per_min)"))
    station_services: list[TermOut] = Field(
        description="What stations offer (service_point.services), as the finder shows them")
    regrid_reasons: list[TermOut] = Field(
        description="Why a proposed grid of re-gridding is outside the household range")
    columns: dict[str, str] = Field(
        description="Property column → the list above holding its codes (e.g. type → "
        "service_types)")
    thresholds: ThresholdsOut
    defaults: DefaultsOut


def _terms(terms: Iterable[Term], lang: str) -> list[TermOut]:
    return [TermOut(code=t.code, label=t.label(lang), label_zh=t.zh, label_en=t.en,
                    color=t.color, glyph=t.glyph, builtin=t.builtin) for t in terms]


@router.get("/vocabulary")
def vocabulary(conn: ConnDep, settings: SettingsDep,
               lang: Annotated[Literal["zh", "en"], Query(description="Language of labels")] = "zh"
               ) -> VocabularyOut:
    """Service types (built-in and added), case categories and statuses, property
    management, station services, re-gridding reasons: codes, zh/en labels, colours; the
    thresholds and the map's defaults."""
    return VocabularyOut(
        lang=lang, service_types=_terms(service_type_terms(conn), lang),
        case_categories=_terms(VOCABULARY["case_categories"].values(), lang),
        case_statuses=_terms(VOCABULARY["case_statuses"].values(), lang),
        property_management=_terms(VOCABULARY["property_management"].values(), lang),
        population_groups=_terms(VOCABULARY["population_groups"].values(), lang),
        walkers={t: WalkersOut(target_group=str(w.group), source=w.source,
                               speed_m_per_min=w.speed_m_per_min or settings.walk_speed_m_per_min)
                 for t, w in SERVICE_WALKERS.items()},
        station_services=_terms(STATION_SERVICES.values(), lang),
        regrid_reasons=_terms(VOCABULARY["regrid_reasons"].values(), lang),
        columns=VOCABULARY_COLUMNS,
        thresholds=ThresholdsOut(
            walk_minutes=list(WALK_MINUTES), life_circle_minutes=LIFE_CIRCLE_MINUTES,
            max_walk_minutes=MAX_WALK_MINUTES, gb50180_m=GB50180_METRES,
            courier_circle_m=COURIER_CIRCLE_M, circle_trim_m=settings.circle_trim_m,
            circle_cell_m=settings.circle_cell_m,
            grid_households=GRID_HOUSEHOLDS_RANGE,
            walk_speed_m_per_min=settings.walk_speed_m_per_min,
            ride_speed_m_per_min=settings.ride_speed_m_per_min),
        defaults=DefaultsOut(siting_service_type=DEFAULT_SITING_TYPE,
                             minutes=LIFE_CIRCLE_MINUTES,
                             siting_sites=PlanParams.model_fields["p"].default,
                             siting_colors={"proposed": PROPOSED_SITE_COLOR,
                                            "brought_inside": BROUGHT_INSIDE_COLOR},
                             service_type=DEFAULT_SERVICE_TYPE))
