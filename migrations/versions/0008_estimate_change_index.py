"""Estimates: find what changed since a moment without a scan; one redundant index fewer.

What changed. After a write, the app rebuilds its estimates frame from the one it had
(``fleet.queries.estimates_since``): it asks for the estimates recorded *or retracted*
after the frame's high-water mark. ``recorded_at`` has an index, ``retracted_at`` had none,
so the OR read every row (0.28 s at a million estimates, on every first render after a
write). This partial index holds only retracted rows -- a handful, and never the rows an
import adds -- and lets both databases answer each side of the OR from an index.

What goes. ``ix_estimate_supersedes_id`` (every row, mostly NULL) repeats the leading
column of the partial ``ix_estimate_correction`` (migration 0007), which every lookup
``supersedes_id = x`` can use since it implies the partial index's condition. Dropping it
saves its rebuild in a bulk import (~0.2 s per million rows) and its upkeep on every write.

Revision ID: 0008
Revises: 0007 (estimate indexes)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WHERE = "retracted_at IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_estimate_retracted", "estimate", ["retracted_at"], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
    op.drop_index("ix_estimate_supersedes_id", table_name="estimate")


def downgrade() -> None:
    op.create_index("ix_estimate_supersedes_id", "estimate", ["supersedes_id"], unique=False)
    op.drop_index("ix_estimate_retracted", table_name="estimate")
