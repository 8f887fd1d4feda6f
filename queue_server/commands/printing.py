"""Print jobs and printers: one job writer for tickets and deposit receipts, the
results and states printer agents report, and their presence.

A print job is an outbox row: it is inserted in the transaction of what it
prints (the ticket, the deposit) with a ``print_requested`` event, and the
fan-out sends it to the printer's agents after the commit. An agent that
(re)connects gets every unfinished job of its printer again. Job ids are random
(128 bits): unique across databases, servers, branches and sites.
"""
from __future__ import annotations

import secrets
import uuid

from sqlalchemy import insert, select, update

from ..db import schema as s
from ..engine.errors import DomainError
from ..engine.messages import N_, register
from ..engine.model import SYSTEM, Event
from ..readmodel import documents
from ..readmodel.registry import printer_dict

PRINTER_STATES = ("online", "offline", "paper_out", "paper_near_end", "cover_open", "error",
                  "unknown")
RESULTS = ("printed", "failed", "retrying")

register({
    "unknown_printer_state": N_("Unknown printer state '%(state)s': use one of %(choices)s."),
    "unknown_job_result": N_("Unknown job result '%(status)s': use one of %(choices)s."),
    "unknown_job": N_("There is no print job '%(job)s' for printer '%(printer)s'."),
})


class PrintingError(DomainError):
    code = "invalid_message"


def new_job_id() -> str:
    return uuid.uuid4().hex


def job_message(row) -> dict:
    """What a printer agent receives (and re-receives after a reconnect)."""
    return {"job_id": row["job_id"], "printer": row["printer"], "kind": row["kind"],
            "paper": row["paper"], "document": row["document"], "ticket_id": row["ticket_id"]}


def job_view(row) -> dict:
    return {"job_id": row["job_id"], "printer": row["printer"], "ticket_id": row["ticket_id"],
            "status": row["status"], "attempts": row["attempts"], "error": row["error"]}


class PrintingCommands:
    writer: object
    printing: object  # PrintingConfig

    # --- the one job writer ---------------------------------------------------------------

    def add_job(self, uow, p, kind: str, printer: str, document: dict,
                ticket_id: int | None = None, dossier_id: int | None = None) -> dict:
        """Insert a print job in the caller's transaction, with its event."""
        row = {"branch_id": uow.branch_id, "job_id": new_job_id(), "printer": printer,
               "ticket_id": ticket_id, "kind": kind, "document": document, "paper": None,
               "status": "pending", "attempts": 0, "error": None, "created_at": uow.now}
        uow.conn.execute(insert(s.print_jobs).values(**row))
        if printer not in p.printers and not any(x["name"] == printer for x in uow.printers):
            self._add_printer(uow, printer)
        uow.add(Event("print_requested", uow.now, SYSTEM, ticket_id=ticket_id,
                      data={"job_id": row["job_id"], "printer": printer, "kind": kind,
                            **({"dossier_id": dossier_id} if dossier_id else {})}))
        uow.jobs.append(job_message(row))
        return job_view(row)

    def _add_printer(self, uow, name: str) -> None:
        exists = uow.conn.execute(select(s.printers.c.id).where(
            s.printers.c.branch_id == uow.branch_id, s.printers.c.name == name)).first()
        if exists is None:
            uow.conn.execute(insert(s.printers).values(
                branch_id=uow.branch_id, name=name, state="unknown",
                detail=f"No printer agent has connected as '{name}' yet.", connected=False))
            uow.printers.append({"name": name, "state": "unknown", "connected": False,
                                 "detail": f"No printer agent has connected as '{name}' yet.",
                                 "last_seen_at": None})

    def print_ticket(self, uow, p, ticket, ahead: int, minutes: int, target) -> dict:
        """The ticket's public reference (its QR) and its print job."""
        ref = secrets.token_urlsafe(12)
        uow.conn.execute(insert(s.ticket_refs).values(
            public_ref=ref, branch_id=uow.branch_id, ticket_id=ticket.id, created_at=uow.now))
        doc = documents.ticket(p, ticket, ahead, minutes, f"{target.base_url}/t/{ref}",
                               self.printing)
        return {"public_ref": ref, "job": self.add_job(uow, p, "ticket", target.printer, doc,
                                                       ticket_id=ticket.id)}

    def ticket_printing(self, branch_id: int, ticket, target) -> dict | None:
        """The reference and job of a ticket issued earlier (a retried tap)."""
        with self.writer.db.read() as conn:
            ref = conn.execute(select(s.ticket_refs.c.public_ref).where(
                s.ticket_refs.c.ticket_id == ticket.id)).scalar()
            job = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.ticket_id == ticket.id)).mappings().first()
        if ref is None:
            return None
        return {"public_ref": ref, "job": job_view(job) if job else None}

    # --- what agents report ------------------------------------------------------------------

    def report_result(self, branch_id: int, printer: str, job_id: str, status: str,
                      error: str | None = None, attempts: int | None = None) -> dict:
        if status not in RESULTS:
            raise PrintingError("unknown_job_result", status=status, choices=RESULTS)

        def step(uow, p):
            job = uow.conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.branch_id == branch_id,
                s.print_jobs.c.job_id == job_id)).mappings().first()
            if job is None or job["printer"] != printer:
                raise PrintingError("unknown_job", job=job_id, printer=printer)
            values = {"attempts": attempts if attempts is not None else job["attempts"] + 1,
                      "error": (error or None) and error[:500]}
            if status in ("printed", "failed"):
                values |= {"status": status, "finished_at": uow.now}
            changed = uow.conn.execute(update(s.print_jobs).where(
                s.print_jobs.c.id == job["id"], s.print_jobs.c.status == "pending")
                .values(**values)).rowcount
            after = dict(job) | (values if changed else {})
            uow.add(Event("print_job_updated", uow.now, SYSTEM, ticket_id=job["ticket_id"],
                          data={"job_id": job_id, "printer": printer, "status": after["status"],
                                "attempts": after["attempts"], "error": after["error"],
                                "kind": job["kind"]}))
            return job_view(after)
        return self.writer.run(branch_id, step)[0]

    def report_status(self, branch_id: int, printer: str, state: str, detail: str = "") -> dict:
        if state not in PRINTER_STATES:
            raise PrintingError("unknown_printer_state", state=state, choices=PRINTER_STATES)
        return self._printer_update(branch_id, printer, state=state, detail=detail[:500],
                                    connected=True)

    def agent_present(self, branch_id: int, printer: str, session: str, present: bool) -> dict:
        """An agent connected (``present``) or left. A leave only counts if no newer
        connection of that printer's agent came since (several server processes)."""
        if present:
            return self._printer_update(branch_id, printer, connected=True, session=session,
                                        detail="Printer agent connected; waiting for its "
                                               "first status.")
        return self._printer_update(branch_id, printer, connected=False, state="offline",
                                    detail="The printer agent is not connected.",
                                    only_session=session)

    def _printer_update(self, branch_id: int, name: str, only_session: str | None = None,
                        session: str | None = None, **values) -> dict:
        def step(uow, p):
            self._add_printer(uow, name)
            where = [s.printers.c.branch_id == branch_id, s.printers.c.name == name]
            if only_session is not None:
                where.append(s.printers.c.agent_session == only_session)
            before = uow.conn.execute(select(s.printers).where(*where)).first()
            if before is None:
                return None
            vals = {**values, "last_seen_at": uow.now, "updated_at": uow.now}
            if session is not None:
                vals["agent_session"] = session
            uow.conn.execute(update(s.printers).where(*where).values(**vals))
            after = uow.conn.execute(select(s.printers).where(
                s.printers.c.branch_id == branch_id, s.printers.c.name == name)).first()
            visible = ("state", "detail", "connected")
            if any(getattr(before, k) != getattr(after, k) for k in visible) or session:
                uow.printers.append(printer_dict(after))
                uow.add(Event("printer_changed", uow.now, SYSTEM,
                              data={"printer": name, "state": after.state,
                                    "connected": bool(after.connected)}))
            return printer_dict(after)
        return self.writer.run(branch_id, step)[0]

    def pending_jobs(self, branch_id: int, printer: str) -> list[dict]:
        """Every unfinished job of a printer, oldest first (an agent that connects)."""
        with self.writer.db.read() as conn:
            rows = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.branch_id == branch_id, s.print_jobs.c.printer == printer,
                s.print_jobs.c.status == "pending").order_by(s.print_jobs.c.id)).mappings()
            return [job_message(r) for r in rows]
