"""personal data (issue 12): a dossier's rejection reason becomes a code the visitor
reads from the catalogs, staff's own words move to an internal note; a dossier records
when its personal data was purged (retention)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.schema

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

REASONS = ('not_entitled', 'insufficient_contributions', 'deadline_passed',
           'invalid_documents', 'duplicate', 'other')


def upgrade() -> None:
    with op.batch_alter_table('dossiers') as batch:
        batch.add_column(sa.Column('internal_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('purged_at', queue_server.db.schema.UTCDateTime(),
                                   nullable=True))
    # a free-text reason written before: kept for staff as the note, the public sees "other"
    d = sa.table('dossiers', sa.column('reason', sa.Text()),
                 sa.column('internal_note', sa.Text()))
    op.execute(d.update().where(d.c.reason.is_not(None), d.c.reason.not_in(REASONS))
               .values(internal_note=d.c.reason, reason='other'))


def downgrade() -> None:
    with op.batch_alter_table('dossiers') as batch:
        batch.drop_column('purged_at')
        batch.drop_column('internal_note')
