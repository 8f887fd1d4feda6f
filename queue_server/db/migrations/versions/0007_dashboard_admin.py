"""the managers' alerts; branch opening hours and display zones in the database;
services closed for one day and their daily cut-off; devices' last seen

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.schema

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

UTC = queue_server.db.schema.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('branches') as batch:
        batch.add_column(sa.Column('schedule', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('display_zones', sa.JSON(), nullable=True))
    with op.batch_alter_table('services') as batch:
        batch.add_column(sa.Column('closed_day', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('cutoff', sa.String(length=5), nullable=True))
    with op.batch_alter_table('tokens') as batch:
        batch.add_column(sa.Column('last_seen_at', UTC(), nullable=True))
    op.create_table(
        'alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('raised_at', UTC(), nullable=False),
        sa.Column('cleared_at', UTC(), nullable=True),
        sa.Column('cleared_data', sa.JSON(), nullable=True),
        sa.Column('acknowledged_at', UTC(), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_alerts_branch_id_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    )
    # at most one open alert per (branch, kind, key): two processes raising the same
    # breach at once store it once
    op.create_index('ix_alerts_open', 'alerts', ['branch_id', 'kind', 'key'], unique=True,
                    sqlite_where=sa.text('cleared_at IS NULL'),
                    postgresql_where=sa.text('cleared_at IS NULL'))
    op.create_index('ix_alerts_branch_raised', 'alerts', ['branch_id', 'raised_at'])


def downgrade() -> None:
    op.drop_index('ix_alerts_branch_raised', table_name='alerts')
    op.drop_index('ix_alerts_open', table_name='alerts')
    op.drop_table('alerts')
    with op.batch_alter_table('tokens') as batch:
        batch.drop_column('last_seen_at')
    with op.batch_alter_table('services') as batch:
        batch.drop_column('cutoff')
        batch.drop_column('closed_day')
    with op.batch_alter_table('branches') as batch:
        batch.drop_column('display_zones')
        batch.drop_column('schedule')
