"""Estimate indexes for the hot read: "which estimates are live at T".

``fleet.queries.estimates_frame`` checks, for every estimate, whether a correction that
was known at T supersedes it (a correlated NOT EXISTS on ``supersedes_id``). The plain
``ix_estimate_supersedes_id`` holds every row (mostly NULL) and the check then reads the
correction's row for ``recorded_at``/``retracted_at``. This partial, covering index holds
only the corrections with the two columns the check needs: a million probes hit a small,
cache-resident index and never the table (SQLite and Postgres both use it; see the query
plans in bench/RESULTS.md).

Revision ID: 0006i
Revises: 0005 (the snapshots branch also adds a 0006 on 0005; the lead re-links at merge)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006i"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WHERE = "supersedes_id IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_estimate_correction", "estimate", ["supersedes_id", "recorded_at", "retracted_at"],
                    unique=False, sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_estimate_correction", table_name="estimate")
