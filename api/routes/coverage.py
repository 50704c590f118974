"""Coverage tables of the latest coverage run, as JSON or CSV.

``GET /cities/{city}/coverage`` describes the run (parameters, data version, summary);
``…/coverage/compounds`` lists minutes and metres from every compound to its nearest and
second-nearest service point of each type; ``…/coverage/{grids|communities|streets}``
gives residents and households inside / outside each circle (grids apportioned by the
grid–compound overlay). Unreachable and not-snapped values are ``null`` (see
``reachable`` / ``snapped``). Filters: ``type`` and ``minutes``. Aggregated figures only,
so these tables are public.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import ConnDep
from geo.store.cities import get_city
from geo.store.coverage import compound_rows, latest_run, unit_rows

router = APIRouter(prefix="/cities/{city}/coverage", tags=["coverage"])

CityPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
TypeQuery = Annotated[str | None, Query(alias="type", pattern=r"^[a-z][a-z0-9_]*$",
                                        max_length=64, description="Service type code.")]
MinutesQuery = Annotated[float | None, Query(gt=0, le=120, description="Threshold, minutes.")]
FormatQuery = Annotated[Literal["json", "csv"], Query(description="json or csv (UTF-8, BOM).")]
UNITS = {"grids": "grid", "communities": "community", "streets": "street"}


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel opens UTF-8 Chinese names correctly with a BOM
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _out(rows: list[dict[str, Any]], fmt: str, name: str, run: dict[str, Any]
         ) -> dict[str, Any] | Response:
    if fmt == "csv":
        return _csv(rows, name)
    return {"run_id": run["id"], "created_at": run["created_at"], "count": len(rows),
            "rows": rows}


@router.get("", summary="The latest coverage run of a city: parameters and summary")
def run_info(conn: ConnDep, city: CityPath) -> dict[str, Any]:
    c = get_city(conn, city)
    return latest_run(conn, c.id)


@router.get("/compounds", summary="Minutes to the nearest and second-nearest service per compound")
def compounds(conn: ConnDep, city: CityPath, type: TypeQuery = None,
              format: FormatQuery = "json") -> Any:
    c = get_city(conn, city)
    run = latest_run(conn, c.id)
    return _out(compound_rows(conn, c.id, service_type=type), format,
                f"{city}-coverage-compounds", run)


@router.get("/{unit}", summary="Residents inside / outside the circles per grid, community or street")
def units(conn: ConnDep, city: CityPath,
          unit: Annotated[Literal["grids", "communities", "streets"], Path()],
          type: TypeQuery = None, minutes: MinutesQuery = None,
          format: FormatQuery = "json") -> Any:
    c = get_city(conn, city)
    run = latest_run(conn, c.id)
    rows = unit_rows(conn, c.id, unit_kind=UNITS[unit], service_type=type, minutes=minutes)
    return _out(rows, format, f"{city}-coverage-{unit}", run)
