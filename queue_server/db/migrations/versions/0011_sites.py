"""sites that work offline: a site's registration, its batches and the centre's keys
for its rows (centre); the link to the centre (site)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.schema

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UTC = queue_server.db.schema.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'sites',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.String(length=2), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=True),
        sa.Column('acked_seq', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('last_batch_at', UTC(), nullable=True),
        sa.Column('last_pull_at', UTC(), nullable=True),
        sa.Column('clock_skew_s', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_sites_branch_id_branches')),
        sa.PrimaryKeyConstraint('branch_id', name=op.f('pk_sites')),
        sa.UniqueConstraint('tag', name=op.f('uq_sites_tag')),
    )
    op.create_table(
        'site_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('first_seq', sa.Integer(), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.Column('checksum', sa.String(length=64), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('received_at', UTC(), nullable=False),
        sa.Column('site_now', UTC(), nullable=True),
        sa.Column('centre_first_seq', sa.Integer(), nullable=True),
        sa.Column('centre_last_seq', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_site_batches_branch_id_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_batches')),
        sa.UniqueConstraint('branch_id', 'last_seq', name='uq_site_batches_branch_last'),
    )
    op.create_table(
        'site_rows',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('centre_id', sa.Integer(), nullable=False),
        sa.Column('first_synced_at', UTC(), nullable=False),
        sa.Column('synced_at', UTC(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_site_rows_branch_id_branches')),
        sa.PrimaryKeyConstraint('branch_id', 'kind', 'site_id', name=op.f('pk_site_rows')),
    )
    op.create_index('ix_site_rows_centre', 'site_rows', ['kind', 'centre_id'], unique=True)
    op.create_table(
        'site_devices',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('site_token_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('revoked_at', UTC(), nullable=True),
        sa.Column('revoke_asked_at', UTC(), nullable=True),
        sa.Column('synced_at', UTC(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_site_devices_branch_id_branches')),
        sa.PrimaryKeyConstraint('branch_id', 'site_token_id', name=op.f('pk_site_devices')),
    )
    op.create_table(
        'site_link',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('centre_url', sa.String(length=300), nullable=False),
        sa.Column('tag', sa.String(length=2), nullable=False),
        sa.Column('acked_seq', sa.Integer(), server_default='0', nullable=False),
        sa.Column('down_seq', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_sync_at', UTC(), nullable=True),
        sa.Column('last_attempt_at', UTC(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_result', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_site_link_branch_id_branches')),
        sa.PrimaryKeyConstraint('branch_id', name=op.f('pk_site_link')),
    )


def downgrade() -> None:
    op.drop_table('site_link')
    op.drop_table('site_devices')
    op.drop_index('ix_site_rows_centre', table_name='site_rows')
    op.drop_table('site_rows')
    op.drop_table('site_batches')
    op.drop_table('sites')
