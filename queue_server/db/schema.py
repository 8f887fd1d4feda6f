"""The tables. Alembic migrations under ``migrations/`` are written from these.

Every record belongs to a branch. Times are stored in UTC (``UTCDateTime``) and
shown in the branch's zone. ``events`` is append-only: the history every wait
time, report and estimate is computed from.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table,
    Text, UniqueConstraint, false, true,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass UTC-aware times")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # SQLite through raw SQL
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)


branches = Table(
    "branches", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("names", JSON, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("languages", JSON, nullable=False),  # e.g. ["ar", "fr", "en"]
    Column("display_languages", JSON, nullable=False),  # e.g. ["ar", "fr"]
    Column("policy", JSON, nullable=False),
    Column("outcomes", JSON, nullable=False),  # outcome codes a counter may finish with
    Column("event_seq", Integer, nullable=False, server_default="0"),
    # opening hours, closed days, special hours (engine/schedule.py); NULL: none set (0007)
    Column("schedule", JSON, nullable=True),
    # wall display zones [{name, services, counters}]; NULL: not yet seeded from the
    # configuration file's [[branch.display]] (0007)
    Column("display_zones", JSON, nullable=True),
    # the region it belongs to (regions.code; config/branches.toml, 0010): supervisors
    Column("region", String(40), nullable=True),
)

# regions of the network, from config/branches.toml's [regions] (0010): what a
# supervisor's scope names; a branch without one is seen by national supervisors only
regions = Table(
    "regions", metadata,
    Column("code", String(40), primary_key=True),
    Column("names", JSON, nullable=False),  # {"ar": ..., "fr": ..., "en": ...}
    Column("position", Integer, nullable=False, server_default="0"),
)

services = Table(
    "services", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("prefix", String(3), nullable=False),
    Column("names", JSON, nullable=False),
    Column("target_wait_minutes", Integer, nullable=False),
    Column("icon", String(40), nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("position", Integer, nullable=False, server_default="0"),
    # the service time the estimates start from before the day has any (0006)
    Column("prior_minutes", Float, nullable=True),
    Column("prior_sd_minutes", Float, nullable=True),
    # closed for this one branch day (it reopens at the rollover) and the local time
    # after which visitors get no more tickets of it that day (0007)
    Column("closed_day", String(10), nullable=True),
    Column("cutoff", String(5), nullable=True),
    UniqueConstraint("branch_id", "prefix", name="uq_services_branch_prefix"),
)

counters = Table(
    "counters", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("name", String(80), nullable=False),
    Column("state", String(16), nullable=False, server_default="closed"),
    Column("current_ticket_id", Integer, nullable=True),
    Column("priority_streak", Integer, nullable=False, server_default="0"),
    Column("agent_user_id", Integer, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    # bumped by every write: a write made from an older read matches no row (0006)
    Column("version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("branch_id", "number", name="uq_counters_branch_number"),
)

counter_services = Table(
    "counter_services", metadata,
    Column("counter_id", ForeignKey("counters.id"), primary_key=True),
    Column("service_id", ForeignKey("services.id"), primary_key=True),
    Column("rank", Integer, nullable=False, server_default="0"),
)

ticket_sequences = Table(
    "ticket_sequences", metadata,
    Column("branch_id", ForeignKey("branches.id"), primary_key=True),
    Column("service_id", ForeignKey("services.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("last", Integer, nullable=False),
)

tickets = Table(
    "tickets", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("service_id", ForeignKey("services.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("code", String(12), nullable=False),
    Column("day", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("front", Boolean, nullable=False, server_default=false()),
    Column("target_counter_id", Integer, nullable=True),
    Column("counter_id", Integer, nullable=True),
    Column("called_at", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("recall_count", Integer, nullable=False, server_default="0"),
    Column("recycled", Boolean, nullable=False, server_default=false()),
    Column("transfer_count", Integer, nullable=False, server_default="0"),
    Column("outcome", String(40), nullable=True),
    Column("note", Text, nullable=True),
    Column("idempotency_key", String(80), nullable=True),
    # what the ticket said when it was issued (migration 0004): reports compare it
    # with the wait the visitor really had
    Column("printed_wait_minutes", Integer, nullable=True),
    Column("printed_people_ahead", Integer, nullable=True),
    # bumped by every write: a write made from an older read matches no row (0006)
    Column("version", Integer, nullable=False, server_default="0"),
    # a ticket keeps its code when it is transferred to another service: codes, not
    # (service, number), are what is unique in a branch day (0006)
    UniqueConstraint("branch_id", "day", "code", name="uq_tickets_code"),
    UniqueConstraint("branch_id", "idempotency_key", name="uq_tickets_idempotency"),
)
# the live queue: only waiting rows are indexed
Index("ix_tickets_waiting", tickets.c.branch_id, tickets.c.service_id, tickets.c.id,
      sqlite_where=tickets.c.status == "waiting",
      postgresql_where=tickets.c.status == "waiting")
Index("ix_tickets_branch_day", tickets.c.branch_id, tickets.c.day)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("ticket_id", Integer, nullable=True),
    Column("counter_id", Integer, nullable=True),
    Column("service_id", Integer, nullable=True),
    Column("data", JSON, nullable=False),
    UniqueConstraint("branch_id", "seq", name="uq_events_branch_seq"),
)
Index("ix_events_ticket", events.c.ticket_id)
Index("ix_events_branch_type_at", events.c.branch_id, events.c.type, events.c.at)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("username", String(80), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # agent | manager | admin | supervisor
    Column("display_name", String(120), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
    # a supervisor's scope (0010): {"national": true} | {"regions": [codes]} |
    # {"branches": [codes]}; NULL for the other roles (their own branch)
    Column("scope", JSON, nullable=True),
)

tokens = Table(
    "tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # session | device
    Column("role", String(16), nullable=False),  # agent|manager|admin|kiosk|display|printer
    Column("user_id", ForeignKey("users.id"), nullable=True),
    Column("name", String(120), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    # a device's last socket connection or goodbye (the admin page's "last seen", 0007)
    Column("last_seen_at", UTCDateTime, nullable=True),
)

# --- kiosks and receipt printing (migration 0002) ------------------------------

# the random public reference of a ticket (the QR code on it opens /t/<ref>);
# a separate table keeps the ticket write path untouched
ticket_refs = Table(
    "ticket_refs", metadata,
    Column("public_ref", String(32), primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# a kiosk device: which printer prints its tickets
kiosks = Table(
    "kiosks", metadata,
    Column("token_id", ForeignKey("tokens.id"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("name", String(120), nullable=False),
    Column("printer", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# short codes an admin creates and a kiosk or a wall display types once to get its device
# token; kiosk_name is the device's name whatever its role
pairing_codes = Table(
    "pairing_codes", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False, server_default="kiosk"),  # kiosk | display (0007)
    Column("kiosk_name", String(120), nullable=False),
    Column("printer", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("token_id", Integer, nullable=True),
)

# the last known state of each printer, as its agent reported it
printers = Table(
    "printers", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("name", String(120), nullable=False),
    # online | offline | paper_out | paper_near_end | cover_open | error | unknown
    Column("state", String(20), nullable=False, server_default="unknown"),
    Column("detail", Text, nullable=False, server_default=""),
    Column("connected", Boolean, nullable=False, server_default=false()),
    # the connection that set ``connected`` (0006): an older connection's goodbye,
    # handled by another server process, does not mark a reconnected agent gone
    Column("agent_session", String(64), nullable=True),
    Column("last_seen_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    UniqueConstraint("branch_id", "name", name="uq_printers_branch_name"),
)

# every print job, committed before it is sent: never lost
print_jobs = Table(
    "print_jobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("job_id", String(64), nullable=False, unique=True),
    Column("printer", String(120), nullable=False),
    # the ticket it prints; a reprint is another job of the same ticket (0006: no longer
    # unique)
    Column("ticket_id", Integer, nullable=True),
    Column("dossier_id", Integer, nullable=True),  # a deposit receipt's dossier (0006)
    Column("kind", String(16), nullable=False),  # ticket | deposit
    Column("document", JSON, nullable=False),  # what the agent renders (TicketPrint fields)
    Column("paper", String(8), nullable=True),  # None: the agent's own paper
    # pending (no agent has it yet) | queued | retrying | waiting_paper (an agent has it)
    # | printed | printed_unconfirmed | failed | refused | not_taken (no agent in time)
    Column("status", String(24), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("taken_at", UTCDateTime, nullable=True),  # an agent said it has it (0006)
    Column("finished_at", UTCDateTime, nullable=True),
)
Index("ix_print_jobs_open", print_jobs.c.branch_id, print_jobs.c.printer, print_jobs.c.status)
Index("ix_print_jobs_ticket", print_jobs.c.ticket_id)


# --- state shared by every server process (migration 0006) ------------------------

# one-owner work (serial ports, housekeeping, the embedded printer agent): the process
# whose lease is current does it; the others stand by and take over when it lapses
leases = Table(
    "leases", metadata,
    Column("name", String(80), primary_key=True),
    Column("owner", String(120), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# counters that must survive a restart and be shared by processes: rate limits
# (wrong passwords, pairing codes, tracking-number guesses). With Redis configured
# they live in Redis instead; this table serves the one-process embedded default.
shared_counters = Table(
    "shared_counters", metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# announcements made in the last seconds, for a display that reconnects after a blip
announcements = Table(
    "announcements", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("made_at", UTCDateTime, nullable=False),
    UniqueConstraint("branch_id", "seq", name="uq_announcements_branch_seq"),
)

# --- alerts (migration 0007) ---------------------------------------------------------

# the managers' alert list: a row per breach, raised, cleared and acknowledged by
# commands (each an event of the branch); at most one open row per (kind, key)
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("kind", String(40), nullable=False),   # wait_target | counter_paused | ...
    Column("key", String(120), nullable=False),   # what it is about: a service, a counter
    Column("data", JSON, nullable=False),         # the figures when it was raised
    Column("raised_at", UTCDateTime, nullable=False),
    Column("cleared_at", UTCDateTime, nullable=True),
    Column("cleared_data", JSON, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(120), nullable=True),
)
Index("ix_alerts_open", alerts.c.branch_id, alerts.c.kind, alerts.c.key, unique=True,
      sqlite_where=alerts.c.cleared_at.is_(None),
      postgresql_where=alerts.c.cleared_at.is_(None))
Index("ix_alerts_branch_raised", alerts.c.branch_id, alerts.c.raised_at)

# --- reports (migration 0005) ------------------------------------------------------

# a counter's open/pause/close events by counter (reports: was it open at a moment?);
# partial, so the ticket events of the write path never touch it
Index("ix_events_counter_at", events.c.branch_id, events.c.counter_id, events.c.at,
      sqlite_where=events.c.type.in_(("counter_opened", "counter_paused", "counter_closed")),
      postgresql_where=events.c.type.in_(("counter_opened", "counter_paused", "counter_closed")))

# one row per closed branch day, dimension and key (queue_server/reports/summary.py):
# counts, sums and the one-minute histograms of waits and service times, plus the
# durations themselves (exact percentiles up to 31 days)
report_days = Table(
    "report_days", metadata,
    Column("branch_id", ForeignKey("branches.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("dim", String(16), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("arrivals", Integer, nullable=False, server_default="0"),
    Column("called", Integer, nullable=False, server_default="0"),
    Column("served", Integer, nullable=False, server_default="0"),
    Column("no_show", Integer, nullable=False, server_default="0"),
    Column("cancelled", Integer, nullable=False, server_default="0"),
    Column("cancelled_at_close", Integer, nullable=False, server_default="0"),
    Column("transferred", Integer, nullable=False, server_default="0"),
    Column("calls", Integer, nullable=False, server_default="0"),
    Column("marked_no_show", Integer, nullable=False, server_default="0"),
    Column("transfers_out", Integer, nullable=False, server_default="0"),
    Column("open_s", Integer, nullable=False, server_default="0"),
    Column("sl_met", Integer, nullable=False, server_default="0"),
    Column("sl_total", Integer, nullable=False, server_default="0"),
    Column("printed_n", Integer, nullable=False, server_default="0"),
    Column("printed_err_s", Integer, nullable=False, server_default="0"),
    Column("printed_abs_s", Integer, nullable=False, server_default="0"),
    Column("wait_n", Integer, nullable=False, server_default="0"),
    Column("wait_sum_s", Integer, nullable=False, server_default="0"),
    Column("service_n", Integer, nullable=False, server_default="0"),
    Column("service_sum_s", Integer, nullable=False, server_default="0"),
    Column("wait_hist", JSON, nullable=True),       # [count of minute 0, minute 1, ...]
    Column("service_hist", JSON, nullable=True),
    Column("wait_values", JSON, nullable=True),     # sorted whole seconds
    Column("service_values", JSON, nullable=True),
    Column("target_min", Integer, nullable=True),   # service rows: the target used
    Column("computed_at", UTCDateTime, nullable=False),
)

# the dossier tables are declared beside their rules; this import makes ``metadata``
# the whole schema wherever it is used (migrations, the drift test)
from ..dossiers import schema as _dossier_tables  # noqa: E402,F401
from . import sites_schema as _site_tables  # noqa: E402,F401
