"""Which grid cases a request may see, and the query parameters the case routes share.

Analysts get the window they ask for; everyone else the public window of
:func:`geo.cases.privacy.public_window` (whole complete calendar months in China Standard
Time), stated in ``meta``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import geopandas as gpd
from fastapi import Query

from api.auth import User
from api.deps import sees_personal
from api.responses import jsonable
from geo.cases.counts import check_categories, check_window
from geo.cases.privacy import public_window
from geo.cases.public import no_cases
from geo.errors import InvalidInputError, Problem
from geo.runs.params import parse_categories, parse_time
from geo.store.cases import read_cases

Categories = Annotated[str | None, Query(
    description="Comma-separated category codes (default: all), e.g. sanitation,dispute; "
    "on counts (hexes, grids, grid trends, density) analysts only")]
Start = Annotated[str | None, Query(description="Window start, inclusive (ISO date/time)")]
End = Annotated[str | None, Query(description="Window end, exclusive (ISO date/time)")]
Resolution = Annotated[int, Query(ge=6, le=10, description="H3 resolution (8 ≈ grid, "
                                                           "9 ≈ compound)")]
Area = Annotated[Literal["grids", "city"], Query(
    description="Study area: the union of the grids (default) or the city bounds")]
Permutations = Annotated[int, Query(ge=99, le=9999, description="Gi* permutations (callers "
                                    "without an analyst key: at most 999)")]
class Selection:
    """The cases a request may see: categories and the effective window ``[start, end)``.

    Analysts get the window as asked; everyone else the public window of
    :func:`geo.cases.privacy.public_window` (``meta`` states it).
    """

    def __init__(self, user: User, categories: str | None, start: str | None, end: str | None,
                 *, counts: bool, prefix: str = "") -> None:
        s = parse_time(start, f"{prefix}start")
        e = parse_time(end, f"{prefix}end")
        check_window(s, e)
        cats = check_categories(parse_categories(categories))
        self.categories = list(cats) if cats is not None else None
        self.personal = sees_personal(user)
        self.empty = False
        if self.personal:
            self.start, self.end = s, e
            self.meta: dict[str, Any] = {"start": iso(s), "end": iso(e),
                                         "time_granularity": "exact"}
            return
        if counts and self.categories is not None:
            raise InvalidInputError("category filter not public", [Problem(
                "public counts cover all categories (filtering them by category would let "
                "two answers be subtracted); an analyst key may filter", field="categories")])
        w = public_window(s, e, now=datetime.now(UTC))
        self.start, self.end, self.empty = w.start, w.end, w.empty
        self.meta = w.meta()

    def read(self, conn: Any, city_id: int) -> gpd.GeoDataFrame:
        """The selected cases (none when nothing of the window is public yet)."""
        if self.empty:
            return no_cases()
        return read_cases(conn, city_id, categories=self.categories, start=self.start,
                          end=self.end)

    def key(self) -> tuple[Any, ...]:
        cats = tuple(self.categories) if self.categories is not None else None
        return cats, iso(self.start), iso(self.end), self.empty


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def answer_meta(user: User, settings: Any, **extra: Any) -> dict[str, Any]:
    return {"access": "analyst" if sees_personal(user) else "public",
            "min_public_case_count": settings.min_public_case_count,
            "window": "[start, end)", **{k: jsonable(v) for k, v in extra.items()}}
