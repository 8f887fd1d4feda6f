"""regions and supervisors: a region per branch (config/branches.toml's [regions]), and
a supervisor's scope (regions, branch codes, or the whole network)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'regions',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('names', sa.JSON(), nullable=False),
        sa.Column('position', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_regions')),
    )
    with op.batch_alter_table('branches') as batch:
        batch.add_column(sa.Column('region', sa.String(length=40), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('scope', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('scope')
    with op.batch_alter_table('branches') as batch:
        batch.drop_column('region')
    op.drop_table('regions')
