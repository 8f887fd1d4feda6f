"""The tables of sites that work offline (migration 0011): README "Sites that work offline".

At the centre:
- ``sites``: one row per registered site: its branch (a site is a branch of its own),
  its tracking-number tag, its credential (a device token of role ``site``), the last
  site sequence applied (``acked_seq``) and its clock at the last sync;
- ``site_batches``: every batch applied, with when it arrived and the centre sequence
  numbers its events were given (when a synced event arrived);
- ``site_rows``: the centre's row for each of the site's tickets and dossiers, keyed by
  (branch, kind, the site's id): the site's autoincrement ids never become the centre's.

At the site:
- ``site_link``: where the centre is, the site's tag, what the centre acknowledged, the
  centre sequence of the last decisions pulled down, the last sync and its outcome.
"""
from sqlalchemy import (
    JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint,
)

from .schema import UTCDateTime, metadata

sites = Table(
    "sites", metadata,
    Column("branch_id", ForeignKey("branches.id"), primary_key=True),
    Column("tag", String(2), nullable=False, unique=True),
    Column("token_id", Integer, nullable=True),  # the site's credential (tokens.id)
    Column("acked_seq", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_batch_at", UTCDateTime, nullable=True),
    Column("last_pull_at", UTCDateTime, nullable=True),
    Column("clock_skew_s", Integer, nullable=True),  # at the last sync, + ahead
)

site_batches = Table(
    "site_batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("first_seq", Integer, nullable=False),  # the site's sequence
    Column("last_seq", Integer, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("events", Integer, nullable=False),  # events stored (echoes left out)
    Column("received_at", UTCDateTime, nullable=False),
    Column("site_now", UTCDateTime, nullable=True),
    Column("centre_first_seq", Integer, nullable=True),  # the branch's events at the centre
    Column("centre_last_seq", Integer, nullable=True),
    UniqueConstraint("branch_id", "last_seq", name="uq_site_batches_branch_last"),
)

site_rows = Table(
    "site_rows", metadata,
    Column("branch_id", ForeignKey("branches.id"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # ticket | dossier
    Column("site_id", Integer, primary_key=True),
    Column("centre_id", Integer, nullable=False),
    Column("first_synced_at", UTCDateTime, nullable=False),
    Column("synced_at", UTCDateTime, nullable=False),
)
Index("ix_site_rows_centre", site_rows.c.kind, site_rows.c.centre_id, unique=True)

# the site's own devices (kiosks, displays, printer agents paired at the site), as its last
# batch listed them; the centre's admin may ask for one to be revoked (it is, at the
# site's next sync)
site_devices = Table(
    "site_devices", metadata,
    Column("branch_id", ForeignKey("branches.id"), primary_key=True),
    Column("site_token_id", Integer, primary_key=True),
    Column("role", String(16), nullable=False),
    Column("name", String(120), nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),  # at the site
    Column("revoke_asked_at", UTCDateTime, nullable=True),  # by the centre
    Column("synced_at", UTCDateTime, nullable=False),
)

site_link = Table(
    "site_link", metadata,
    Column("branch_id", ForeignKey("branches.id"), primary_key=True),
    Column("centre_url", String(300), nullable=False),
    Column("tag", String(2), nullable=False),
    Column("acked_seq", Integer, nullable=False, server_default="0"),
    Column("down_seq", Integer, nullable=False, server_default="0"),
    Column("last_sync_at", UTCDateTime, nullable=True),  # the last sync that completed
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_result", JSON, nullable=True),  # sent, received, warnings
)
