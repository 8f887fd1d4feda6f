"""Dossier service functions: load, call the pure lifecycle, commit the dossier
and its events in one transaction (events get the branch sequence through
``repo.append_events``), then hand the events to the fan-out.

Also here: the public status view (no personal data beyond a masked insured
number), the staff view (audited), manager counts, the deposit receipt's print
job (the kiosk ticket path: a ``print_jobs`` row of kind ``deposit``, committed
first, dispatched through the fan-out) and the slow-down of wrong guesses.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from .. import rooms
from ..db import repo
from ..db import schema as s
from ..engine import numbering
from ..engine.errors import InvalidTransition, NotAllowed, NotFound
from ..engine.model import Actor
from ..queries import local_iso
from . import deadlines, ids, lifecycle, store, tracking
from .lifecycle import Dossier, DossierStatus
from .types import DossierConfig, pick

log = logging.getLogger("tabour.dossiers")

DOSSIER_EVENTS = ("dossier_deposited",) + tuple(lifecycle.EVENT_OF.values())
MAX_TRACKING_DRAWS = 10


@dataclass(frozen=True)
class Deposited:
    dossier: Dossier
    created: bool  # False: the idempotency key matched an earlier deposit


class GuessLimiter:
    """Wrong tracking numbers per client (IP): after ``limit`` in ``window_s``
    seconds, lookups from that client are refused until the window passes."""

    def __init__(self, limit: int = 10, window_s: float = 600.0, now=time.monotonic):
        self.limit, self.window_s, self.now = limit, window_s, now
        self._wrong: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str) -> list[float]:
        t = self.now()
        left = [x for x in self._wrong.get(client, ()) if t - x < self.window_s]
        if left:
            self._wrong[client] = left
        else:
            self._wrong.pop(client, None)  # no memory kept for clients that went quiet
        return left

    def check(self, client: str) -> None:
        with self._lock:
            if len(self._recent(client)) >= self.limit:
                raise TooManyGuesses("Too many wrong tracking numbers from this device: wait a "
                                     "few minutes, then type the number from your receipt again.")

    def wrong(self, client: str) -> None:
        with self._lock:
            self._wrong[client] = self._recent(client) + [self.now()]


class TooManyGuesses(NotAllowed):
    code = "too_many_attempts"


def id_key(var_dir: Path) -> bytes:
    """The key of the national-ID hash: TABOUR_ID_KEY (the same on every server
    process of a deployment), else a random key kept in var/ (one branch PC)."""
    env = os.environ.get("TABOUR_ID_KEY")
    if env:
        return env.encode()
    path = Path(var_dir) / "id_hash.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class Dossiers:
    def __init__(self, db, clock: Callable, publish: Callable, config: DossierConfig,
                 key: bytes, printjobs=None, new_tracking: Callable[[], str] = tracking.new):
        self.db = db
        self.clock = clock
        self.publish = publish
        self.config = config
        self.key = key
        self.printjobs = printjobs
        self.new_tracking = new_tracking
        self.limiter = GuessLimiter()
        self.insured = ids.insured_scheme(config.insured_scheme, config.insured_check)
        self.national = ids.national_scheme(config.national_scheme)

    # --- checks the kiosk runs before the visitor confirms ----------------------------

    def check(self, branch_id: int, type_code: str, insured_number: str, national_id: str | None,
              declared: list[str], event_date: date | None) -> dict:
        """Validate what the visitor typed; say what is missing and which deadline is past.
        Records nothing."""
        t = self.config.type(type_code)
        insured = ids.validate_insured(insured_number, self.insured)
        if national_id:
            ids.validate_national(national_id, self.national)
        unknown = [c for c in declared if t.document(c) is None]
        if unknown:
            raise NotAllowed(f"Unknown document(s) {', '.join(unknown)} for {t.name('en')}: "
                             f"use one of {', '.join(x.code for x in t.documents)}.",
                             documents=unknown)
        with self.db.read() as conn:
            branch = repo.load_branch(conn, branch_id)
        today = date.fromisoformat(numbering.branch_day(self.clock(), branch.timezone, 0))
        checks = deadlines.check(t.deadlines, event_date, today)
        return {"type": t.code, "insured": ids.mask(insured),
                "missing": [self._doc(t, c) for c in t.missing(declared)],
                "deadlines": [c.view() for c in checks],
                "late": any(c.past for c in checks)}

    @staticmethod
    def _doc(t, code: str) -> dict:
        doc = t.document(code)
        return {"code": code, "names": doc.names if doc else {"en": code}}

    # --- deposit -----------------------------------------------------------------------

    def deposit(self, branch_id: int, type_code: str, insured_number: str,
                national_id: str | None, declared: list[str], event_date: date | None,
                language: str, channel: str, actor: Actor, idempotency_key: str | None = None,
                ticket_id: int | None = None) -> Deposited:
        if idempotency_key:
            with self.db.read() as conn:
                earlier = store.by_key(conn, branch_id, idempotency_key)
            if earlier is not None:
                return Deposited(earlier, False)
        checked = self.check(branch_id, type_code, insured_number, national_id, declared,
                             event_date)
        t = self.config.type(type_code)
        insured = ids.validate_insured(insured_number, self.insured)
        nat = ids.validate_national(national_id, self.national) if national_id else None
        declared = list(dict.fromkeys(declared))
        for _ in range(MAX_TRACKING_DRAWS):
            now = self.clock()
            try:
                with self.db.write() as conn:
                    branch = repo.load_branch(conn, branch_id)
                    if branch is None:
                        raise NotFound(f"Branch {branch_id} does not exist.")
                    if language not in branch.languages:
                        raise NotAllowed(f"Language '{language}' is not offered in this branch.")
                    if ticket_id is not None and repo.get_ticket(conn, branch_id, ticket_id) is None:
                        raise NotFound(f"There is no ticket {ticket_id} in this branch.",
                                       ticket=ticket_id)
                    day = numbering.branch_day(now, branch.timezone, branch.policy.rollover_hour)
                    x = Dossier(
                        id=None, tracking=self.new_tracking(), type_code=t.code,
                        status=DossierStatus.DEPOSITED, insured_number=insured,
                        insured_masked=ids.mask(insured),
                        national_id_hash=ids.digest(nat, self.key) if nat else None,
                        national_id_masked=ids.mask(nat) if nat else None,
                        language=language, channel=channel, day=day, deposited_at=now,
                        declared=tuple(declared),
                        missing=tuple(m["code"] for m in checked["missing"]),
                        event_date=event_date, deadlines=tuple(checked["deadlines"]),
                        box=t.box, ticket_id=ticket_id, updated_at=now)
                    change = lifecycle.deposit(x, now, actor)
                    did = store.insert_dossier(conn, branch_id, x, idempotency_key)
                    x = replace(x, id=did)
                    events = [replace(e, data={**e.data, "dossier_id": did}) for e in change.events]
                    stored = repo.append_events(conn, branch_id, events)
            except IntegrityError:
                if idempotency_key:  # the same tap arrived twice at once: the first won
                    with self.db.read() as conn:
                        earlier = store.by_key(conn, branch_id, idempotency_key)
                    if earlier is not None:
                        return Deposited(earlier, False)
                log.info("tracking number collision: drawing another")
                continue
            log.info("dossier %s deposited (%s, insured %s, %d missing)", x.tracking, x.type_code,
                     x.insured_masked, len(x.missing))
            self.publish(branch_id, stored)
            return Deposited(x, True)
        raise InvalidTransition("Could not give this dossier a tracking number: try again.")

    # --- staff -------------------------------------------------------------------------

    def _find(self, conn, branch_id: int | None, value: str) -> tuple[int, Dossier]:
        number = tracking.parse(value)
        found = store.by_tracking(conn, number) if number else None
        if found is None or (branch_id is not None and found[0] != branch_id):
            raise NotFound(f"There is no dossier with the tracking number "
                           f"'{str(value)[:40]}': check it on the receipt.")
        return found

    def transition(self, branch_id: int, value: str, action: str, actor: Actor,
                   missing: list[str] | None = None, reason: str | None = None) -> Dossier:
        now = self.clock()
        with self.db.write() as conn:
            _b, before = self._find(conn, branch_id, value)
            t = self.config.types.get(before.type_code)
            known = {d.code for d in t.documents} if t else None
            change = lifecycle.transition(before, action, now, actor, missing, reason, known)
            if not store.save(conn, before, change.dossier):
                raise InvalidTransition(f"Dossier {before.tracking} was changed by someone else "
                                        "at the same moment: refresh and try again.")
            stored = repo.append_events(conn, branch_id, change.events)
        self.publish(branch_id, stored)
        return change.dossier

    def open(self, branch_id: int, value: str, actor: Actor) -> dict:
        """The full dossier for staff; every opening is an audit row."""
        now = self.clock()
        with self.db.write() as conn:
            _b, x = self._find(conn, branch_id, value)
            store.audit(conn, branch_id, x.id, now, actor.label, "opened")
            tz = repo.load_branch(conn, branch_id).timezone
            hist = store.history(conn, branch_id, x)
            acc = store.accesses(conn, x.id)
        log.info("dossier %s opened by %s", x.tracking, actor.label)
        return self.staff_view(x, tz) | {
            "history": [h | {"at": local_iso(h["at"], tz)} for h in hist],
            "opened_by": [a | {"at": local_iso(a["at"], tz)} for a in acc]}

    def listing(self, branch_id: int, day: str | None, status: str | None) -> list[dict]:
        if status is not None and status not in {x.value for x in DossierStatus}:
            raise NotAllowed(f"Unknown status '{status}': use one of "
                             f"{', '.join(x.value for x in DossierStatus)}.")
        with self.db.read() as conn:
            branch = repo.load_branch(conn, branch_id)
            if day == "today":
                day = numbering.branch_day(self.clock(), branch.timezone,
                                           branch.policy.rollover_hour)
            rows = store.listing(conn, branch_id, day, status)
        # a list shows masked numbers only; opening one is audited
        return [self.summary(x, branch.timezone) for x in rows]

    def counts(self, branch_id: int) -> dict:
        now = self.clock()
        with self.db.read() as conn:
            branch = repo.load_branch(conn, branch_id)
            day = numbering.branch_day(now, branch.timezone, branch.policy.rollover_hour)
            c = store.counts(conn, branch_id, day)
        by_type: dict = {}
        by_status: dict = {}
        for type_code, status, n in c["by"]:
            by_type.setdefault(type_code, {})[status] = n
            by_status[status] = by_status.get(status, 0) + n
        ages = sorted((now - at).total_seconds() / 86400 for _t, _s, at in c["open"])
        buckets = {"under_7_days": 0, "7_to_30_days": 0, "over_30_days": 0}
        for a in ages:
            buckets["under_7_days" if a < 7 else "7_to_30_days" if a < 30 else "over_30_days"] += 1
        return {"day": day, "deposited_today": c["today"], "by_type": by_type,
                "by_status": by_status,
                "open": {"count": len(ages),
                         "oldest_days": round(ages[-1], 1) if ages else None,
                         "mean_days": round(sum(ages) / len(ages), 1) if ages else None,
                         "median_days": round(ages[len(ages) // 2], 1) if ages else None,
                         **buckets}}

    # --- views -------------------------------------------------------------------------

    def _type_names(self, code: str) -> dict:
        t = self.config.types.get(code)
        return t.names if t else {"en": code}

    def _docs(self, x: Dossier, codes) -> list[dict]:
        t = self.config.types.get(x.type_code)
        return [self._doc(t, c) if t else {"code": c, "names": {"en": c}} for c in codes]

    def public_view(self, x: Dossier, tz: str) -> dict:
        """What anyone holding the tracking number sees: no personal data but the
        masked insured number."""
        return {"tracking": x.tracking, "display": tracking.display(x.tracking),
                "type": x.type_code, "type_names": self._type_names(x.type_code),
                "status": x.status.value, "insured": x.insured_masked,
                "deposited_at": local_iso(x.deposited_at, tz),
                "received_at": local_iso(x.received_at, tz),
                "updated_at": local_iso(x.updated_at, tz),
                "missing": self._docs(x, x.missing) if x.status in (
                    DossierStatus.DEPOSITED, DossierStatus.INCOMPLETE) else [],
                "reason": x.reason if x.status is DossierStatus.REJECTED else None}

    def summary(self, x: Dossier, tz: str) -> dict:
        return self.public_view(x, tz) | {"id": x.id, "channel": x.channel, "box": x.box,
                                          "ticket_id": x.ticket_id, "day": x.day,
                                          "missing": self._docs(x, x.missing)}

    def staff_view(self, x: Dossier, tz: str) -> dict:
        return self.summary(x, tz) | {
            "insured_number": x.insured_number, "national_id": x.national_id_masked,
            "declared": self._docs(x, x.declared),
            "documents": self._docs(x, [d.code for d in self.config.types[x.type_code].documents])
            if x.type_code in self.config.types else [],
            "event_date": x.event_date.isoformat() if x.event_date else None,
            "deadlines": list(x.deadlines), "review_at": local_iso(x.review_at, tz),
            "decided_at": local_iso(x.decided_at, tz), "paid_at": local_iso(x.paid_at, tz),
            "closed_at": local_iso(x.closed_at, tz), "reason": x.reason}

    def public_lookup(self, value: str, client: str) -> tuple[int, int, dict]:
        """The status page and the kiosk lookup. Wrong guesses from one client are
        counted; past the limit the client waits."""
        self.limiter.check(client)
        try:
            with self.db.read() as conn:
                branch_id, x = self._find(conn, None, value)
                tz = repo.load_branch(conn, branch_id).timezone
        except NotFound:
            self.limiter.wrong(client)
            raise
        return branch_id, x.id, self.public_view(x, tz)

    def public_by_id(self, branch_id: int, dossier_id: int) -> dict | None:
        with self.db.read() as conn:
            r = conn.execute(select(store.d).where(store.d.c.id == dossier_id)).first()
            if r is None:
                return None
            tz = repo.load_branch(conn, branch_id).timezone
        return self.public_view(store.from_row(r), tz)

    # --- the deposit receipt --------------------------------------------------------------

    def receipt_document(self, branch_id: int, x: Dossier, qr_url: str | None,
                         header_lines=(), footer_lines=()) -> dict:
        """The fields of ``printers.DepositPrint``. No identity number on it."""
        with self.db.read() as conn:
            branch = repo.load_branch(conn, branch_id)
        t = self.config.types.get(x.type_code)
        second = next((lang for lang in branch.display_languages if lang != x.language), None)
        langs = [x.language] + ([second] if second else [])
        return {
            "branch_name": branch.names, "dossier_type": self._type_names(x.type_code),
            "tracking_number": tracking.display(x.tracking),
            "deposited_at_local": (local_iso(x.deposited_at, branch.timezone) or "")[:16]
            .replace("T", " "),
            "documents": [t.document(c).names if t and t.document(c) else {"en": c}
                          for c in x.declared],
            "box": x.box, "next_steps": dict(self.config.next_steps), "qr_url": qr_url,
            "languages": langs, "header_lines": list(header_lines),
            "footer_lines": list(footer_lines),
        }

    def print_receipt(self, branch_id: int, x: Dossier, printer: str, base_url: str) -> dict:
        """Commit the receipt's print job (once per dossier), then send it to the printer."""
        pj = self.printjobs
        job_id = f"d{x.id}"  # opaque: job ids reach kiosk screens, tracking numbers must not
        with self.db.write() as conn:
            job = conn.execute(select(s.print_jobs).where(s.print_jobs.c.job_id == job_id)).first()
            created = job is None
            if created:
                doc = self.receipt_document(branch_id, x, f"{base_url}/d/{x.tracking}",
                                            pj.config.header_lines, pj.config.footer_lines)
                conn.execute(insert(s.print_jobs).values(
                    branch_id=branch_id, job_id=job_id, printer=printer, ticket_id=None,
                    kind="deposit", document=doc, paper=None, status="pending",
                    created_at=self.clock()))
                pj._ensure_printer(conn, branch_id, printer)
            job = conn.execute(select(s.print_jobs).where(s.print_jobs.c.job_id == job_id)).first()
        if created or job.status == "pending":
            pj.dispatch(branch_id, job)
        return {"job": pj._job_view(job), "printer": pj.printer_state(branch_id, job.printer)}

    # --- fan-out ----------------------------------------------------------------------

    def register(self, fanout) -> "Dossiers":
        """Dossier events -> the phone following it, and staff consoles / dashboards."""
        def changed(fo, branch_id, seq, e):
            view = self.public_by_id(branch_id, e.data["dossier_id"])
            if view is None:
                return
            fo.emit("dossier_changed", {"seq": seq, "event": e.type, "dossier": view},
                    rooms.dossier(branch_id, e.data["dossier_id"]))
            staff = {"seq": seq, "event": e.type, "tracking": e.data["tracking"],
                     "type": e.data["type"], "status": e.data["status"], "actor": e.actor.label,
                     "at": fo.local(branch_id, e.at)}
            for name in ("counters", "dashboards"):
                fo.emit("dossier_changed", staff, rooms.audience(branch_id, name))
        for kind in DOSSIER_EVENTS:
            fanout.on(kind, changed)
        return self

    def public_connect(self, sid: str, value, client: str, fanout) -> None:
        """A phone follows one dossier by its tracking number, without a token."""
        from flask_socketio import ConnectionRefusedError, join_room
        try:
            branch_id, dossier_id, view = self.public_lookup(str(value or ""), client)
        except (NotFound, TooManyGuesses) as exc:
            raise ConnectionRefusedError(exc.message)
        join_room(rooms.dossier(branch_id, dossier_id))
        fanout.send_to(sid, "snapshot", {"view": "dossier", "dossier": view})
