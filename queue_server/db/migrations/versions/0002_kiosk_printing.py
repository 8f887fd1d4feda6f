"""kiosks, pairing codes, ticket public references, printers and print jobs

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.schema

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None



def upgrade() -> None:
    op.create_table(
        'ticket_refs',
        sa.Column('public_ref', sa.String(length=32), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('created_at', queue_server.db.schema.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_ticket_refs_branch_id_branches')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_refs_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('public_ref', name=op.f('pk_ticket_refs')),
        sa.UniqueConstraint('ticket_id', name=op.f('uq_ticket_refs_ticket_id')),
    )
    op.create_table(
        'kiosks',
        sa.Column('token_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('printer', sa.String(length=120), nullable=False),
        sa.Column('created_at', queue_server.db.schema.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_kiosks_branch_id_branches')),
        sa.ForeignKeyConstraint(['token_id'], ['tokens.id'], name=op.f('fk_kiosks_token_id_tokens')),
        sa.PrimaryKeyConstraint('token_id', name=op.f('pk_kiosks')),
    )
    op.create_table(
        'pairing_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('kiosk_name', sa.String(length=120), nullable=False),
        sa.Column('printer', sa.String(length=120), nullable=False),
        sa.Column('created_at', queue_server.db.schema.UTCDateTime(), nullable=False),
        sa.Column('expires_at', queue_server.db.schema.UTCDateTime(), nullable=False),
        sa.Column('used_at', queue_server.db.schema.UTCDateTime(), nullable=True),
        sa.Column('token_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_pairing_codes_branch_id_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_codes')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_pairing_codes_code_hash')),
    )
    op.create_table(
        'printers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('state', sa.String(length=20), server_default='unknown', nullable=False),
        sa.Column('detail', sa.Text(), server_default='', nullable=False),
        sa.Column('connected', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('last_seen_at', queue_server.db.schema.UTCDateTime(), nullable=True),
        sa.Column('updated_at', queue_server.db.schema.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_printers_branch_id_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_printers')),
        sa.UniqueConstraint('branch_id', 'name', name='uq_printers_branch_name'),
    )
    op.create_table(
        'print_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.String(length=64), nullable=False),
        sa.Column('printer', sa.String(length=120), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('paper', sa.String(length=8), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', queue_server.db.schema.UTCDateTime(), nullable=False),
        sa.Column('sent_at', queue_server.db.schema.UTCDateTime(), nullable=True),
        sa.Column('finished_at', queue_server.db.schema.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_print_jobs_branch_id_branches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs')),
        sa.UniqueConstraint('job_id', name=op.f('uq_print_jobs_job_id')),
        sa.UniqueConstraint('ticket_id', name=op.f('uq_print_jobs_ticket_id')),
    )
    op.create_index('ix_print_jobs_open', 'print_jobs', ['branch_id', 'printer', 'status'])


def downgrade() -> None:
    op.drop_index('ix_print_jobs_open', table_name='print_jobs')
    op.drop_table('print_jobs')
    op.drop_table('printers')
    op.drop_table('pairing_codes')
    op.drop_table('kiosks')
    op.drop_table('ticket_refs')
