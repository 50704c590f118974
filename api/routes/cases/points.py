"""Raw case points: personal data, analyst role only."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.auth import require_role
from api.deps import CityDep, ConnDep, CurrentUser, SettingsDep
from api.errors import problems
from api.responses import feature_collection, features
from api.routes.cases.selection import Categories, End, Selection, Start, answer_meta
from api.schemas import FeatureCollection

router = APIRouter()


@router.get("/points", dependencies=[Depends(require_role("analyst"))],
            response_model=FeatureCollection, responses=problems(403))
def points(conn: ConnDep, settings: SettingsDep, user: CurrentUser, city: CityDep,
           categories: Categories = None, start: Start = None, end: End = None,
           limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> Response:
    """Raw case points (personal data): analyst role only."""
    c = city
    sel = Selection(user, categories, start, end, counts=False)
    cases = sel.read(conn, c.id)
    head = cases.iloc[:limit].copy()
    for col in ("reported_at", "closed_at"):
        head[col] = [None if pd.isna(t) else t.isoformat() for t in head[col]]
    cols = ["case_id", "category", "status", "reported_at", "closed_at", "satisfaction"]
    meta = answer_meta(user, settings, city=c.code, categories=categories, matched=len(cases),
                 returned=len(head), **sel.meta)
    return feature_collection(features(head, cols), meta)
