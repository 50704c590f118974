"""Coverage tables of the latest coverage run, as JSON or CSV.

``GET /cities/{city}/coverage`` describes the run (parameters, data version, summary);
``…/coverage/compounds`` lists minutes and metres from every compound to its nearest and
second-nearest service point of each type; ``…/coverage/{grids|communities|streets}``
gives residents and households inside / outside each circle (grids apportioned by the
grid–compound overlay, in whole people); ``…/coverage/panel`` gives the numbers beside
the map for one type and threshold — city totals, data completeness and the rows by
community, grid and street — as JSON, CSV or Excel. ``at`` (a weekday and time such as
``Mo 22:00``, or an ISO date-time, China Standard Time) answers from the run that counted
only the service points open then (:func:`geo.store.coverage.latest_run`; ``no-run`` 404
naming the moment to run when there is none). Everything follows the one coverage
definition of :mod:`geo.coverage.analysis`, so these figures equal the residents of the
gap layers. Unreachable and not-snapped values are ``null`` (see ``reachable`` /
``snapped``). Filters: ``service_type`` (code or name; ``type`` is a deprecated alias) and ``minutes``; a type or threshold the run
does not hold is a 422 naming the available ones. Aggregated figures only, so these tables
are public.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.deps import AnyServiceType, CityDep, ConnDep, service_type_param
from api.errors import problems
from api.responses import JSONBody, csv_response, formats, table, xlsx_response
from api.schemas import CoveragePanel, CoverageRun, Table
from geo.domain import (
    DEFAULT_SERVICE_TYPE,
    LIFE_CIRCLE_MINUTES,
    POPULATION_GROUPS,
    service_type_term,
)
from geo.errors import Hint, NotFoundError
from geo.store.cities import City
from geo.store.coverage import compound_rows, coverage_totals, latest_run, unit_rows
from geo.store.vocabulary import service_type_terms
from layers.catalog import get_layer
from layers.styles import COLUMN_LABELS

router = APIRouter(prefix="/cities/{city}/coverage", tags=["coverage"],
                   responses=problems(404, 422, 503))

MinutesQuery = Annotated[float | None, Query(gt=0, le=120, description=(
    "Threshold, minutes (one the run computed, e.g. 5, 10 or 15)"))]
AtQuery = Annotated[str | None, Query(max_length=40, description=(
    "Only service points open then: a weekday and time ('Mo 22:00', '周一 22:00') or an ISO "
    "date-time in China Standard Time (default: all day)."))]
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json or csv (UTF-8, BOM).")]
UNITS = {"grids": "grid", "communities": "community", "streets": "street"}
#: The panel's rows and downloads: these columns, in this order.
PANEL_COLUMNS = ("unit_kind", "unit_id", "external_id", "name", "compounds", "compounds_in",
                 "compounds_out", "compounds_unknown", "residents", "residents_in",
                 "residents_out", "residents_unknown", "households", "households_in",
                 "households_out", "households_unknown", "share_covered", "target_group",
                 "speed_m_per_min", "target", "target_in", "target_out", "target_unknown",
                 "compounds_target_unknown", "target_share_covered")
COUNT_COLUMNS = PANEL_COLUMNS[4:]


def _meta(city: City, run: dict[str, Any]) -> dict[str, Any]:
    return {"city": city.code, "run_id": run["id"], "created_at": run["created_at"],
            "at": run["at"]}


@router.get("", summary="The latest coverage run of a city: parameters and summary",
            response_model=CoverageRun)
def run_info(conn: ConnDep, city: CityDep, at: AtQuery = None) -> Response:
    return JSONBody(latest_run(conn, city.id, at=at))


@router.get("/compounds", response_model=Table, responses=formats("csv"),
            summary="Minutes to the nearest and second-nearest service per compound")
def compounds(conn: ConnDep, city: CityDep, service_type: AnyServiceType, at: AtQuery = None,
              format: FormatQuery = "json") -> Response:
    run = latest_run(conn, city.id, at=at)
    return table(compound_rows(conn, city.id, service_type=service_type, at=at),
                 meta=_meta(city, run),
                 fmt=format, name=f"{city.code}-coverage-compounds")


def _labels(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {c: COLUMN_LABELS[c][i] for c in PANEL_COLUMNS}


_UNIT_LAYERS = {"grid": "grids", "community": "communities", "street": "streets"}


def _unit_label(kind: str, lang: str) -> str:
    layer = get_layer(_UNIT_LAYERS[kind])
    return layer.title_zh if lang == "zh" else layer.title_en


def _group_label(code: str | None, lang: str) -> str | None:
    term = POPULATION_GROUPS.get(code) if code else None
    return term.label(lang) if term else code


@router.get("/panel", response_model=CoveragePanel, responses=formats("csv", "xlsx"),
            summary="The numbers beside the map: totals and rows by community, grid and street")
def panel(conn: ConnDep, city: CityDep,
          service_type: Annotated[str, Depends(service_type_param(DEFAULT_SERVICE_TYPE))],
          minutes: Annotated[float, Query(gt=0, le=120, description="Threshold, minutes.")]
          = LIFE_CIRCLE_MINUTES,
          lang: Annotated[Literal["zh", "en"], Query(description="Language of labels")] = "zh",
          at: AtQuery = None, format: Annotated[Literal["json", "csv", "xlsx"], Query(
              description="json, csv (UTF-8, BOM) or xlsx (Excel)")] = "json") -> Response:
    """City totals of residents and compounds inside / outside the circle of ``service_type``
    (default: the map's default type) at
    ``minutes``, the completeness of the compound data, and the same counts per
    community, grid and street (``unit_id`` = the feature id of that layer). The CSV and
    Excel downloads hold exactly ``rows``, headed by ``labels``; whole people everywhere.
    The residents outside equal the residents of the gap layer ``gap_layer`` (its tiles and
    items with the same ``at``). With ``at``, only the service points open then count. The
    type's served group (e.g. residents 60+ for elderly canteens) and walking speed are
    ``target_group`` (``target_group_label``) and ``speed_m_per_min``; ``target_*`` count
    that group's people (compounds whose group size is unknown: ``compounds_target_unknown``)."""
    run = latest_run(conn, city.id, at=at)
    totals = coverage_totals(conn, city.id, service_type=service_type, minutes=minutes, at=at)
    if totals is None:
        raise NotFoundError(f"the latest coverage run of {city.code} has no {service_type!r} at "
                            f"{minutes:g} minutes", code="no-run", hint=Hint(run="coverage"))
    rows = [{c: r.get(c) for c in PANEL_COLUMNS}
            for kind in ("community", "grid", "street")
            for r in unit_rows(conn, city.id, unit_kind=kind, service_type=service_type,
                                   minutes=minutes, at=at)]
    labels = _labels(lang)
    name = f"{city.code}-coverage-{service_type}-{minutes:g}min"
    if run["at"] is not None:
        name += "-" + re.sub(r"[^0-9A-Za-z]+", "", str(run["at"]))
    if format in ("csv", "xlsx"):
        shown = [{**r, "unit_kind": _unit_label(str(r["unit_kind"]), lang),
                  "target_group": _group_label(r.get("target_group"), lang)} for r in rows]
        headers = [labels[c] for c in PANEL_COLUMNS]
        if format == "csv":
            return csv_response(shown, name, PANEL_COLUMNS, headers)
        return xlsx_response(shown, name, PANEL_COLUMNS, headers)
    terms = {t.code: t for t in service_type_terms(conn)}
    term = terms.get(service_type) or service_type_term(service_type)
    data = dict(run["summary"].get("data") or {})
    query = f"service_type={service_type}&minutes={minutes:g}&lang={lang}"
    if run["at"] is not None:
        query += "&at=" + quote(str(run["at"]))
    base = f"/cities/{city.code}/coverage/panel?{query}"
    return JSONBody({
        "city": city.code, "run_id": run["id"], "created_at": run["created_at"], "lang": lang,
        "service_type": service_type, "service_type_label": term.label(lang),
        "minutes": totals["minutes"], "budget_m": totals["budget_m"],
        "target_group": totals["target_group"],
        "target_group_label": _group_label(totals["target_group"], lang),
        "speed_m_per_min": totals["speed_m_per_min"],
        "gap_layer": f"coverage_gaps_{minutes:g}",
        "totals": {c: totals[c] for c in COUNT_COLUMNS}, "data": data, "labels": labels,
        "rows": rows, "downloads": {"csv": f"{base}&format=csv", "xlsx": f"{base}&format=xlsx"},
        "at": run["at"]})


@router.get("/{unit}", response_model=Table, responses=formats("csv"),
            summary="Residents inside / outside the circles per grid, community or street")
def units(conn: ConnDep, city: CityDep,
          unit: Annotated[Literal["grids", "communities", "streets"], Path()],
          service_type: AnyServiceType, minutes: MinutesQuery = None,
          at: AtQuery = None, format: FormatQuery = "json") -> Response:
    run = latest_run(conn, city.id, at=at)
    rows = unit_rows(conn, city.id, unit_kind=UNITS[unit], service_type=service_type,
                     minutes=minutes, at=at)
    return table(rows, meta=_meta(city, run), fmt=format, name=f"{city.code}-coverage-{unit}")
