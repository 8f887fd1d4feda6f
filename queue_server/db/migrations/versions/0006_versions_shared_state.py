"""optimistic-concurrency versions on tickets and counters; leases, shared counters and
recent announcements shared by every server process; service-time priors; ticket
codes (not service numbers) unique per branch day; print jobs an agent has taken

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.schema

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

UTC = queue_server.db.schema.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
        # a transferred ticket keeps its code in its new service: codes are unique
        batch.drop_constraint('uq_tickets_number', type_='unique')
        batch.create_unique_constraint('uq_tickets_code', ['branch_id', 'day', 'code'])
    with op.batch_alter_table('counters') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('printers') as batch:
        batch.add_column(sa.Column('agent_session', sa.String(length=64), nullable=True))
    with op.batch_alter_table('print_jobs') as batch:
        batch.alter_column('status', type_=sa.String(length=24), existing_nullable=False)
        batch.add_column(sa.Column('taken_at', UTC(), nullable=True))
        batch.add_column(sa.Column('dossier_id', sa.Integer(), nullable=True))
        # a reprint is another job of the same ticket
        batch.drop_constraint('uq_print_jobs_ticket_id', type_='unique')
        batch.create_index('ix_print_jobs_ticket', ['ticket_id'])
    with op.batch_alter_table('services') as batch:
        batch.add_column(sa.Column('prior_minutes', sa.Float(), nullable=True))
        batch.add_column(sa.Column('prior_sd_minutes', sa.Float(), nullable=True))
    op.create_table(
        'leases',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('owner', sa.String(length=120), nullable=False),
        sa.Column('expires_at', UTC(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_leases')),
    )
    op.create_table(
        'shared_counters',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', UTC(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_shared_counters')),
    )
    op.create_table(
        'announcements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('made_at', UTC(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_announcements_branch_id_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements')),
        sa.UniqueConstraint('branch_id', 'seq', name='uq_announcements_branch_seq'),
    )


def downgrade() -> None:
    op.drop_table('announcements')
    op.drop_table('shared_counters')
    op.drop_table('leases')
    with op.batch_alter_table('printers') as batch:
        batch.drop_column('agent_session')
    with op.batch_alter_table('print_jobs') as batch:
        batch.drop_index('ix_print_jobs_ticket')
        batch.create_unique_constraint('uq_print_jobs_ticket_id', ['ticket_id'])
        batch.drop_column('dossier_id')
        batch.drop_column('taken_at')
        batch.alter_column('status', type_=sa.String(length=16), existing_nullable=False)
    with op.batch_alter_table('services') as batch:
        batch.drop_column('prior_sd_minutes')
        batch.drop_column('prior_minutes')
    with op.batch_alter_table('counters') as batch:
        batch.drop_column('version')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_constraint('uq_tickets_code', type_='unique')
        batch.create_unique_constraint('uq_tickets_number',
                                       ['branch_id', 'service_id', 'day', 'number'])
        batch.drop_column('version')
