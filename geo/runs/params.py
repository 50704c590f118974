"""One parameter object per analysis, shared by the command line and the HTTP API.

Each model is the FastAPI request body of its endpoint *and* the options of its Typer
command, generated from the fields (:mod:`api.cli.options`: one option per field with the
field's default, description and bounds), so the two front ends cannot drift apart. Fields left ``None`` take their deployment default
(walking/riding speed, snap distance, public case minimum) from :class:`geo.settings.Settings`
in the run functions of :mod:`geo.runs` — and only there.

Times: ISO dates or date-times; without an offset they are China Standard Time (UTC+8).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import pandas as pd
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from geo.cases.counts import check_categories
from geo.cases.stats import DEFAULT_OVERDUE_HOURS, DEFAULT_TZ
from geo.courier.reach import DEFAULT_OVERLAP_SHARE, PRESETS
from geo.domain import (
    DEFAULT_SITING_TYPE,
    GRID_HOUSEHOLDS_RANGE,
    LIFE_CIRCLE_MINUTES,
    MAX_WALK_MINUTES,
    SERVICE_TYPES,
    WALK_MINUTES,
    PopulationGroup,
    SitingModel,
)
from geo.errors import InvalidInputError, Problem
from geo.finder.nearest import MAX_K as FINDER_MAX_K
from geo.io.hours import parse_moment
from geo.io.labels import label_reason
from geo.vocab import normalise, spellings, suggest

__all__ = [
    "CaseFilter",
    "CasesParams",
    "CourierParams",
    "CoverageParams",
    "FinderParams",
    "GridsParams",
    "Params",
    "PlanParams",
    "RegridParams",
    "WhatIfParams",
    "parse",
    "parse_categories",
    "parse_time",
    "validation_problems",
]

P = TypeVar("P", bound="Params")


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO date/time (str or datetime); without an offset it is China Standard Time."""
    if value is None or value == "":
        return None
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InvalidInputError("invalid time", [Problem(
            f"{value!r} is not an ISO date or date-time", field=field)]) from None
    if t is pd.NaT:
        raise InvalidInputError("invalid time", [Problem("empty", field=field)])
    if t.tzinfo is None:
        t = t.tz_localize(DEFAULT_TZ)
    out: datetime = t.to_pydatetime()
    return out


def parse_categories(value: Any) -> list[str] | None:
    """``"a,b"`` (also ``，`` and ``、``) or ``["a", "b"]`` → ``["a", "b"]``; empty → ``None``
    (all categories)."""
    if value is None:
        return None
    items = [part for v in ([value] if isinstance(value, str) else list(value))
             for part in re.split(r"[,，、]", str(v))]
    cats = [str(c).strip() for c in items if str(c).strip()]
    return cats or None


def _time(v: Any) -> Any:
    if isinstance(v, (str, datetime)):
        return parse_time(v, "time")
    return v


def _categories(v: list[str] | None) -> list[str] | None:
    cats = check_categories(v)
    return list(cats) if cats is not None else None


def _service_type(value: Any) -> Any:
    """A built-in type's code, Chinese or English label → its code; any other one-line text
    is kept for the run layer, which also knows the types added at run time
    (:func:`geo.store.vocabulary.resolve_service_type`)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    found = spellings(SERVICE_TYPES.values()).get(normalise(text))
    if found is not None:
        return found
    reason = label_reason(text, 64)
    if reason is not None:
        raise ValueError(reason)
    return text


def _name(value: str | None) -> str | None:
    reason = None if value is None else label_reason(value)
    if reason is not None:
        raise ValueError(reason)
    return value


Time = Annotated[datetime | None, BeforeValidator(_time)]
#: A service type: code, Chinese or English label (``red_station``, ``红色驿站``).
ServiceTypeName = Annotated[str, BeforeValidator(_service_type), Field(min_length=1)]
Categories = Annotated[list[str] | None, BeforeValidator(parse_categories),
                       AfterValidator(_categories)]
#: Case categories checked where the cases are read (field ``categories``).
CaseCategories = Annotated[list[str] | None, BeforeValidator(parse_categories)]
Thresholds = Annotated[list[Annotated[float, Field(gt=0, le=10_000)]] | None,
                       Field(min_length=1, max_length=20)]
#: A scenario's name: one line, at most 200 characters (any text; pages escape it).
ScenarioName = Annotated[str | None, AfterValidator(_name),
                         Field(description="Scenario name (one line, ≤ 200 characters)")]
Weight = Literal["residents", "households", "elderly", "cases", "rider_demand"]
#: A site's name and kind in a what-if scenario (one line; pages escape them).
SiteLabel = Annotated[str, AfterValidator(_name)]
SiteKind = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_name)]


def _moment(value: Any) -> Any:
    """A weekday and time or an ISO date-time → its stored label (:func:`parse_moment`)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_moment(value, "at").label


#: A moment opening hours are read at: ``"Mo 22:00"``/``"周一 22:00"`` (reference week) or an
#: ISO date-time, China Standard Time (:mod:`geo.io.hours`); stored as ``"Mo 22:00"`` or
#: ``"2026-12-07T22:00+08:00"``.
OpenAt = Annotated[str | None, BeforeValidator(_moment)]


class Params(BaseModel):
    """Base of the parameter objects: unknown fields are an error, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse(model: type[P], /, **values: Any) -> P:
    """``model(**values)``; a :class:`pydantic.ValidationError` becomes one
    :class:`InvalidInputError` listing every field (the CLI's path into a model)."""
    try:
        return model(**values)
    except ValidationError as exc:
        problems = validation_problems(exc.errors())
        raise InvalidInputError(f"invalid {model.__name__} parameters", problems) from None


def validation_problems(errors: Any, skip: tuple[str, ...] = ()) -> list[Problem]:
    """Pydantic error dicts as problems; an :class:`InvalidInputError` raised by a
    validator gives its own problems (field names kept), not its summary."""
    out: list[Problem] = []
    for e in errors:
        field = ".".join(str(p) for p in e.get("loc", ()) if p not in skip) or None
        inner = (e.get("ctx") or {}).get("error")
        if isinstance(inner, InvalidInputError) and inner.errors:
            out += [Problem(p.reason, row=p.row, field=field, hint=p.hint)
                    for p in inner.errors]
        else:
            out.append(Problem(e.get("msg", "invalid") + _did_you_mean(e), field=field))
    return out


def _did_you_mean(error: Any) -> str:
    """`` (did you mean 'mclp'?)`` for a value that is not one of a few allowed words."""
    if error.get("type") not in ("literal_error", "enum") or \
            not isinstance(error.get("input"), str):
        return ""
    allowed = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
    near = suggest(error["input"], allowed, n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


class CoverageParams(Params):
    """A coverage run: thresholds in walking minutes *or* network metres."""

    minutes: Thresholds = Field(default=None, description="Walking-time thresholds in minutes "
                                "(default 5, 10, 15).")
    metres: Thresholds = Field(default=None, description="Network-distance thresholds in metres "
                               "instead, e.g. 300, 500, 1000 (GB 50180-2018).")
    speed_m_per_min: float | None = Field(default=None, gt=0, le=1000, description=(
        "Walking speed in m/min for every service type (default: each type's speed — 60 for "
        "the services of residents 60+, the deployment's walking speed, 75 = 4.5 km/h, for "
        "the others)."))
    target_group: PopulationGroup | None = Field(
        default=None, description="Population group counted for every service type: all, "
        "age_0_14, age_15_59 or age_60_plus (default: each type's target group).")
    trim_m: float | None = Field(
        default=None, gt=0, le=500, description="Polygon trim distance of the circles in "
        "metres: land farther than this from every street is in no circle (default: the "
        "deployment's, 100).")
    at: OpenAt = Field(default=None, description=(
        "Only service points open at this moment (OpenStreetMap opening_hours; blank hours "
        "count as always open): a weekday and time, e.g. 'Mo 22:00' or '周一 22:00', or an "
        "ISO date-time in China Standard Time, e.g. 2026-12-07T22:00 (default: all day, every "
        "point)."))

    def thresholds(self) -> tuple[list[float] | None, list[float] | None]:
        """``(minutes, metres)``: exactly one of them, 5/10/15 minutes when neither is given."""
        if self.minutes is not None and self.metres is not None:
            raise InvalidInputError("give minutes or metres, not both",
                                    [Problem("both given", field="minutes")])
        if self.minutes is None and self.metres is None:
            return [float(m) for m in WALK_MINUTES], None
        return self.minutes, self.metres


class CasesParams(Params):
    """A stored hot-spot run: Gi* cells, kernel density and per-grid closure."""

    categories: Categories = Field(default=None, description="Category codes (default: all).")
    start: Time = Field(default=None, description="Window start, inclusive (ISO; China Standard "
                        "Time without an offset).")
    end: Time = Field(default=None, description="Window end, exclusive.")
    resolution: int = Field(default=9, ge=6, le=10, description="H3 resolution (8 ≈ grid, "
                            "9 ≈ compound).")
    permutations: int = Field(default=999, ge=99, le=9999, description="Gi* permutations.")
    seed: int = Field(default=0, description="Random seed of the permutations.")
    fdr: bool = Field(default=False, description="Bin on Benjamini–Hochberg adjusted p.")
    bandwidth_m: float = Field(
        default=300.0, ge=50, le=5000, description="KDE bandwidth in metres.")
    overdue_hours: float = Field(default=DEFAULT_OVERDUE_HOURS, ge=1, le=8760, description=(
        "Open cases older than this are overdue (hours)."))
    area: Literal["grids", "city"] = Field(
        default="grids", description="Study area: 'grids' (union "
                                           "of the grids) or 'city' (the city bounds).")


class CourierParams(Params):
    """A reach run: a preset, or a station type, mode and budget (minutes or metres)."""

    preset: str | None = Field(default=None, description=f"One of {', '.join(PRESETS)}; overrides "
                               "type, mode and budget.")
    service_type: ServiceTypeName = Field(
        default="courier_station", description="Station type: code or Chinese/English name, "
        "e.g. courier_station, parcel_station or 快递驿站.")
    mode: Literal["walk", "ride"] = Field(default="ride", description="ride (e-bike) or walk.")
    minutes: float | None = Field(default=None, gt=0, le=120, description="Budget in minutes.")
    metres: float | None = Field(default=None, gt=0, le=20000, description=(
        "Budget in network metres (default without a budget: the 1-km courier circle)."))
    weight: Literal["residents", "compound_demand", "demand_points"] = Field(
        default="residents", description="residents, compound_demand or demand_points.")
    speed_m_per_min: float | None = Field(default=None, gt=0, le=2000, description=(
        "Travel speed in m/min (default: the deployment's riding speed, 250 = 15 km/h, or "
        "walking speed, 75 = 4.5 km/h)."))
    overlap_min_share: float = Field(default=DEFAULT_OVERLAP_SHARE, ge=0, le=1, description=(
        "Share of the smaller catchment two stations must share to be flagged."))


class CaseFilter(Params):
    """Which grid cases count as demand when ``weight="cases"`` (ignored otherwise)."""

    case_categories: CaseCategories = Field(default=None, max_length=50, description=(
        "With weight cases: case category codes (default: all)."))
    case_start: Time = Field(default=None, description="With weight cases: reported at or after "
                             "(ISO; China Standard Time without an offset).")
    case_end: Time = Field(default=None, description="With weight cases: reported before.")

    def case_key(self) -> tuple[Any, ...]:
        cats = tuple(sorted(self.case_categories)) if self.case_categories is not None else None
        return cats, self.case_start, self.case_end


class PlanParams(CaseFilter):
    """A siting scenario: the best ``p`` new stations of a type, or the fewest reaching a
    share, counting and walking as the type's coverage does
    (:func:`geo.siting.scenario.siting_demand`). ``exclude`` and ``compounds`` are
    HTTP-only; the CLI adds ``--report``."""

    service_type: ServiceTypeName = Field(default=DEFAULT_SITING_TYPE, description=(
        "Station type: code or Chinese/English name, e.g. red_station or 红色驿站."))
    p: int = Field(default=5, ge=1, le=200, description="Number of new stations (mclp, pmedian).")
    model: SitingModel = Field(
        default=SitingModel.MCLP, description="mclp (most demand covered), lscp (fewest sites reaching "
        "target_share) or pmedian (least total walk).")
    target_share: float | None = Field(default=None, ge=0, le=1, description="Share of demand to "
                                       "cover (lscp).")
    minutes: float = Field(default=LIFE_CIRCLE_MINUTES, gt=0, le=MAX_WALK_MINUTES, description="Walking circle in minutes.")
    weight: Weight = Field(default="residents", description=(
        "Demand: residents (the people the type serves: residents 60+ for elderly canteens "
        "and day care, 0–14 for after-school rooms, everyone otherwise; all walk at the "
        "type's speed), households, elderly (residents 60+), cases (grid cases inside each "
        "compound) or rider_demand (imported courier demand)."))
    method: Literal["auto", "exact", "heuristic"] = Field(default="auto", description="Solver: "
                                                          "auto, exact or heuristic.")
    use_imported: bool = Field(default=True, description="Use the city's imported candidate sites.")
    generate: bool = Field(
        default=True, description="Generate street/gate candidates in gap areas.")
    spacing_m: float = Field(default=100.0, ge=20, le=1000, description="Spacing of generated "
                             "street candidates in metres.")
    time_limit_s: float = Field(default=20.0, gt=0, le=600, description="Solver time limit in "
                                "seconds.")
    use_capacity: bool = Field(default=False, description="Respect imported sites' capacities.")
    exclude: dict[str, Any] | None = Field(
        default=None, description="Exclusion zones: GeoJSON (Multi)Polygon, Feature or "
        "FeatureCollection in EPSG:4326")
    compounds: bool = Field(default=False, description="Also return compounds with covered_before/"
                            "covered_after (the before/after map) as GeoJSON")
    save: bool = Field(default=False, description="Save as a scenario.")
    name: ScenarioName = None


class WhatIfParams(CaseFilter):
    """Coverage before and after user-proposed sites (lon/lat, EPSG:4326)."""

    service_type: ServiceTypeName = Field(default=DEFAULT_SITING_TYPE, description=(
        "Station type: code or Chinese/English name, e.g. red_station or 红色驿站."))
    minutes: float = Field(default=LIFE_CIRCLE_MINUTES, gt=0, le=MAX_WALK_MINUTES, description="Walking circle in minutes.")
    weight: Weight = Field(default="residents", description="Demand measure (as for plans).")
    sites: list[tuple[float, float]] = Field(..., min_length=1, max_length=100,
                                             description="[[lon, lat], ...] in EPSG:4326")
    save: bool = Field(default=False, description="Save as a scenario.")
    name: ScenarioName = None
    circles: bool = Field(default=False, description=(
        "Also return each site's walking circle and the compounds it brings inside "
        "(GeoJSON), by the coverage definition."))
    site_names: list[SiteLabel] | None = Field(default=None, max_length=100, description=(
        "Names of the sites, in their order (saved with the scenario, shown in its report)."))
    site_kinds: list[SiteKind] | None = Field(default=None, max_length=100, description=(
        "Kinds of the sites, in their order: a plan proposal's kind (street, gate, imported…) "
        "or user (placed by hand; the default)."))


class HouseholdRange(Params):
    """A target range of households per grid (default 120–300)."""

    lower: int = Field(default=GRID_HOUSEHOLDS_RANGE[0], ge=1, le=100_000, description=(
        "Fewest households a grid should hold."))
    upper: int = Field(default=GRID_HOUSEHOLDS_RANGE[1], ge=1, le=100_000, description=(
        "Most households a grid should hold."))

    def bounds(self) -> tuple[int, int]:
        """``(lower, upper)``; an empty range is an error naming ``lower``."""
        if self.lower > self.upper:
            raise InvalidInputError("the household range is empty", [Problem(
                f"lower {self.lower} > upper {self.upper}", field="lower")])
        return self.lower, self.upper


class GridsParams(HouseholdRange):
    """Grid workload: per-grid figures over a case window, imbalance per community/street."""

    start: Time = Field(default=None, description="Cases reported at or after (ISO; China "
                        "Standard Time without an offset; default: the first case).")
    end: Time = Field(default=None, description="Cases reported before (default: the last case).")
    household_weight: float = Field(default=0.5, ge=0, le=1, description=(
        "Weight of households in the workload index (the rest goes to cases per month)."))
    by: Literal["community", "street"] = Field(default="community", description=(
        "Group grids for the imbalance: community or street."))


class RegridParams(HouseholdRange):
    """Re-gridding one community: contiguous grids of lower–upper households."""

    community: str = Field(..., min_length=1, max_length=200, description=(
        "Community name or external id."))
    seed: int = Field(default=0, ge=0, description="Random seed of the max-p heuristic.")
    attempts: int = Field(default=5, ge=1, le=50, description=(
        "Max-p runs (seeds seed, seed+1, …); the best partition is kept."))
    save: bool = Field(default=False, description=(
        "Save the proposal (newest per city: the map's grid_proposal layer)."))


class FinderParams(Params):
    """A nearest-station request: a point (lon/lat, EPSG:4326) or a typed address from the
    city's own names (compound, station or street), the station type, walking or riding."""

    lon: float | None = Field(default=None, ge=-180, le=180, description=(
        "Longitude of the start (EPSG:4326), with lat."))
    lat: float | None = Field(default=None, ge=-90, le=90, description=(
        "Latitude of the start (EPSG:4326), with lon."))
    q: str | None = Field(default=None, min_length=1, max_length=100, description=(
        "Or an address: a compound, station or street name of the city (e.g. 建设路12号); "
        "the best match is the start."))
    service_type: ServiceTypeName = Field(
        default="courier_station", description="Station type: code or Chinese/English name, "
        "e.g. courier_station or 小哥驿站.")
    mode: Literal["walk", "ride"] = Field(default="walk", description=(
        "walk (walking network and speed) or ride (the riders' e-bike network and speed)."))
    k: int = Field(default=3, ge=1, le=FINDER_MAX_K, description="How many stations.")

    def start(self) -> tuple[float, float] | None:
        """``(lon, lat)`` if a point is given, ``None`` for an address; exactly one of them
        (both or neither is an error naming the fields)."""
        has_point = self.lon is not None or self.lat is not None
        if has_point and self.q is not None:
            raise InvalidInputError("give a point or an address, not both",
                                    [Problem("both given", field="q")])
        if self.q is not None:
            return None
        missing = [f for f in ("lon", "lat") if getattr(self, f) is None]
        if missing:
            raise InvalidInputError("give a point (lon and lat) or an address (q)",
                                    [Problem("missing", field=f) for f in missing])
        return float(self.lon), float(self.lat)  # type: ignore[arg-type]  # checked above
