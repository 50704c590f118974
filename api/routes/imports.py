"""``POST /cities/{city}/imports/{kind}``: admins upload a feature file (all rows or none).

The same import as ``servicecircle import``: every problem is listed in a 422 problem and
nothing is written; ``dry_run=true`` validates and counts only. Needs an admin key, checked
before the body is read; bodies over ``Settings.max_upload_bytes`` are cut off with a 413
(:mod:`api.limits`).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine
from starlette.datastructures import UploadFile

from api.db import run_db
from api.deps import AdminUser, CityCode, EngineDep, SettingsDep
from api.errors import problems
from api.schemas import ImportReport
from geo.errors import InvalidInputError, Problem
from geo.settings import Settings

router = APIRouter(tags=["imports"])

SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".csv", ".parquet", ".xlsx")
_CHUNK = 1 << 20


def _safe_name(filename: str | None) -> str:
    name = Path(filename or "upload").name
    name = re.sub(r"[^\w.\-]", "_", name)[:100] or "upload"
    if not name.lower().endswith(SUFFIXES):
        raise InvalidInputError("unsupported file", [Problem(
            f"the file name must end with one of {', '.join(SUFFIXES)} (a Shapefile goes in a "
            ".zip)", field="file")])
    return name


def _import(engine: Engine, settings: Settings, city: str, kind: str, path: Path, *,
            crs: str | None, repair: bool, encoding: str | None, check_offset: bool,
            dry_run: bool) -> dict[str, Any]:
    from geo.store.imports import import_file

    # closing the connection without commit rolls back: errors and dry runs write nothing
    with engine.connect() as conn:
        report = import_file(conn, city, kind, path, crs=crs, repair=repair,
                             encoding=encoding, check_offset=check_offset, settings=settings)
        if not dry_run:
            conn.commit()
    return {"city": city, "kind": report.kind, "rows_read": report.rows_read,
            "inserted": report.inserted, "updated": report.updated,
            "repaired": list(report.repaired), "warnings": list(report.warnings),
            "dry_run": dry_run}


#: The multipart body, documented by hand: the route parses it itself (see :func:`upload`).
_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


@router.post("/cities/{city}/imports/{kind}", status_code=201, openapi_extra=_FORM,
             response_model=ImportReport, responses=problems(401, 403, 404, 409, 413, 422, 503))
async def upload(
    request: Request, city: CityCode, kind: str, admin: AdminUser, engine: EngineDep,
    settings: SettingsDep,
    crs: Annotated[str | None, Query(description="wgs84, gcj02, bd09 or EPSG:n")] = None,
    repair: bool = False,
    encoding: Annotated[str | None, Query(description="e.g. gb18030 if not UTF-8")] = None,
    check_offset: bool = True,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import ``file`` (GeoJSON, GeoPackage, zipped Shapefile, CSV, GeoParquet, Excel)."""
    # The form is read here, after the admin key was checked: an ``UploadFile`` parameter
    # would make FastAPI read the whole body before any dependency runs.
    async with request.form(max_files=1, max_fields=10) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInputError("no file", [Problem(
                "send the file as the multipart/form-data field 'file'", field="file")])
        name = _safe_name(file.filename)
        with tempfile.TemporaryDirectory(prefix="sc-upload-") as tmp:
            path = Path(tmp) / name
            with path.open("wb") as out:
                while chunk := await file.read(_CHUNK):
                    out.write(chunk)
            return await run_db(request, _import, engine, settings, city, kind, path, crs=crs,
                                repair=repair, encoding=encoding, check_offset=check_offset,
                                dry_run=dry_run)
