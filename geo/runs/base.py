"""What the run functions share: the stored-run record and the city argument."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from geo.store.cities import City, get_city, get_city_by_id

T = TypeVar("T")


@dataclass(frozen=True)
class StoredRun(Generic[T]):
    """One analysis run, computed and stored (not yet committed: the caller commits).

    ``params`` are the parameters as resolved and stored (settings defaults filled in);
    ``result`` the core's result object.
    """

    run_id: int
    city: City
    params: dict[str, Any]
    summary: dict[str, Any]
    result: T = field(repr=False)


def city_of(conn: Connection, city: City | str | int) -> City:
    """``city`` itself, or the city with that code or id (:class:`NotFoundError` if none)."""
    if isinstance(city, City):
        return city
    return get_city_by_id(conn, city) if isinstance(city, int) else get_city(conn, city)
