"""Estimates: drop the index on ``chip_id`` alone, which no query uses.

Every read of estimates by chip goes through the whole frame or through
``ix_estimate_org_chip_valid`` (organisation, chip, date); nothing asks for one chip's
rows across all organisations. What the index did serve -- SQLite checking that no
estimate points at a chip being deleted -- happens when an editor removes a chip from the
curated catalog, and a scan of the estimates is fine for that. Meanwhile a bulk import
rebuilt it (~1.4 s of a 1M-row import into an empty store) and every write kept it up.

Revision ID: 0009
Revises: 0008 (estimate change index)
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0009"
down_revision: Union[str, None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_index("ix_estimate_chip_id", table_name="estimate")


def downgrade() -> None:
    op.create_index("ix_estimate_chip_id", "estimate", ["chip_id"], unique=False)
