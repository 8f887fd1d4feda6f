"""The read side of dossiers: the kiosk's pre-check, lists and counts for staff,
the public status (tracking number), and every dossier wire shape.

The public status shows no personal data but the masked insured number; wrong
tracking numbers are counted per client in shared storage and slowed down.
"""
from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path

from sqlalchemy import select

from ..db import repo
from ..dossiers import deadlines, ids, store, tracking
from ..dossiers.lifecycle import Dossier, DossierStatus
from ..dossiers.types import DossierConfig
from ..engine import numbering
from ..engine.errors import NotAllowed, NotFound
from ..shared import TooMany
from .presenters import local_iso


class TooManyGuesses(NotAllowed):
    kind = code = "too_many_attempts"


def public_reason(x: Dossier) -> str | None:
    """The rejection reason a visitor may read: a known code, else "other"."""
    from ..dossiers.messages import REJECT_REASONS
    if x.reason is None:
        return None
    return x.reason if x.reason in REJECT_REASONS else "other"


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


class DossierQueries:
    def __init__(self, db, clock, config: DossierConfig, key: bytes, limiter):
        self.db = db
        self.clock = clock
        self.config = config
        self.key = key
        self.limiter = limiter  # wrong tracking numbers per client
        self.insured = ids.insured_scheme(config.insured_scheme, config.insured_check)
        self.national = ids.national_scheme(config.national_scheme)

    # --- the kiosk's checks before the visitor confirms (records nothing) ---------------

    def check(self, branch_id: int, type_code: str, insured_number: str, national_id: str | None,
              declared: list[str], event_date: date | None) -> dict:
        t = self.config.type(type_code)
        insured = ids.validate_insured(insured_number, self.insured)
        if national_id:
            ids.validate_national(national_id, self.national)
        unknown = [c for c in declared if t.document(c) is None]
        if unknown:
            raise NotAllowed("unknown_documents", documents=unknown,
                             choices=[x.code for x in t.documents])
        with self.db.read() as conn:
            branch = repo.load_branch(conn, branch_id)
        today = date.fromisoformat(numbering.branch_day(self.clock(), branch.timezone, 0))
        checks = deadlines.check(t.deadlines, event_date, today)
        return {"type": t.code, "insured": ids.mask(insured),
                "missing": [self.doc(t, c) for c in t.missing(declared)],
                "deadlines": [c.view() for c in checks],
                "late": any(c.past for c in checks)}

    @staticmethod
    def doc(t, code: str) -> dict:
        d = t.document(code) if t else None
        return {"code": code, "names": d.names if d else {"en": code}}

    # --- staff ---------------------------------------------------------------------------

    def find(self, conn, branch_id: int | None, value: str) -> tuple[int, Dossier]:
        number = tracking.parse(value)
        found = store.by_tracking(conn, number) if number else None
        if found is None or (branch_id is not None and found[0] != branch_id):
            raise NotFound("dossier_not_found", tracking=str(value)[:40])
        return found

    def listing(self, branch_id: int, day: str | None, status: str | None,
                insured: str | None = None, before: int | None = None,
                limit: int = 200) -> list[dict]:
        """Newest first, ``limit`` at most, older than the id ``before`` (paging); by a
        full insured number (the back office's search: any day, any status)."""
        if status is not None and status not in {x.value for x in DossierStatus}:
            # a wrong filter is a bad request (400), not a refused action
            raise ids.InvalidInput("unknown_dossier_status", status_name=status,
                             choices=[x.value for x in DossierStatus])
        number = ids.validate_insured(insured, self.insured) if insured else None
        with self.db.read() as conn:
            branch = repo.load_branch(conn, branch_id)
            if day == "today":
                day = numbering.branch_day(self.clock(), branch.timezone,
                                           branch.policy.rollover_hour)
            rows = store.listing(conn, branch_id, day, status, limit=limit, insured=number,
                                 before=before)
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

    def timezone(self, branch_id: int) -> str:
        with self.db.read() as conn:
            return repo.load_branch(conn, branch_id).timezone

    # --- views ------------------------------------------------------------------------------

    def type_names(self, code: str) -> dict:
        t = self.config.types.get(code)
        return t.names if t else {"en": code}

    def docs(self, x: Dossier, codes) -> list[dict]:
        t = self.config.types.get(x.type_code)
        return [self.doc(t, c) for c in codes]

    def public_view(self, x: Dossier, tz: str) -> dict:
        """What anyone holding the tracking number sees: no personal data but the
        masked insured number."""
        return {"tracking": x.tracking, "display": tracking.display(x.tracking),
                "type": x.type_code, "type_names": self.type_names(x.type_code),
                "status": x.status.value, "insured": x.insured_masked,
                "language": x.language,
                "deposited_at": local_iso(x.deposited_at, tz),
                "received_at": local_iso(x.received_at, tz),
                "updated_at": local_iso(x.updated_at, tz),
                "missing": self.docs(x, x.missing) if x.status in (
                    DossierStatus.DEPOSITED, DossierStatus.INCOMPLETE) else [],
                # a code the page renders from the catalogs, never staff's words
                "reason": public_reason(x) if x.status is DossierStatus.REJECTED else None}

    def summary(self, x: Dossier, tz: str) -> dict:
        return self.public_view(x, tz) | {"id": x.id, "channel": x.channel, "box": x.box,
                                          "ticket_id": x.ticket_id, "day": x.day,
                                          "missing": self.docs(x, x.missing)}

    def staff_view(self, x: Dossier, tz: str) -> dict:
        t = self.config.types.get(x.type_code)
        return self.summary(x, tz) | {
            "insured_number": x.insured_number, "national_id": x.national_id_masked,
            "declared": self.docs(x, x.declared),
            "documents": self.docs(x, [d.code for d in t.documents]) if t else [],
            "event_date": x.event_date.isoformat() if x.event_date else None,
            "deadlines": list(x.deadlines), "review_at": local_iso(x.review_at, tz),
            "decided_at": local_iso(x.decided_at, tz), "paid_at": local_iso(x.paid_at, tz),
            "closed_at": local_iso(x.closed_at, tz), "reason": x.reason,
            "internal_note": x.internal_note}

    # --- the public status ---------------------------------------------------------------------

    def public_lookup(self, value: str, client: str, limiter=None) -> tuple[int, int, dict]:
        """The status page and the kiosk lookup. Wrong guesses from one client (an
        address, or a kiosk with ``limiter``: the kiosk's own, more lenient) are
        counted; past the limit that client waits, no other."""
        limiter = limiter or self.limiter
        try:
            limiter.check(client)
        except TooMany as exc:
            refused = TooManyGuesses("too_many_guesses")
            refused.retry_after_s = exc.retry_after_s
            raise refused from None
        try:
            with self.db.read() as conn:
                branch_id, x = self.find(conn, None, value)
                tz = repo.load_branch(conn, branch_id).timezone
        except NotFound:
            limiter.hit(client)
            raise
        return branch_id, x.id, self.public_view(x, tz)

    def public_by_id(self, branch_id: int, dossier_id: int) -> dict | None:
        with self.db.read() as conn:
            r = conn.execute(select(store.d).where(store.d.c.id == dossier_id)).first()
            if r is None:
                return None
            tz = repo.load_branch(conn, branch_id).timezone
        return self.public_view(store.from_row(r), tz)

    # --- the deposit receipt --------------------------------------------------------------------

    def receipt_document(self, branch, x: Dossier, qr_url: str | None,
                         header_lines=(), footer_lines=()) -> dict:
        """The fields of ``printers.DepositPrint``. No identity number on it."""
        t = self.config.types.get(x.type_code)
        second = next((lang for lang in branch.display_languages if lang != x.language), None)
        langs = [x.language] + ([second] if second else [])
        return {
            "branch_name": branch.names, "dossier_type": self.type_names(x.type_code),
            "tracking_number": tracking.display(x.tracking),
            "deposited_at_local": (local_iso(x.deposited_at, branch.timezone) or "")[:16]
            .replace("T", " "),
            "documents": [t.document(c).names if t and t.document(c) else {"en": c}
                          for c in x.declared],
            # deposited anyway after the "missing" warning: the receipt lists what to bring
            "missing": [t.document(c).names if t and t.document(c) else {"en": c}
                        for c in x.missing],
            "box": x.box, "next_steps": dict(self.config.next_steps), "qr_url": qr_url,
            "languages": langs, "header_lines": list(header_lines),
            "footer_lines": list(footer_lines),
        }
