"""Estimates at scale: an index for the hot read, cheaper CHECKs for the bulk write.

The read. 
``fleet.queries.estimates_frame`` checks, for every estimate, whether a correction that
was known at T supersedes it (a correlated NOT EXISTS on ``supersedes_id``). The plain
``ix_estimate_supersedes_id`` holds every row (mostly NULL) and the check then reads the
correction's row for ``recorded_at``/``retracted_at``. This partial, covering index holds
only the corrections with the two columns the check needs: a million probes hit a small,
cache-resident index and never the table (SQLite and Postgres both use it; see the query
plans in bench/RESULTS.md).

The write. SQLite evaluates ``col IN ('a', 'b')`` inside a CHECK constraint by building a
temporary lookup for every inserted row; ``col = 'a' OR col = 'b'`` accepts and rejects
exactly the same values at half the cost, which is about two seconds of a million-row
import. The four vocabulary CHECKs of ``estimate`` are rewritten so (SQLite rebuilds the
table in batch mode; Postgres swaps the constraints).

Revision ID: 0007
Revises: 0006 (snapshots)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WHERE = "supersedes_id IS NOT NULL"


VOCABULARIES = {
    "scope": ("fleet", "cluster"),
    "status": ("planned", "operational", "decommissioned"),
    "certainty": ("confirmed", "likely", "speculative"),
    "access": ("owned", "leased", "rented"),
}


def _either(column: str, allowed) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in allowed)


def _one_of(column: str, allowed) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in allowed)})"


def _checks(render) -> None:
    with op.batch_alter_table("estimate", recreate="auto") as batch:
        for column, allowed in VOCABULARIES.items():
            batch.drop_constraint(op.f(f"ck_estimate_{column}"), type_="check")
            batch.create_check_constraint(op.f(f"ck_estimate_{column}"), render(column, allowed))


def upgrade() -> None:
    _checks(_either)
    op.create_index("ix_estimate_correction", "estimate", ["supersedes_id", "recorded_at", "retracted_at"],
                    unique=False, sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_estimate_correction", table_name="estimate")
    _checks(_one_of)
