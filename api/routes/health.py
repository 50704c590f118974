"""``GET /health``: liveness and database reachability."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ConnDep
from api.errors import problems
from api.schemas import Health, WalkNetwork
from geo.store.cities import list_cities, postgis_version
from geo.store.network import network_figures_by_city

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses=problems(503))
def health(conn: ConnDep) -> Health:
    """Service status, PostGIS version, the cities loaded and their walking networks."""
    figures = network_figures_by_city(conn)
    return Health(status="ok", postgis=postgis_version(conn),
                  cities=[c.code for c in list_cities(conn)],
                  networks=[WalkNetwork(city=code, **((f or {}).get("walk") or {}))
                            for code, f in figures.items()])
