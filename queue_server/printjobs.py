"""The server side of kiosks and receipt printing.

- Pairing: an admin makes a short code; a kiosk types it once and gets its own
  device token (a ``kiosks`` row says which printer prints its tickets).
- Print jobs: a ticket issued at a kiosk gets a public reference (the QR code
  on it) and a print job row, committed before anything is sent. The job then
  goes through the fan-out to the room of its printer, where the printer
  agent (a Socket.IO client with a ``printer`` device token whose name is the
  printer's name) prints it and reports the outcome. An agent that (re)connects
  gets every unfinished job of its printer again; the agent's own spool drops
  duplicates. Issuing never waits on any of this.
- Printer state: agents report online / offline / paper_out / ...; it is
  stored and sent to kiosks, counters and dashboards (``printer_changed``).

Emits only through ``fanout.emit`` / ``fanout.send_to``.
"""
from __future__ import annotations

import hashlib
import os
import logging
import secrets
import threading
import time
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from . import rooms
from .api.errors import ApiError
from .db import repo
from .db import schema as s
from .engine.errors import NotFound
from .engine.model import Ticket
from .printing_config import PrintingConfig
from .queries import QueueState, local_iso, ticket_view

log = logging.getLogger("tabour.printjobs")

PRINTER_STATES = ("online", "offline", "paper_out", "paper_near_end", "cover_open", "error",
                  "unknown")
RESULTS = ("printed", "failed", "retrying")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in str(code) if ch.isdigit())


class PrintJobs:
    def __init__(self, db, auth, queries, fanout, clock, config: PrintingConfig | None = None):
        self.db = db
        self.auth = auth
        self.queries = queries
        self.fanout = fanout
        self.clock = clock
        self.config = config or PrintingConfig.load()
        self._agents: dict[tuple[int, str], set[str]] = {}  # (branch, printer) -> sids
        self._lock = threading.Lock()
        self._failed_pairings: list[float] = []

    # --- kiosks and pairing -----------------------------------------------------

    def kiosk_of(self, principal) -> dict:
        """The kiosk behind a kiosk token: its name and the printer of its tickets."""
        with self.db.read() as conn:
            row = conn.execute(select(s.kiosks).where(
                s.kiosks.c.token_id == principal.token_id)).first()
        if row is not None:
            return {"name": row.name, "printer": row.printer}
        # a kiosk token made with POST /devices prints on the branch's default printer
        return {"name": principal.name, "printer": self.config.agent_printer}

    def create_pairing_code(self, branch_id: int, kiosk_name: str,
                            printer: str | None = None) -> dict:
        now = self.clock()
        expires = now + timedelta(minutes=self.config.pairing_code_minutes)
        for _ in range(10):
            code = f"{secrets.randbelow(10**6):06d}"
            try:
                with self.db.write() as conn:
                    # an expired or used code may be drawn again: free its hash first
                    conn.execute(s.pairing_codes.delete().where(
                        s.pairing_codes.c.code_hash == _digest(code),
                        (s.pairing_codes.c.used_at.is_not(None))
                        | (s.pairing_codes.c.expires_at <= now)))
                    conn.execute(insert(s.pairing_codes).values(
                        branch_id=branch_id, code_hash=_digest(code), kiosk_name=kiosk_name,
                        printer=printer or self.config.agent_printer, created_at=now,
                        expires_at=expires))
                return {"code": f"{code[:3]}-{code[3:]}", "kiosk_name": kiosk_name,
                        "printer": printer or self.config.agent_printer,
                        "expires_at": self.fanout.local(branch_id, expires)}
            except IntegrityError:
                continue  # that code is live for another kiosk: draw again
        raise ApiError(503, "busy", "Could not make a pairing code: try again.")

    def pair(self, code: str) -> dict:
        """Trade a pairing code for a kiosk device token (once)."""
        digits = normalise_code(code)
        with self._lock:
            recent = [t for t in self._failed_pairings if time.monotonic() - t < 60]
            self._failed_pairings = recent
            if len(recent) >= 20:
                raise ApiError(429, "too_many_attempts", "Too many wrong pairing codes: wait "
                                                         "a minute, then type the code again.")
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute(select(s.pairing_codes).where(
                s.pairing_codes.c.code_hash == _digest(digits))).first()
            ok = (row is not None and row.used_at is None and row.expires_at > now)
            if ok:  # conditional: of two kiosks typing one code at once, one wins
                ok = conn.execute(update(s.pairing_codes).where(
                    s.pairing_codes.c.id == row.id, s.pairing_codes.c.used_at.is_(None))
                    .values(used_at=now)).rowcount == 1
        if not ok:
            with self._lock:
                self._failed_pairings.append(time.monotonic())
            raise ApiError(404, "invalid_pairing_code", "This pairing code is not valid (wrong, "
                           "already used or expired): ask an administrator for a new one.")
        token = self.auth.create_device(row.branch_id, "kiosk", row.kiosk_name)
        with self.db.write() as conn:
            token_id = conn.execute(select(s.tokens.c.id).where(
                s.tokens.c.token_hash == _digest(token))).scalar()
            conn.execute(insert(s.kiosks).values(
                token_id=token_id, branch_id=row.branch_id, name=row.kiosk_name,
                printer=row.printer, created_at=now))
            conn.execute(update(s.pairing_codes).where(s.pairing_codes.c.id == row.id)
                         .values(token_id=token_id))
        return {"token": token, "token_id": token_id, "name": row.kiosk_name,
                "printer": row.printer}

    def kiosks(self, branch_id: int) -> list[dict]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(s.kiosks, s.tokens.c.revoked_at)
                .join(s.tokens, s.tokens.c.id == s.kiosks.c.token_id)
                .where(s.kiosks.c.branch_id == branch_id).order_by(s.kiosks.c.token_id))
            return [{"token_id": r.token_id, "name": r.name, "printer": r.printer,
                     "revoked": r.revoked_at is not None} for r in rows]

    # --- public ticket references ----------------------------------------------------

    def public_ticket(self, ref: str) -> tuple[int, Ticket, QueueState]:
        with self.db.read() as conn:
            row = conn.execute(select(s.ticket_refs).where(
                s.ticket_refs.c.public_ref == str(ref)[:32])).first()
        if row is None:
            raise NotFound("There is no ticket at this address.")
        ticket, st = self.queries.ticket(row.branch_id, row.ticket_id)
        return row.branch_id, ticket, st

    def public_view(self, ref: str) -> dict:
        _b, ticket, st = self.public_ticket(ref)
        view = ticket_view(ticket, st)
        svc = st.service(ticket.service_id)
        # no personal data: what a ticket shows, no channel, no notes, no outcome
        return {k: view[k] for k in ("code", "service", "status", "counter", "people_ahead",
                                     "estimated_wait_minutes", "issued_at", "priority")} | {
            "service_names": svc.names if svc else {}, "branch_names": st.branch.names,
            "seq": repo_seq(self.db, st.branch.id)}

    # --- print jobs -------------------------------------------------------------------

    def document(self, ticket: Ticket, st: QueueState, qr_url: str | None,
                 language: str) -> dict:
        """What the agent renders: the fields of ``printers.TicketPrint``."""
        view = ticket_view(ticket, st)
        second = next((lang for lang in st.branch.display_languages if lang != language), None)
        svc = st.service(ticket.service_id)
        issued = local_iso(ticket.issued_at, st.branch.timezone) or ""
        return {
            "branch_name": st.branch.names, "service_name": svc.names if svc else {},
            "code": ticket.code, "people_ahead": view["people_ahead"] or 0,
            "estimated_wait_minutes": view["estimated_wait_minutes"] or 0,
            "issued_at_local": issued[:16].replace("T", " "), "qr_url": qr_url,
            "languages": [language] + ([second] if second else []),
            "header_lines": list(self.config.header_lines),
            "footer_lines": list(self.config.footer_lines),
        }

    def ticket_job(self, branch_id: int, ticket: Ticket, printer: str,
                   base_url: str) -> dict:
        """The public reference and the print job of a kiosk ticket, made once.

        Idempotent: a retried tap (same idempotency key, same ticket) finds them.
        """
        now = self.clock()
        # the document is laid out from a read, outside the write lock: issuing and
        # call-next of other counters never wait on it
        with self.db.read() as conn:
            ref = conn.execute(select(s.ticket_refs.c.public_ref).where(
                s.ticket_refs.c.ticket_id == ticket.id)).scalar()
            has_job = conn.execute(select(s.print_jobs.c.id).where(
                s.print_jobs.c.ticket_id == ticket.id)).first() is not None
            st = None if has_job else self.queries.state(branch_id, conn)
        ref = ref or secrets.token_urlsafe(12)
        doc = None if has_job else self.document(ticket, st, f"{base_url}/t/{ref}",
                                                 ticket.language)
        with self.db.write() as conn:
            stored_ref = conn.execute(select(s.ticket_refs.c.public_ref).where(
                s.ticket_refs.c.ticket_id == ticket.id)).scalar()
            if stored_ref is None:
                conn.execute(insert(s.ticket_refs).values(
                    public_ref=ref, branch_id=branch_id, ticket_id=ticket.id, created_at=now))
            elif stored_ref != ref:  # a retried tap made it meanwhile: the QR must match
                ref = stored_ref
                if doc is not None:
                    doc = self.document(ticket, st, f"{base_url}/t/{ref}", ticket.language)
            job = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.ticket_id == ticket.id)).first()
            created = job is None
            if created:
                if doc is None:  # the job we saw vanished: lay it out (rare)
                    doc = self.document(ticket, self.queries.state(branch_id, conn),
                                        f"{base_url}/t/{ref}", ticket.language)
                conn.execute(insert(s.print_jobs).values(
                    branch_id=branch_id, job_id=f"t{ticket.id}", printer=printer,
                    ticket_id=ticket.id, kind="ticket", document=doc, paper=None,
                    status="pending", created_at=now))
                self._ensure_printer(conn, branch_id, printer)
            job = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.ticket_id == ticket.id)).first()
            state = conn.execute(select(s.printers).where(
                s.printers.c.branch_id == branch_id, s.printers.c.name == job.printer)).first()
        if created or job.status == "pending":
            self.dispatch(branch_id, job)
        return {"public_ref": ref, "job": self._job_view(job),
                "printer": self._printer_view(state, job.printer)}

    def _ensure_printer(self, conn, branch_id: int, name: str) -> None:
        exists = conn.execute(select(s.printers.c.id).where(
            s.printers.c.branch_id == branch_id, s.printers.c.name == name)).first()
        if exists is None:
            conn.execute(insert(s.printers).values(
                branch_id=branch_id, name=name, state="unknown",
                detail=f"No printer agent has connected as '{name}' yet.", connected=False))

    @staticmethod
    def _message(job) -> dict:
        return {"job_id": job.job_id, "printer": job.printer, "kind": job.kind,
                "paper": job.paper, "document": job.document, "ticket_id": job.ticket_id}

    @staticmethod
    def _job_view(job) -> dict:
        return {"job_id": job.job_id, "printer": job.printer, "ticket_id": job.ticket_id,
                "status": job.status, "attempts": job.attempts, "error": job.error}

    def _printer_view(self, row, name: str) -> dict:
        if row is None:
            return {"name": name, "state": "unknown", "connected": False,
                    "detail": f"No printer agent has connected as '{name}' yet."}
        return {"name": row.name, "state": row.state, "connected": bool(row.connected),
                "detail": row.detail,
                # stored in UTC, shown in the branch's zone like every other time
                "last_seen_at": self.fanout.local(row.branch_id, row.last_seen_at)
                if row.last_seen_at else None}

    def dispatch(self, branch_id: int, job) -> None:
        """Send a committed job to its printer's agents (none connected: it waits)."""
        # emitted even when no agent is known here: with several server processes it
        # may be connected to another one; if none is, the job waits for its connect
        self.fanout.emit("print_job", self._message(job), rooms.printer(branch_id, job.printer))
        with self.db.write() as conn:
            conn.execute(update(s.print_jobs).where(s.print_jobs.c.id == job.id)
                         .values(sent_at=self.clock()))

    def jobs(self, branch_id: int, status: str | None = None, limit: int = 100) -> list[dict]:
        q = select(s.print_jobs).where(s.print_jobs.c.branch_id == branch_id)
        if status:
            q = q.where(s.print_jobs.c.status == status)
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(s.print_jobs.c.id.desc()).limit(limit))
            return [self._job_view(r) for r in rows]

    def printers(self, branch_id: int) -> list[dict]:
        with self.db.read() as conn:
            rows = list(conn.execute(select(s.printers).where(
                s.printers.c.branch_id == branch_id).order_by(s.printers.c.name)))
            pending = {}
            for r in conn.execute(select(s.print_jobs.c.printer).where(
                    s.print_jobs.c.branch_id == branch_id, s.print_jobs.c.status == "pending")):
                pending[r.printer] = pending.get(r.printer, 0) + 1
        return [self._printer_view(r, r.name) | {"pending_jobs": pending.get(r.name, 0)}
                for r in rows]

    def printer_state(self, branch_id: int, name: str) -> dict:
        with self.db.read() as conn:
            row = conn.execute(select(s.printers).where(
                s.printers.c.branch_id == branch_id, s.printers.c.name == name)).first()
        return self._printer_view(row, name)

    # --- the agent's side of the socket ---------------------------------------------

    def agent_connected(self, sid: str, principal) -> None:
        from flask_socketio import join_room
        b, name = principal.branch_id, principal.name
        join_room(rooms.printer(b, name))
        with self._lock:
            self._agents.setdefault((b, name), set()).add(sid)
        now = self.clock()
        with self.db.write() as conn:
            self._ensure_printer(conn, b, name)
            conn.execute(update(s.printers).where(
                s.printers.c.branch_id == b, s.printers.c.name == name).values(
                connected=True, last_seen_at=now, updated_at=now,
                detail="Printer agent connected; waiting for its first status."))
            jobs = list(conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.branch_id == b, s.print_jobs.c.printer == name,
                s.print_jobs.c.status == "pending").order_by(s.print_jobs.c.id)))
            if jobs:
                conn.execute(update(s.print_jobs).where(
                    s.print_jobs.c.id.in_([j.id for j in jobs])).values(sent_at=now))
        for job in jobs:  # what it missed while away, oldest first
            self.fanout.send_to(sid, "print_job", self._message(job))
        self._changed(b, name)
        log.info("printer agent '%s' connected (%d unfinished jobs re-sent)", name, len(jobs))

    def agent_disconnected(self, sid: str, principal) -> None:
        b, name = principal.branch_id, principal.name
        with self._lock:
            left = self._agents.get((b, name), set())
            left.discard(sid)
            if left:
                return
        with self.db.write() as conn:
            conn.execute(update(s.printers).where(
                s.printers.c.branch_id == b, s.printers.c.name == name).values(
                connected=False, state="offline", updated_at=self.clock(),
                detail="The printer agent is not connected."))
        self._changed(b, name)

    def report_status(self, principal, state: str, detail: str = "") -> dict:
        if state not in PRINTER_STATES:
            raise ApiError(400, "invalid_message", f"Unknown printer state {state!r}: use one of "
                                                   f"{', '.join(PRINTER_STATES)}.")
        b, name, now = principal.branch_id, principal.name, self.clock()
        with self.db.write() as conn:
            self._ensure_printer(conn, b, name)
            before = conn.execute(select(s.printers.c.state, s.printers.c.detail).where(
                s.printers.c.branch_id == b, s.printers.c.name == name)).first()
            conn.execute(update(s.printers).where(
                s.printers.c.branch_id == b, s.printers.c.name == name).values(
                state=state, detail=detail[:500], last_seen_at=now, updated_at=now,
                connected=True))
        if before is None or (before.state, before.detail) != (state, detail[:500]):
            if state not in ("online",):
                log.warning("printer '%s' is %s: %s", name, state, detail)
            self._changed(b, name)
        return {"ok": True}

    def report_result(self, principal, job_id: str, status: str, error: str | None = None,
                      attempts: int | None = None) -> dict:
        if status not in RESULTS:
            raise ApiError(400, "invalid_message", f"Unknown job result {status!r}: use one of "
                                                   f"{', '.join(RESULTS)}.")
        b, name, now = principal.branch_id, principal.name, self.clock()
        with self.db.write() as conn:
            job = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.branch_id == b, s.print_jobs.c.job_id == job_id)).first()
            if job is None or job.printer != name:
                log.warning("printer agent '%s' reported job %r, which is not one of its jobs",
                            name, job_id)
                return {"ok": False, "error": {"code": "unknown_job", "message":
                        f"There is no print job {job_id!r} for printer '{name}'."}}
            values = {"attempts": attempts if attempts is not None else job.attempts + 1,
                      "error": (error or None) and error[:500]}
            if status in ("printed", "failed"):
                values |= {"status": status, "finished_at": now}
            conn.execute(update(s.print_jobs).where(
                s.print_jobs.c.id == job.id, s.print_jobs.c.status == "pending").values(**values))
            job = conn.execute(select(s.print_jobs).where(s.print_jobs.c.id == job.id)).first()
        payload = self._job_view(job)
        for audience in ("kiosks", "dashboards"):
            self.fanout.emit("print_job_changed", payload, rooms.audience(b, audience))
        if job.status == "failed":
            log.error("print job %s on '%s' failed: %s", job_id, name, job.error)
        return {"ok": True}

    def _changed(self, branch_id: int, name: str) -> None:
        payload = self.printer_state(branch_id, name)
        for audience in ("kiosks", "counters", "dashboards"):
            self.fanout.emit("printer_changed", payload, rooms.audience(branch_id, audience))

    # --- the visitor's phone --------------------------------------------------------

    def public_connect(self, sid: str, ref) -> None:
        """A phone follows one ticket by its public reference, without a token."""
        from flask_socketio import ConnectionRefusedError, join_room
        try:
            branch_id, ticket, _st = self.public_ticket(str(ref or ""))
        except NotFound:
            raise ConnectionRefusedError("There is no ticket at this address.")
        join_room(rooms.ticket(branch_id, ticket.id))
        join_room(rooms.audience(branch_id, "phones"))  # queue summaries: the position moves
        self.fanout.send_to(sid, "snapshot", {"view": "ticket",
                                              "ticket": self.public_view(str(ref))})


def repo_seq(db, branch_id: int) -> int:
    with db.read() as conn:
        return repo.current_seq(conn, branch_id)


# --- socket events of printer agents ---------------------------------------------------

def _socket_models():
    from pydantic import BaseModel, ConfigDict, Field

    class PrintResult(BaseModel):
        model_config = ConfigDict(extra="forbid")
        job_id: str = Field(min_length=1, max_length=64)
        status: str
        error: str | None = Field(None, max_length=2000)
        attempts: int | None = Field(None, ge=0)

    class PrinterStatusMsg(BaseModel):
        model_config = ConfigDict(extra="forbid")
        state: str
        detail: str = Field("", max_length=2000)

    return PrintResult, PrinterStatusMsg


def _register_socket_events(self, socketio, sessions) -> None:
    """``print_result`` and ``printer_status`` from printer agents (acknowledged)."""
    from flask import request
    from pydantic import ValidationError

    from .auth import AuthError
    from .sockets import _error

    PrintResult, PrinterStatusMsg = _socket_models()

    def agent():
        conn = sessions.get(request.sid)
        if conn is None or conn.view != "printer":
            raise AuthError("Only a printer agent connection may report print jobs.", 403)
        principal = self.auth.authenticate(conn.token)  # a revoked agent stops at once
        if not principal.can("printer:jobs"):
            raise AuthError(f"Your role ({principal.role}) may not do this.", 403)
        return principal

    @socketio.on("print_result")
    def on_print_result(data=None):
        try:
            msg = PrintResult.model_validate(data if isinstance(data, dict) else {})
            return self.report_result(agent(), msg.job_id, msg.status, msg.error, msg.attempts)
        except (ValidationError, AuthError) as exc:
            return _error(exc)
        except ApiError as exc:
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}

    @socketio.on("printer_status")
    def on_printer_status(data=None):
        try:
            msg = PrinterStatusMsg.model_validate(data if isinstance(data, dict) else {})
            return self.report_status(agent(), msg.state, msg.detail)
        except (ValidationError, AuthError) as exc:
            return _error(exc)
        except ApiError as exc:
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}


PrintJobs.register_socket_events = _register_socket_events


def embedded_agent_token(printjobs: PrintJobs, branch_id: int, var_dir) -> "Path":
    """The device token of the agent run.py starts, made once and kept under var/."""
    from pathlib import Path

    from .auth import AuthError
    path = Path(var_dir) / "printer-agent.token"
    name = printjobs.config.agent_printer
    if path.exists():
        try:
            p = printjobs.auth.authenticate(path.read_text().strip())
            if p.role == "printer" and p.name == name and p.branch_id == branch_id:
                return path
        except AuthError:
            pass  # revoked, or another database: make a new one
    path.parent.mkdir(parents=True, exist_ok=True)
    token = printjobs.auth.create_device(branch_id, "printer", name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(token)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
