"""Hot-spot runs: a city's grid cases → Gi* cells, kernel density, per-grid closure, stored.

:func:`run_cases` reads the selected cases and grids (:mod:`geo.store.cases`), computes
the analyses of :mod:`geo.cases` and the public figures of :mod:`geo.cases.public` (the
rule of :mod:`geo.cases.privacy`, with the settings' ``min_public_case_count``), and
stores one ``analysis_run`` (:func:`geo.store.cases.store_hotspot_run`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from geo.cases.counts import check_window
from geo.cases.hotspots import hotspots_for_cases, kde_surface
from geo.cases.privacy import public_window
from geo.cases.public import no_cases, public_density_cells, public_grid_table, public_hex_counts
from geo.cases.stats import grid_closure_table
from geo.runs.base import StoredRun, city_of
from geo.runs.params import CasesParams
from geo.settings import Settings
from geo.store.cases import PublicFigures, read_cases, read_grids, store_hotspot_run, study_area
from geo.store.cities import City


def run_cases(conn: Connection, city: City | str | int, params: CasesParams | None = None,
              settings: Settings | None = None, *, k: int = 1, as_of: datetime | None = None,
              now: datetime | None = None) -> StoredRun[dict[str, Any]]:
    """Compute and store a hot-spot run for a city: Gi* cells, KDE and per-grid closure.

    Reads the selected cases (``[start, end)``), runs Gi* (``k`` rings) over every H3 cell
    of the study area (:func:`geo.store.cases.study_area`) at ``params.resolution``, a
    Gaussian KDE (``bandwidth_m`` metres in the city's metric CRS) on the same cells and
    the per-grid closure table (open cases judged at ``as_of``, default ``end`` or now).
    Public columns follow the public rule: all categories, the window widened to whole
    months and cut at the start of ``now``'s month. ``result`` is the summary. Never commits.
    """
    params = params or CasesParams()
    settings = settings or Settings()
    c = city_of(conn, city)
    start, end, categories = params.start, params.end, params.categories
    check_window(start, end)
    min_count = settings.min_public_case_count
    cases = read_cases(conn, c.id, categories=categories, start=start, end=end)
    hot = hotspots_for_cases(cases, area=study_area(conn, c.id, of=params.area),
                             resolution=params.resolution, k=k,
                             permutations=params.permutations, seed=params.seed,
                             fdr=params.fdr)
    cells = list(hot.cells["h3"])
    kde = kde_surface(cases, cells, epsg=c.metric_epsg, bandwidth_m=params.bandwidth_m)
    when = as_of or end or pd.Timestamp.now(tz="UTC").to_pydatetime()
    grids = read_grids(conn, c.id)
    stats = grid_closure_table(cases, grids, as_of=when, overdue_hours=params.overdue_hours) \
        if len(grids) else None
    window = public_window(start, end, now=now or datetime.now(UTC))
    pub_cases = no_cases() if window.empty else read_cases(conn, c.id, start=window.start,
                                                           end=window.end)
    public = PublicFigures(
        window=window,
        hexes=public_hex_counts(pub_cases, resolution=params.resolution, min_count=min_count),
        density=public_density_cells(pub_cases, cells, resolution=params.resolution,
                                     epsg=c.metric_epsg, bandwidth_m=params.bandwidth_m,
                                     min_count=min_count),
        grids=public_grid_table(pub_cases, grids, as_of=window.end, min_count=min_count)
        if len(grids) else None)
    bins = hot.cells["bin"].value_counts()
    summary = {"cases": len(cases), "cells": len(hot.cells),
               "hot_cells": int(hot.cells["bin"].gt(0).sum()),
               "cold_cells": int(hot.cells["bin"].lt(0).sum()),
               "bins": {str(int(b)): int(n) for b, n in bins.sort_index().items()},
               "unassigned_cases": len(stats.unassigned_case_ids) if stats else len(cases)}
    stored = {"categories": sorted(categories) if categories is not None else None,
              "start": start.isoformat() if start else None,
              "end": end.isoformat() if end else None, "as_of": when.isoformat(),
              "overdue_hours": params.overdue_hours, "study_area": params.area,
              "min_public_case_count": min_count}
    run_id = store_hotspot_run(conn, c.id, hot, params=stored, kde=kde, grid_stats=stats,
                               summary=summary, public=public)
    return StoredRun(run_id, c, stored, summary, summary)
