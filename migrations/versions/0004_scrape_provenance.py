"""Scrape provenance: the fetch's provenance on ``ingest_batch``, the raw documents a
scrape fetched (compressed, so a parse can be re-run), and chip catalog proposals an
editor accepts or rejects.

Revision ID: 0004
Revises: 0002 (relinked at merge: the lead orders 0002/0003/0004)
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None



def _batch_columns() -> list[sa.Column]:
    return [
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
    ]


def _raw_document() -> None:
    op.create_table(
        "raw_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("final_url", sa.String(length=2000), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("payload_encoding", sa.String(length=10), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_raw_document_size_nonnegative")),
        sa.CheckConstraint("payload_encoding IN ('gzip')", name=op.f("ck_raw_document_payload_encoding")),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_raw_document_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_document")),
    )
    with op.batch_alter_table("raw_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_document_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_raw_document_source_name"), ["source_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_raw_document_sha256"), ["sha256"], unique=False)


def _chip_proposal() -> None:
    op.create_table(
        "chip_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("chip_id", sa.Integer(), nullable=True),
        sa.Column("chip_name", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_batch_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('add', 'update')", name=op.f("ck_chip_proposal_action")),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name=op.f("ck_chip_proposal_status")),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_chip_proposal_batch_id_ingest_batch")),
        sa.ForeignKeyConstraint(["chip_id"], ["chip.id"], name=op.f("fk_chip_proposal_chip_id_chip")),
        sa.ForeignKeyConstraint(["decision_batch_id"], ["ingest_batch.id"],
                                name=op.f("fk_chip_proposal_decision_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chip_proposal")),
    )
    with op.batch_alter_table("chip_proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chip_proposal_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chip_proposal_chip_id"), ["chip_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chip_proposal_fingerprint"), ["fingerprint"], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("ingest_batch", schema=None) as batch_op:
        for column in _batch_columns():
            batch_op.add_column(column)
    _raw_document()
    _chip_proposal()


def downgrade() -> None:
    for table, indexes in (("chip_proposal", ("fingerprint", "chip_id", "batch_id")),
                           ("raw_document", ("sha256", "source_name", "batch_id"))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
    with op.batch_alter_table("ingest_batch", schema=None) as batch_op:
        for column in reversed(_batch_columns()):
            batch_op.drop_column(column.name)
