"""Initial schema: organisations, chips, ingest batches, bitemporal estimates,
headcounts, model runs, and the single-row store_state (data version and clock).

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 22:02:55.104867
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('chip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_key', sa.String(length=120), nullable=False),
    sa.Column('vendor', sa.String(length=80), nullable=True),
    sa.Column('family', sa.String(length=60), nullable=True),
    sa.Column('release_date', sa.Date(), nullable=True),
    sa.Column('peak_flops_fp32', sa.Float(), nullable=True),
    sa.Column('peak_flops_bf16', sa.Float(), nullable=True),
    sa.Column('peak_ops_8bit', sa.Float(), nullable=True),
    sa.Column('memory_gb', sa.Float(), nullable=True),
    sa.Column('memory_bw_gb_s', sa.Float(), nullable=True),
    sa.Column('tdp_w', sa.Float(), nullable=True),
    sa.Column('price_usd', sa.Float(), nullable=True),
    sa.Column('source_url', sa.String(length=2000), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('peak_flops_bf16 IS NULL OR peak_flops_bf16 > 0', name=op.f('ck_chip_peak_flops_bf16_positive')),
    sa.CheckConstraint('peak_flops_fp32 IS NULL OR peak_flops_fp32 > 0', name=op.f('ck_chip_peak_flops_fp32_positive')),
    sa.CheckConstraint('peak_ops_8bit IS NULL OR peak_ops_8bit > 0', name=op.f('ck_chip_peak_ops_8bit_positive')),
    sa.CheckConstraint('price_usd IS NULL OR price_usd > 0', name=op.f('ck_chip_price_usd_positive')),
    sa.CheckConstraint('tdp_w IS NULL OR tdp_w > 0', name=op.f('ck_chip_tdp_w_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chip')),
    sa.UniqueConstraint('name_key', name=op.f('uq_chip_name_key'))
    )
    op.create_table('ingest_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=2000), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('rows_in', sa.Integer(), nullable=False),
    sa.Column('rows_added', sa.Integer(), nullable=False),
    sa.Column('rows_skipped', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('seed', 'csv', 'manual', 'scraper', 'revert')", name=op.f('ck_ingest_batch_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_batch'))
    )
    with op.batch_alter_table('ingest_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_batch_sha256'), ['sha256'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('lab', 'hyperscaler', 'cloud', 'government', 'academic', 'company', 'other', 'unattributed')", name=op.f('ck_organisation_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['organisation.id'], name=op.f('fk_organisation_parent_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name_key', name=op.f('uq_organisation_name_key'))
    )
    store_state = op.create_table('store_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('last_write_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_store_state_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_state'))
    )
    # The store clock's one row; fleet.db.write_session locks and advances it.
    op.bulk_insert(store_state, [{"id": 1, "version": 0, "last_write_at": None}])
    op.create_table('chip_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chip_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=120), nullable=False),
    sa.Column('alias_key', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['chip_id'], ['chip.id'], name=op.f('fk_chip_alias_chip_id_chip'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chip_alias')),
    sa.UniqueConstraint('alias_key', name=op.f('uq_chip_alias_alias_key'))
    )
    with op.batch_alter_table('chip_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chip_alias_chip_id'), ['chip_id'], unique=False)

    op.create_table('estimate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('chip_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.BigInteger(), nullable=True),
    sa.Column('count_low', sa.BigInteger(), nullable=True),
    sa.Column('count_high', sa.BigInteger(), nullable=True),
    sa.Column('h100e', sa.Float(), nullable=True),
    sa.Column('h100e_low', sa.Float(), nullable=True),
    sa.Column('h100e_high', sa.Float(), nullable=True),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('cluster', sa.String(length=300), nullable=True),
    sa.Column('valid_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('certainty', sa.String(length=20), nullable=False),
    sa.Column('access', sa.String(length=10), nullable=False),
    sa.Column('user_organisation_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('power_mw', sa.Float(), nullable=True),
    sa.Column('source_url', sa.String(length=2000), nullable=False),
    sa.Column('extra_source_urls', sa.Text(), nullable=True),
    sa.Column('source_title', sa.Text(), nullable=True),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('retraction_batch_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('retracted_at', sa.DateTime(), nullable=True),
    sa.Column('retraction_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("access IN ('owned', 'leased', 'rented')", name=op.f('ck_estimate_access')),
    sa.CheckConstraint("certainty IN ('confirmed', 'likely', 'speculative')", name=op.f('ck_estimate_certainty')),
    sa.CheckConstraint("scope = 'fleet' OR cluster IS NOT NULL", name=op.f('ck_estimate_cluster_named')),
    sa.CheckConstraint("scope IN ('fleet', 'cluster')", name=op.f('ck_estimate_scope')),
    sa.CheckConstraint("status IN ('planned', 'operational', 'decommissioned')", name=op.f('ck_estimate_status')),
    sa.CheckConstraint('(chip_id IS NOT NULL AND count IS NOT NULL AND h100e IS NULL) OR (chip_id IS NULL AND h100e IS NOT NULL AND count IS NULL)', name=op.f('ck_estimate_chips_or_h100e')),
    sa.CheckConstraint('count IS NULL OR count >= 0', name=op.f('ck_estimate_count_nonnegative')),
    sa.CheckConstraint('count_high IS NULL OR (count IS NOT NULL AND count_high >= count)', name=op.f('ck_estimate_count_high')),
    sa.CheckConstraint('count_low IS NULL OR (count IS NOT NULL AND count_low <= count)', name=op.f('ck_estimate_count_low')),
    sa.CheckConstraint('h100e IS NULL OR h100e >= 0', name=op.f('ck_estimate_h100e_nonnegative')),
    sa.CheckConstraint('h100e_high IS NULL OR (h100e IS NOT NULL AND h100e_high >= h100e)', name=op.f('ck_estimate_h100e_high')),
    sa.CheckConstraint('h100e_low IS NULL OR (h100e IS NOT NULL AND h100e_low <= h100e)', name=op.f('ck_estimate_h100e_low')),
    sa.ForeignKeyConstraint(['batch_id'], ['ingest_batch.id'], name=op.f('fk_estimate_batch_id_ingest_batch')),
    sa.ForeignKeyConstraint(['chip_id'], ['chip.id'], name=op.f('fk_estimate_chip_id_chip')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_estimate_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['retraction_batch_id'], ['ingest_batch.id'], name=op.f('fk_estimate_retraction_batch_id_ingest_batch')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['estimate.id'], name=op.f('fk_estimate_supersedes_id_estimate')),
    sa.ForeignKeyConstraint(['user_organisation_id'], ['organisation.id'], name=op.f('fk_estimate_user_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_estimate'))
    )
    with op.batch_alter_table('estimate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_estimate_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_estimate_chip_id'), ['chip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_estimate_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index('ix_estimate_org_chip_valid', ['organisation_id', 'chip_id', 'valid_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_estimate_recorded_at'), ['recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_estimate_supersedes_id'), ['supersedes_id'], unique=False)

    op.create_table('headcount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('valid_on', sa.Date(), nullable=False),
    sa.Column('scope_note', sa.Text(), nullable=True),
    sa.Column('source_url', sa.String(length=2000), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('retraction_batch_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('retracted_at', sa.DateTime(), nullable=True),
    sa.Column('retraction_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('staff', 'researchers')", name=op.f('ck_headcount_kind')),
    sa.CheckConstraint('count > 0', name=op.f('ck_headcount_count_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['ingest_batch.id'], name=op.f('fk_headcount_batch_id_ingest_batch')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_headcount_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['retraction_batch_id'], ['ingest_batch.id'], name=op.f('fk_headcount_retraction_batch_id_ingest_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_headcount'))
    )
    with op.batch_alter_table('headcount', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_headcount_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_headcount_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_headcount_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_headcount_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('model_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('developer', sa.Text(), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('training_flop', sa.Float(), nullable=False),
    sa.Column('training_flop_low', sa.Float(), nullable=True),
    sa.Column('training_flop_high', sa.Float(), nullable=True),
    sa.Column('hardware', sa.Text(), nullable=True),
    sa.Column('chip_id', sa.Integer(), nullable=True),
    sa.Column('hardware_quantity', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.String(length=40), nullable=True),
    sa.Column('milestone', sa.Boolean(), nullable=False),
    sa.Column('source_url', sa.String(length=2000), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('retraction_batch_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('retracted_at', sa.DateTime(), nullable=True),
    sa.Column('retraction_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('training_flop > 0', name=op.f('ck_model_run_training_flop_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['ingest_batch.id'], name=op.f('fk_model_run_batch_id_ingest_batch')),
    sa.ForeignKeyConstraint(['chip_id'], ['chip.id'], name=op.f('fk_model_run_chip_id_chip')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_model_run_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['retraction_batch_id'], ['ingest_batch.id'], name=op.f('fk_model_run_retraction_batch_id_ingest_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_run'))
    )
    with op.batch_alter_table('model_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_run_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_run_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_run_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_run_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('organisation_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('alias_key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_alias_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_alias')),
    sa.UniqueConstraint('alias_key', name=op.f('uq_organisation_alias_alias_key'))
    )
    with op.batch_alter_table('organisation_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_alias_organisation_id'), ['organisation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('organisation_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_alias_organisation_id'))

    op.drop_table('organisation_alias')
    with op.batch_alter_table('model_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_run_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_model_run_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_model_run_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_model_run_batch_id'))

    op.drop_table('model_run')
    with op.batch_alter_table('headcount', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_headcount_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_headcount_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_headcount_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_headcount_batch_id'))

    op.drop_table('headcount')
    with op.batch_alter_table('estimate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_estimate_supersedes_id'))
        batch_op.drop_index(batch_op.f('ix_estimate_recorded_at'))
        batch_op.drop_index('ix_estimate_org_chip_valid')
        batch_op.drop_index(batch_op.f('ix_estimate_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_estimate_chip_id'))
        batch_op.drop_index(batch_op.f('ix_estimate_batch_id'))

    op.drop_table('estimate')
    with op.batch_alter_table('chip_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chip_alias_chip_id'))

    op.drop_table('chip_alias')
    op.drop_table('store_state')
    op.drop_table('organisation')
    with op.batch_alter_table('ingest_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_batch_sha256'))

    op.drop_table('ingest_batch')
    op.drop_table('chip')
