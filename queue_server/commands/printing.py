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

from datetime import timedelta

from sqlalchemy import insert, select, update

from ..db import schema as s
from ..engine.errors import DomainError, NotFound
from ..engine.messages import N_, register
from ..engine.model import SYSTEM, Event
from ..readmodel import documents
from ..readmodel.registry import printer_dict
from .alerts import clear_in, raise_in

PRINTER_STATES = ("online", "offline", "paper_out", "paper_near_end", "cover_open", "error",
                  "unknown")
# what an agent reports about a job: it has it (queued), it waits (retrying, waiting for
# paper), it is done (printed: the printer's status after it said nothing wrong;
# printed_unconfirmed: the transport cannot tell), or it gave up (failed, refused)
RESULTS = ("queued", "retrying", "waiting_paper", "printed", "printed_unconfirmed", "failed",
           "refused")
FINAL = ("printed", "printed_unconfirmed", "failed", "refused")
# a job still to print: re-sent to an agent that (re)connects
OPEN = ("pending", "queued", "retrying", "waiting_paper")
# a printer in one of these states needs a person (the managers' alert list says so)
NEEDS_ATTENTION = ("offline", "paper_out", "cover_open", "error")


def _paper(job) -> str:
    """What the visitor holds (or does not): a ticket's code, a receipt's tracking number."""
    doc = job["document"] or {}
    return str(doc.get("code") or doc.get("tracking_number") or job["job_id"])


def _printer_alert(uow, p, row) -> None:
    """Paper out, cover open, off or its agent gone: an alert until it is back online."""
    state = row.state if row.connected else "offline"
    if state in NEEDS_ATTENTION:
        raise_in(uow, p, "printer", row.name,
                 {"printer": row.name, "detail": row.detail or state, "state": state})
    elif state == "online":
        clear_in(uow, p, "printer", row.name, {"state": state})


def _job_alert(uow, p, job, status: str) -> None:
    """A job that gave up or that no agent took is an alert (the visitor has no paper);
    printed at last, the alert clears itself."""
    if status in ("failed", "refused", "not_taken"):
        minutes = max(1, round((uow.now - job["created_at"]).total_seconds() / 60))
        raise_in(uow, p, "print_job", job["job_id"],
                 {"ticket": _paper(job), "printer": job["printer"], "minutes": minutes})
    elif status in ("printed", "printed_unconfirmed"):
        clear_in(uow, p, "print_job", job["job_id"], {"status": status})

register({
    "job_not_taken": N_("No printer agent took this job within %(seconds)s seconds: the "
                        "printer's computer may be off or disconnected."),
    "agent_gone": N_("The printer agent has not been heard from for %(seconds)s seconds."),
    "nothing_to_reprint": N_("There is nothing to reprint for %(what)s: it was never printed "
                             "here."),
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
            "kind": row["kind"], "status": row["status"], "attempts": row["attempts"],
            "error": row["error"]}


class PrintingCommands:
    writer: object
    printing: object  # PrintingConfig

    # --- the one job writer ---------------------------------------------------------------

    def add_job(self, uow, p, kind: str, printer: str, document: dict,
                ticket_id: int | None = None, dossier_id: int | None = None) -> dict:
        """Insert a print job in the caller's transaction, with its event."""
        row = {"branch_id": uow.branch_id, "job_id": new_job_id(), "printer": printer,
               "ticket_id": ticket_id, "dossier_id": dossier_id, "kind": kind,
               "document": document, "paper": None, "status": "pending", "attempts": 0,
               "error": None, "created_at": uow.now}
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
        url = f"{target.base_url}/t/{ref}?lang={ticket.language}"  # the phone page's language
        doc = documents.ticket(p, ticket, ahead, minutes, url, self.printing)
        return {"public_ref": ref, "job": self.add_job(uow, p, "ticket", target.printer, doc,
                                                       ticket_id=ticket.id)}

    def ticket_printing(self, branch_id: int, ticket, target) -> dict | None:
        """The reference and job of a ticket issued earlier (a retried tap)."""
        with self.writer.db.read() as conn:
            ref = conn.execute(select(s.ticket_refs.c.public_ref).where(
                s.ticket_refs.c.ticket_id == ticket.id)).scalar()
            job = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.ticket_id == ticket.id).order_by(s.print_jobs.c.id)).mappings().first()
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
            values = {"attempts": attempts if attempts is not None else job["attempts"],
                      "error": (error or None) and error[:500], "status": status,
                      "taken_at": job["taken_at"] or uow.now}
            if status in FINAL:
                values["finished_at"] = uow.now
            # a finished job stays finished (a late or repeated report changes nothing)
            changed = uow.conn.execute(update(s.print_jobs).where(
                s.print_jobs.c.id == job["id"], s.print_jobs.c.status.not_in(FINAL))
                .values(**values)).rowcount
            if changed and job["status"] == status and status != "queued":
                changed = 0 if job["attempts"] == values["attempts"] else changed
            after = dict(job) | (values if changed else {})
            if changed:
                uow.add(Event("print_job_updated", uow.now, SYSTEM, ticket_id=job["ticket_id"],
                              data={"job_id": job_id, "printer": printer,
                                    "status": after["status"], "attempts": after["attempts"],
                                    "error": after["error"], "kind": job["kind"]}))
                _job_alert(uow, p, job, after["status"])
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
                _printer_alert(uow, p, after)
            return printer_dict(after)
        return self.writer.run(branch_id, step)[0]

    def pending_jobs(self, branch_id: int, printer: str) -> list[dict]:
        """Every unfinished job of a printer, oldest first (an agent that connects)."""
        with self.writer.db.read() as conn:
            rows = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.branch_id == branch_id, s.print_jobs.c.printer == printer,
                s.print_jobs.c.status.in_(OPEN)).order_by(s.print_jobs.c.id)).mappings()
            return [job_message(r) for r in rows]

    # --- nothing silent: jobs nobody took, agents nobody hears --------------------------

    def branches_to_sweep(self) -> list[int]:
        """The branches ``sweep_printing`` has something to do in, in one read: the
        sweep runs every few seconds and most branches have nothing due (a write
        transaction per branch per round was 150 transactions every 5 s nationally,
        ~8 % of the housekeeping process's time). Each sweep checks again in its own
        transaction."""
        cfg = self.printing
        J, P = s.print_jobs, s.printers
        now = self.writer.clock()
        late = now - timedelta(seconds=cfg.take_timeout_s)
        gone = now - timedelta(seconds=cfg.presence_timeout_s)
        with self.writer.db.read() as conn:
            jobs = conn.execute(select(J.c.branch_id).distinct().where(
                J.c.status == "pending", J.c.created_at < late)).scalars()
            agents = conn.execute(select(P.c.branch_id).distinct().where(
                P.c.connected.is_(True), P.c.last_seen_at < gone)).scalars()
            return sorted(set(jobs) | set(agents))

    def sweep_printing(self, branch_id: int) -> int:
        """Jobs no agent took within ``take_timeout_s`` become ``not_taken`` (the kiosk and
        the staff are told); agents not heard from for ``presence_timeout_s`` are gone
        (their server process may have died without saying so). Returns how many."""
        cfg = self.printing

        def step(uow, p):
            J, P = s.print_jobs, s.printers
            late = uow.now - timedelta(seconds=cfg.take_timeout_s)
            stale = list(uow.conn.execute(select(J).where(
                J.c.branch_id == branch_id, J.c.status == "pending",
                J.c.created_at < late)).mappings())
            for job in stale:
                err = DomainError("job_not_taken", seconds=int(cfg.take_timeout_s)).message
                uow.conn.execute(update(J).where(J.c.id == job["id"], J.c.status == "pending")
                                 .values(status="not_taken", error=err))
                uow.add(Event("print_job_updated", uow.now, SYSTEM, ticket_id=job["ticket_id"],
                              data={"job_id": job["job_id"], "printer": job["printer"],
                                    "status": "not_taken", "attempts": job["attempts"],
                                    "error": err, "kind": job["kind"],
                                    "code": "job_not_taken"}))
                _job_alert(uow, p, job, "not_taken")
            gone = uow.now - timedelta(seconds=cfg.presence_timeout_s)
            silent = list(uow.conn.execute(select(P).where(
                P.c.branch_id == branch_id, P.c.connected.is_(True), P.c.last_seen_at < gone)))
            for row in silent:
                detail = DomainError("agent_gone", seconds=int(cfg.presence_timeout_s)).message
                uow.conn.execute(update(P).where(P.c.id == row.id).values(
                    connected=False, state="offline", detail=detail, updated_at=uow.now))
                after = printer_dict(uow.conn.execute(select(P).where(P.c.id == row.id)).first())
                uow.printers.append(after)
                uow.add(Event("printer_changed", uow.now, SYSTEM,
                              data={"printer": row.name, "state": "offline", "connected": False}))
                _printer_alert(uow, p, uow.conn.execute(select(P).where(P.c.id == row.id)).first())
            return len(stale) + len(silent)
        return self.writer.run(branch_id, step)[0]

    # --- reprint at reception -------------------------------------------------------------

    def reprint(self, branch_id: int, actor, ticket_id: int | None = None,
                dossier_id: int | None = None, printer: str | None = None) -> dict:
        """A copy of a ticket's or a deposit receipt's last print job, marked as a copy,
        on ``printer`` (default: where the original went). Audited (an event)."""
        def step(uow, p):
            J = s.print_jobs
            q = select(J).where(J.c.branch_id == branch_id)
            if ticket_id is not None:
                q = q.where(J.c.ticket_id == ticket_id, J.c.kind == "ticket")
                what = f"ticket {ticket_id}"
            else:
                q = q.where(J.c.dossier_id == dossier_id, J.c.kind == "deposit")
                what = f"dossier {dossier_id}"
            original = uow.conn.execute(q.order_by(J.c.id.desc()).limit(1)).mappings().first()
            if original is None or original["document"].get("purged"):
                # purged past its retention period (commands/retention.py): no copy to make
                raise NotFound("nothing_to_reprint", what=what)
            doc = dict(original["document"]) | {"copy": True}
            job = self.add_job(uow, p, original["kind"], printer or original["printer"], doc,
                               ticket_id=original["ticket_id"], dossier_id=dossier_id)
            uow.add(Event("print_reprinted", uow.now, actor, ticket_id=original["ticket_id"],
                          data={"original_job": original["job_id"], "job_id": job["job_id"],
                                "printer": job["printer"], "kind": original["kind"],
                                **({"dossier_id": dossier_id} if dossier_id else {})}))
            return job
        return self.writer.run(branch_id, step)[0]
