"""dossiers and the audit of who opened them

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.schema

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

UTC = queue_server.db.schema.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'dossiers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('tracking', sa.String(length=8), nullable=False),
        sa.Column('type_code', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('insured_number', sa.String(length=24), nullable=False),
        sa.Column('insured_masked', sa.String(length=24), nullable=False),
        sa.Column('national_id_hash', sa.String(length=64), nullable=True),
        sa.Column('national_id_masked', sa.String(length=24), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('declared', sa.JSON(), nullable=False),
        sa.Column('missing', sa.JSON(), nullable=False),
        sa.Column('event_date', sa.String(length=10), nullable=True),
        sa.Column('deadlines', sa.JSON(), nullable=False),
        sa.Column('box', sa.String(length=20), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('deposited_at', UTC(), nullable=False),
        sa.Column('received_at', UTC(), nullable=True),
        sa.Column('review_at', UTC(), nullable=True),
        sa.Column('decided_at', UTC(), nullable=True),
        sa.Column('paid_at', UTC(), nullable=True),
        sa.Column('closed_at', UTC(), nullable=True),
        sa.Column('updated_at', UTC(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('idempotency_key', sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_dossiers_branch_id_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
        sa.UniqueConstraint('tracking', name='uq_dossiers_tracking'),
        sa.UniqueConstraint('branch_id', 'idempotency_key', name='uq_dossiers_idempotency'),
    )
    op.create_index('ix_dossiers_branch_status', 'dossiers', ['branch_id', 'status'])
    op.create_index('ix_dossiers_branch_day', 'dossiers', ['branch_id', 'day'])
    op.create_table(
        'dossier_access',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('at', UTC(), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_dossier_access_branch_id_branches')),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_dossier_access_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_access')),
    )
    op.create_index('ix_dossier_access_dossier', 'dossier_access', ['dossier_id'])


def downgrade() -> None:
    op.drop_index('ix_dossier_access_dossier', table_name='dossier_access')
    op.drop_table('dossier_access')
    op.drop_index('ix_dossiers_branch_day', table_name='dossiers')
    op.drop_index('ix_dossiers_branch_status', table_name='dossiers')
    op.drop_table('dossiers')
