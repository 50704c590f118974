"""Coverage runs at a moment: the all-day run stays the layers' "latest" run.

Revision ID: 0008b
Revises: 0007f
Create Date: 2026-12-01

A coverage run may count only the service points open at a moment (``params.at``, see
:mod:`geo.io.hours`; the ids of the closed points in ``params.closed_service_ids``). The
map layers, OGC collections and tables without ``at`` show each city's newest *all-day*
run, so ``coverage_run_latest`` now leaves out runs with ``params.at``; those are found by
their set of closed service points (:func:`geo.store.coverage.latest_run`).
"""

from alembic import op

revision = "0008b"
down_revision = "0007f"
branch_labels = None
depends_on = None

VIEW = """
    CREATE OR REPLACE VIEW coverage_run_latest AS
    SELECT DISTINCT ON (city_id) id, city_id, params, data_version, created_at, summary
    FROM analysis_run WHERE kind = 'coverage'{where}
    ORDER BY city_id, created_at DESC, id DESC
"""


def upgrade() -> None:
    op.execute(VIEW.format(where=" AND (params ->> 'at') IS NULL"))


def downgrade() -> None:
    op.execute(VIEW.format(where=""))
