"""pairing codes for wall displays too: the role a code pairs (kiosk or display)

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pairing_codes') as batch:
        batch.add_column(sa.Column('role', sa.String(length=16), server_default='kiosk',
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('pairing_codes') as batch:
        batch.drop_column('role')
