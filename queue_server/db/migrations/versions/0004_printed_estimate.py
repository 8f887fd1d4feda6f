"""the wait estimate and people ahead printed on each ticket (reports: printed vs actual)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('printed_wait_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('printed_people_ahead', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('printed_people_ahead')
        batch.drop_column('printed_wait_minutes')
