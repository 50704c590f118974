"""``GET /health``: liveness and database reachability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import ConnDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(conn: ConnDep) -> dict[str, Any]:
    """Service status, PostGIS version and the cities loaded."""
    postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    cities = conn.execute(text("SELECT code FROM city ORDER BY code")).scalars().all()
    return {"status": "ok", "postgis": postgis, "cities": list(cities)}
