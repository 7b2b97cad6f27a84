"""Snapshot links: a page's frozen view state, data cut-off and content hash.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('snapshot',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('page_id', sa.String(length=100), nullable=False),
    sa.Column('view_state', sa.Text(), nullable=False),
    sa.Column('cutoff', sa.DateTime(), nullable=False),
    sa.Column('data_hash', sa.String(length=64), nullable=False),
    sa.Column('hash_basis', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("hash_basis IN ('view', 'screen')", name=op.f('ck_snapshot_hash_basis')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshot'))
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshot_created_at'))

    op.drop_table('snapshot')
