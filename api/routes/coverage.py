"""Coverage tables of the latest coverage run, as JSON or CSV.

``GET /cities/{city}/coverage`` describes the run (parameters, data version, summary);
``…/coverage/compounds`` lists minutes and metres from every compound to its nearest and
second-nearest service point of each type; ``…/coverage/{grids|communities|streets}``
gives residents and households inside / outside each circle (grids apportioned by the
grid–compound overlay, in whole people); ``…/coverage/panel`` gives the numbers beside
the map for one type and threshold — city totals, data completeness and the rows by
community, grid and street — as JSON, CSV or Excel. Everything follows the one coverage
definition of :mod:`geo.coverage.analysis`, so these figures equal the residents of the
gap layers. Unreachable and not-snapped values are ``null`` (see ``reachable`` /
``snapped``). Filters: ``service_type`` (code or name; ``type`` is a deprecated alias) and ``minutes``; a type or threshold the run
does not hold is a 422 naming the available ones. Aggregated figures only, so these tables
are public.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.deps import AnyServiceType, CityDep, ConnDep, service_type_param
from api.errors import problems
from api.responses import JSONBody, csv_response, formats, table, xlsx_response
from api.schemas import CoveragePanel, CoverageRun, Table
from geo.domain import DEFAULT_SERVICE_TYPE, LIFE_CIRCLE_MINUTES, service_type_term
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
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json or csv (UTF-8, BOM).")]
UNITS = {"grids": "grid", "communities": "community", "streets": "street"}
#: The panel's rows and downloads: these columns, in this order.
PANEL_COLUMNS = ("unit_kind", "unit_id", "external_id", "name", "compounds", "compounds_in",
                 "compounds_out", "compounds_unknown", "residents", "residents_in",
                 "residents_out", "residents_unknown", "households", "households_in",
                 "households_out", "households_unknown", "share_covered")
COUNT_COLUMNS = PANEL_COLUMNS[4:]


def _meta(city: City, run: dict[str, Any]) -> dict[str, Any]:
    return {"city": city.code, "run_id": run["id"], "created_at": run["created_at"]}


@router.get("", summary="The latest coverage run of a city: parameters and summary",
            response_model=CoverageRun)
def run_info(conn: ConnDep, city: CityDep) -> Response:
    return JSONBody(latest_run(conn, city.id))


@router.get("/compounds", response_model=Table, responses=formats("csv"),
            summary="Minutes to the nearest and second-nearest service per compound")
def compounds(conn: ConnDep, city: CityDep, service_type: AnyServiceType,
              format: FormatQuery = "json") -> Response:
    run = latest_run(conn, city.id)
    return table(compound_rows(conn, city.id, service_type=service_type), meta=_meta(city, run),
                 fmt=format, name=f"{city.code}-coverage-compounds")


def _labels(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {c: COLUMN_LABELS[c][i] for c in PANEL_COLUMNS}


_UNIT_LAYERS = {"grid": "grids", "community": "communities", "street": "streets"}


def _unit_label(kind: str, lang: str) -> str:
    layer = get_layer(_UNIT_LAYERS[kind])
    return layer.title_zh if lang == "zh" else layer.title_en


@router.get("/panel", response_model=CoveragePanel, responses=formats("csv", "xlsx"),
            summary="The numbers beside the map: totals and rows by community, grid and street")
def panel(conn: ConnDep, city: CityDep,
          service_type: Annotated[str, Depends(service_type_param(DEFAULT_SERVICE_TYPE))],
          minutes: Annotated[float, Query(gt=0, le=120, description="Threshold, minutes.")]
          = LIFE_CIRCLE_MINUTES,
          lang: Annotated[Literal["zh", "en"], Query(description="Language of labels")] = "zh",
          format: Annotated[Literal["json", "csv", "xlsx"], Query(
              description="json, csv (UTF-8, BOM) or xlsx (Excel)")] = "json") -> Response:
    """City totals of residents and compounds inside / outside the circle of ``service_type``
    (default: the map's default type) at
    ``minutes``, the completeness of the compound data, and the same counts per
    community, grid and street (``unit_id`` = the feature id of that layer). The CSV and
    Excel downloads hold exactly ``rows``, headed by ``labels``; whole people everywhere.
    The residents outside equal the residents of the gap layer ``gap_layer``."""
    run = latest_run(conn, city.id)
    totals = coverage_totals(conn, city.id, service_type=service_type, minutes=minutes)
    if totals is None:
        raise NotFoundError(f"the latest coverage run of {city.code} has no {service_type!r} at "
                            f"{minutes:g} minutes", code="no-run", hint=Hint(run="coverage"))
    rows = [{c: r.get(c) for c in PANEL_COLUMNS}
            for kind in ("community", "grid", "street")
            for r in unit_rows(conn, city.id, unit_kind=kind, service_type=service_type, minutes=minutes)]
    labels = _labels(lang)
    name = f"{city.code}-coverage-{service_type}-{minutes:g}min"
    if format in ("csv", "xlsx"):
        shown = [{**r, "unit_kind": _unit_label(str(r["unit_kind"]), lang)} for r in rows]
        headers = [labels[c] for c in PANEL_COLUMNS]
        if format == "csv":
            return csv_response(shown, name, PANEL_COLUMNS, headers)
        return xlsx_response(shown, name, PANEL_COLUMNS, headers)
    terms = {t.code: t for t in service_type_terms(conn)}
    term = terms.get(service_type) or service_type_term(service_type)
    data = dict(run["summary"].get("data") or {})
    query = f"service_type={service_type}&minutes={minutes:g}&lang={lang}"
    base = f"/cities/{city.code}/coverage/panel?{query}"
    return JSONBody({
        "city": city.code, "run_id": run["id"], "created_at": run["created_at"], "lang": lang,
        "service_type": service_type, "service_type_label": term.label(lang),
        "minutes": totals["minutes"], "budget_m": totals["budget_m"],
        "gap_layer": f"coverage_gaps_{minutes:g}",
        "totals": {c: totals[c] for c in COUNT_COLUMNS}, "data": data, "labels": labels,
        "rows": rows, "downloads": {"csv": f"{base}&format=csv", "xlsx": f"{base}&format=xlsx"}})


@router.get("/{unit}", response_model=Table, responses=formats("csv"),
            summary="Residents inside / outside the circles per grid, community or street")
def units(conn: ConnDep, city: CityDep,
          unit: Annotated[Literal["grids", "communities", "streets"], Path()],
          service_type: AnyServiceType, minutes: MinutesQuery = None,
          format: FormatQuery = "json") -> Response:
    run = latest_run(conn, city.id)
    rows = unit_rows(conn, city.id, unit_kind=UNITS[unit], service_type=service_type,
                     minutes=minutes)
    return table(rows, meta=_meta(city, run), fmt=format, name=f"{city.code}-coverage-{unit}")
