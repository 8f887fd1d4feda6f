"""The dossier tables (migration 0003), on the shared ``metadata``.

Personal data, by design:
- ``insured_number`` is stored in full: the back office needs it to attach the
  dossier to the insured's account. It is returned only to staff (each opening
  is an audit row) and shown masked everywhere else (``insured_masked``).
- the national ID is NOT stored: only a keyed hash (HMAC-SHA256, to check "same
  person" at a counter) and a masked form. The kiosk needs it to validate, the
  process never needs it back.
- events carry the masked insured number only.
"""
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from ..db.schema import UTCDateTime, metadata

dossiers = Table(
    "dossiers", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("tracking", String(8), nullable=False),
    Column("type_code", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("insured_number", String(24), nullable=False),
    Column("insured_masked", String(24), nullable=False),
    Column("national_id_hash", String(64), nullable=True),
    Column("national_id_masked", String(24), nullable=True),
    Column("language", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("day", String(10), nullable=False),
    Column("declared", JSON, nullable=False),
    Column("missing", JSON, nullable=False),
    Column("event_date", String(10), nullable=True),
    Column("deadlines", JSON, nullable=False),
    Column("box", String(20), nullable=False),
    Column("ticket_id", Integer, nullable=True),
    Column("deposited_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=True),
    Column("review_at", UTCDateTime, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("paid_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("reason", Text, nullable=True),  # a REJECT_REASONS code (dossiers/messages.py)
    Column("internal_note", Text, nullable=True),  # staff's own words, staff pages only
    Column("purged_at", UTCDateTime, nullable=True),  # anonymised past its retention (purge)
    Column("idempotency_key", String(80), nullable=True),
    UniqueConstraint("tracking", name="uq_dossiers_tracking"),
    UniqueConstraint("branch_id", "idempotency_key", name="uq_dossiers_idempotency"),
)
Index("ix_dossiers_branch_status", dossiers.c.branch_id, dossiers.c.status)
Index("ix_dossiers_branch_day", dossiers.c.branch_id, dossiers.c.day)

# who opened which dossier, when (append-only)
dossier_access = Table(
    "dossier_access", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("dossier_id", ForeignKey("dossiers.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(16), nullable=False),  # opened
)
Index("ix_dossier_access_dossier", dossier_access.c.dossier_id)
