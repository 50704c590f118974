"""The client matrix: real OGC API clients against a live server of the demo database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from geo.runs import CourierParams, CoverageParams, run_courier, run_coverage
from geo.settings import Settings
from geo.store.features import existing_tables
from layers.catalog import default_registry


@pytest.fixture(scope="session")
def public_counts(demo_engine: Engine, settings: Settings) -> dict[str, int]:
    """Feature count of every public collection, counted in the database directly (the
    layer's table or view with its fixed conditions), after a coverage and a courier run
    of guixi so that analysis layers have features too."""
    with demo_engine.begin() as conn:
        run_coverage(conn, "guixi", CoverageParams(minutes=[5, 10, 15]), settings)
        run_courier(conn, "guixi", CourierParams(metres=1000), settings)
    registry = default_registry()
    out = {}
    with demo_engine.connect() as conn:
        present = existing_tables(conn, (layer.source.table for layer in registry))
        for layer in registry:
            s = layer.source
            if not layer.public or s.table not in present:
                continue
            where = " AND ".join(f'"{c}" = :v{i}' for i, (c, _) in enumerate(s.filters))
            sql = f'SELECT count(*) FROM "{s.table}"' + (f" WHERE {where}" if where else "")
            out[layer.name] = int(conn.execute(text(sql), {f"v{i}": v for i, (_, v) in
                                                           enumerate(s.filters)}).scalar_one())
    assert sum(out.values()) > 1000  # the demo cities, not an empty database
    assert out["coverage_gaps_15"] > 0 and out["courier_reach"] > 0  # analysis layers too
    return out
