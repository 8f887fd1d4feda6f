"""Purging personal data past its retention period (config/retention.toml, laws 09-08
and 18-07): one command per branch, one transaction, one audited event
(``personal_data_purged``) that says what kind of data, how many rows and the cut-off
dates, never the data itself. Files (receipts in var/receipts/, the printer agent's
spool) are removed after the commit, and counted in the event of the branch that
purges them.

What "purged" means, per kind:

- dossier identity: the insured number and its masked form are emptied, the national-ID
  hash and masked form removed, the masked number taken out of the dossier's events;
  the dossier itself (type, status, dates) stays for the reports, anonymous, and is
  marked ``purged_at``;
- staff notes: a dossier's internal note and a ticket's agent note are removed;
- receipts: a deposit receipt's print document is replaced by ``{"purged": true}``
  (ticket receipts carry nothing personal), receipt files and finished spool rows older
  than the period are deleted.
"""
from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, func, or_, select, update

from ..db import schema as s
from ..dossiers.schema import dossiers as D
from ..engine.model import Event

log = logging.getLogger("tabour.retention")

PURGED_DOCUMENT = {"purged": True}
FINISHED_JOBS = ("printed", "printed_unconfirmed", "failed", "refused", "not_taken")


class RetentionCommands:
    writer: object

    def purge_personal_data(self, branch_id: int, retention, actor,
                            var_dir: Path | None = None) -> dict:
        """Anonymise what is past ``retention`` (a ``retention.Retention``) in this branch;
        with ``var_dir``, also the receipt files and spool rows there. Returns the
        counts the event records."""
        now = self.writer.clock()
        files = _old_files(var_dir, now, retention.receipts_days) if var_dir else []
        spool = Path(var_dir) / "agent" / "spool.sqlite" if var_dir else None
        spool_rows = _spool(spool, now, retention.receipts_days, delete=False)

        def step(uow, p):
            now = uow.now
            cut_identity = now - timedelta(days=retention.dossier_identity_days)
            cut_notes = now - timedelta(days=retention.staff_notes_days)
            cut_receipts = now - timedelta(days=retention.receipts_days)
            c = uow.conn
            last_change = func.coalesce(D.c.updated_at, D.c.deposited_at)

            ids = [r[0] for r in c.execute(select(D.c.id).where(
                D.c.branch_id == branch_id, D.c.purged_at.is_(None),
                last_change < cut_identity))]
            if ids:
                c.execute(update(D).where(D.c.id.in_(ids)).values(
                    insured_number="", insured_masked="", national_id_hash=None,
                    national_id_masked=None, internal_note=None, purged_at=now))
            scrubbed = _scrub_events(c, branch_id, set(ids), cut_identity)

            notes = c.execute(update(D).where(
                D.c.branch_id == branch_id, D.c.internal_note.is_not(None),
                last_change < cut_notes).values(internal_note=None)).rowcount
            T = s.tickets.c
            ticket_notes = c.execute(update(s.tickets).where(
                T.branch_id == branch_id, T.note.is_not(None),
                or_(T.finished_at < cut_notes,
                    and_(T.finished_at.is_(None), T.issued_at < cut_notes)))
                .values(note=None)).rowcount

            J = s.print_jobs.c
            old_jobs = [(r.id, r.document) for r in c.execute(select(J.id, J.document).where(
                J.branch_id == branch_id, J.kind == "deposit", J.created_at < cut_receipts,
                J.status.in_(FINISHED_JOBS)))]
            jobs = [i for i, doc in old_jobs if doc != PURGED_DOCUMENT]
            if jobs:
                c.execute(update(s.print_jobs).where(J.id.in_(jobs))
                          .values(document=PURGED_DOCUMENT))
            counts = {"dossier_identities": len(ids), "dossier_events": scrubbed,
                      "staff_notes": notes + ticket_notes, "receipt_documents": len(jobs),
                      "receipt_files": len(files), "spool_rows": spool_rows}
            # the event says what kind and how much, before which dates: never the data
            uow.add(Event("personal_data_purged", now, actor, data={
                "counts": counts, "retention_days": retention.as_dict(),
                "before": {"dossier_identity": cut_identity.isoformat(),
                           "staff_notes": cut_notes.isoformat(),
                           "receipts": cut_receipts.isoformat()}}))
            return counts
        counts = self.writer.run(branch_id, step)[0]
        for path in files:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        _spool(spool, now, retention.receipts_days, delete=True)
        log.info("personal data purged in branch %s: %s", branch_id, counts)
        return counts


def _scrub_events(conn, branch_id: int, dossier_ids: set, before) -> int:
    """Take the masked insured number out of the purged dossiers' events."""
    if not dossier_ids:
        return 0
    E = s.events.c
    n = 0
    for row in conn.execute(select(E.id, E.data).where(
            E.branch_id == branch_id, E.type == "dossier_deposited", E.at < before)).all():
        data = dict(row.data or {})
        if data.get("dossier_id") in dossier_ids and data.get("insured"):
            data["insured"] = None
            conn.execute(update(s.events).where(E.id == row.id).values(data=data))
            n += 1
    return n


def _old_files(var_dir: Path, now, days: int) -> list[Path]:
    folder = Path(var_dir) / "receipts"
    if not folder.is_dir():
        return []
    cut = now.timestamp() - days * 86400
    return [p for p in folder.iterdir() if p.is_file() and p.stat().st_mtime < cut]


def _spool(path: Path | None, now, days: int, delete: bool) -> int:
    """Finished jobs (their documents) older than the period in the agent's spool:
    counted, or deleted."""
    if path is None or not path.is_file():
        return 0
    cut = now.timestamp() - days * 86400
    where = "FROM print_jobs WHERE status != 'pending' AND COALESCE(finished_at, created_at) < ?"
    conn = sqlite3.connect(path, timeout=30)
    try:
        with conn:
            if delete:
                return conn.execute("DELETE " + where, (cut,)).rowcount
            return conn.execute("SELECT COUNT(*) " + where, (cut,)).fetchone()[0]
    finally:
        conn.close()
