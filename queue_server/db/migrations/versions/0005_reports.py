"""reports: daily summaries (report_days) and an index of counter events

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.schema

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

UTC = queue_server.db.schema.UTCDateTime
COUNTER_EVENTS = "type IN ('counter_opened', 'counter_paused', 'counter_closed')"
COUNTS = ("arrivals", "called", "served", "no_show", "cancelled", "cancelled_at_close",
          "transferred", "calls", "marked_no_show", "transfers_out", "open_s", "sl_met",
          "sl_total", "printed_n", "printed_err_s", "printed_abs_s", "wait_n", "wait_sum_s",
          "service_n", "service_sum_s")


def upgrade() -> None:
    op.create_index('ix_events_counter_at', 'events', ['branch_id', 'counter_id', 'at'],
                    sqlite_where=sa.text(COUNTER_EVENTS), postgresql_where=sa.text(COUNTER_EVENTS))
    op.create_table(
        'report_days',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('dim', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False, server_default='0') for name in COUNTS],
        sa.Column('wait_hist', sa.JSON(), nullable=True),
        sa.Column('service_hist', sa.JSON(), nullable=True),
        sa.Column('wait_values', sa.JSON(), nullable=True),
        sa.Column('service_values', sa.JSON(), nullable=True),
        sa.Column('target_min', sa.Integer(), nullable=True),
        sa.Column('computed_at', UTC(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_report_days_branch_id_branches')),
        sa.PrimaryKeyConstraint('branch_id', 'day', 'dim', 'key', name=op.f('pk_report_days')),
    )


def downgrade() -> None:
    op.drop_table('report_days')
    op.drop_index('ix_events_counter_at', table_name='events')
