"""Claims ledger: dated, sourced claims about compute, checked against the store.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_key', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=300), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('metric', sa.String(length=120), nullable=False),
    sa.Column('comparator', sa.String(length=2), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=120), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('source_name', sa.String(length=500), nullable=True),
    sa.Column('source_url', sa.String(length=2000), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint("comparator IN ('>=', '>', '<=', '<', '=')", name=op.f('ck_claim_comparator')),
    sa.ForeignKeyConstraint(['batch_id'], ['ingest_batch.id'], name=op.f('fk_claim_batch_id_ingest_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
    sa.UniqueConstraint('claim_key', name=op.f('uq_claim_claim_key'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_target_date'), ['target_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_target_date'))
        batch_op.drop_index(batch_op.f('ix_claim_batch_id'))

    op.drop_table('claim')
