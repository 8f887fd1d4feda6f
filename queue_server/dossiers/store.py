"""Queries of the dossier tables. Statements built once."""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from ..db import schema as s
from .lifecycle import Dossier, DossierStatus
from .schema import dossier_access, dossiers as d

_FIELDS = ("tracking", "type_code", "status", "insured_number", "insured_masked",
           "national_id_hash", "national_id_masked", "language", "channel", "day", "declared",
           "missing", "event_date", "deadlines", "box", "ticket_id", "deposited_at",
           "received_at", "review_at", "decided_at", "paid_at", "closed_at", "updated_at",
           "reason", "internal_note")


def from_row(r) -> Dossier:
    return Dossier(
        id=r.id, tracking=r.tracking, type_code=r.type_code, status=DossierStatus(r.status),
        insured_number=r.insured_number, insured_masked=r.insured_masked,
        national_id_hash=r.national_id_hash, national_id_masked=r.national_id_masked,
        language=r.language, channel=r.channel, day=r.day, deposited_at=r.deposited_at,
        declared=tuple(r.declared or ()), missing=tuple(r.missing or ()),
        event_date=date.fromisoformat(r.event_date) if r.event_date else None,
        deadlines=tuple(r.deadlines or ()), box=r.box, ticket_id=r.ticket_id,
        received_at=r.received_at, review_at=r.review_at, decided_at=r.decided_at,
        paid_at=r.paid_at, closed_at=r.closed_at, updated_at=r.updated_at, reason=r.reason,
        internal_note=r.internal_note)


def _values(x: Dossier) -> dict:
    v = {f: getattr(x, f) for f in _FIELDS}
    v["status"] = x.status.value
    v["declared"], v["missing"], v["deadlines"] = list(x.declared), list(x.missing), list(x.deadlines)
    v["event_date"] = x.event_date.isoformat() if x.event_date else None
    return v


_I = insert(d).values(branch_id=bindparam("branch_id"), idempotency_key=bindparam("key"),
                      **{f: bindparam(f) for f in _FIELDS})
_U = (update(d).where(d.c.id == bindparam("d_id"), d.c.status == bindparam("expect"))
      .values(**{f: bindparam(f) for f in _FIELDS if f != "tracking"}))
_Q_TRACKING = select(d).where(d.c.tracking == bindparam("t"))
_Q_KEY = select(d).where(d.c.branch_id == bindparam("b"), d.c.idempotency_key == bindparam("k"))
_I_ACCESS = insert(dossier_access)
_Q_EVENTS = (select(s.events.c.seq, s.events.c.type, s.events.c.at, s.events.c.actor,
                    s.events.c.data)
             .where(s.events.c.branch_id == bindparam("b"),
                    s.events.c.type.like("dossier_%"), s.events.c.at >= bindparam("since"))
             .order_by(s.events.c.seq))
_Q_ACCESS = (select(dossier_access.c.at, dossier_access.c.actor, dossier_access.c.action)
             .where(dossier_access.c.dossier_id == bindparam("id"))
             .order_by(dossier_access.c.id))


def insert_dossier(conn: Connection, branch_id: int, x: Dossier, key: str | None) -> int:
    return conn.execute(_I, {"branch_id": branch_id, "key": key, **_values(x)}).inserted_primary_key[0]


def save(conn: Connection, before: Dossier, after: Dossier) -> bool:
    """Conditional on the status read: two staff changing one dossier cannot both win."""
    v = _values(after)
    v.pop("tracking")
    res = conn.execute(_U, {"d_id": before.id, "expect": before.status.value, **v})
    return res.rowcount == 1


def by_tracking(conn: Connection, tracking: str) -> tuple[int, Dossier] | None:
    r = conn.execute(_Q_TRACKING, {"t": tracking}).first()
    return (r.branch_id, from_row(r)) if r is not None else None


def by_key(conn: Connection, branch_id: int, key: str) -> Dossier | None:
    r = conn.execute(_Q_KEY, {"b": branch_id, "k": key}).first()
    return from_row(r) if r is not None else None


def listing(conn: Connection, branch_id: int, day: str | None = None,
            status: str | None = None, limit: int = 200, insured: str | None = None,
            before: int | None = None) -> list[Dossier]:
    """Newest first; ``before`` (an id) pages back; ``insured`` is a full insured number."""
    q = select(d).where(d.c.branch_id == branch_id)
    if day:
        q = q.where(d.c.day == day)
    if status:
        q = q.where(d.c.status == status)
    if insured:
        q = q.where(d.c.insured_number == insured)
    if before:
        q = q.where(d.c.id < before)
    return [from_row(r) for r in conn.execute(q.order_by(d.c.id.desc()).limit(limit))]


def audit(conn: Connection, branch_id: int, dossier_id: int, at, actor: str, action: str) -> None:
    conn.execute(_I_ACCESS, {"branch_id": branch_id, "dossier_id": dossier_id, "at": at,
                             "actor": actor, "action": action})


def history(conn: Connection, branch_id: int, x: Dossier) -> list[dict]:
    """The dossier's events (scanned from its deposit time: a branch deposits a
    few hundred a day, so the scan stays small)."""
    rows = conn.execute(_Q_EVENTS, {"b": branch_id, "since": x.deposited_at})
    return [{"seq": r.seq, "type": r.type, "at": r.at, "actor": r.actor,
             "data": {k: v for k, v in (r.data or {}).items() if k not in ("dossier_id",)}}
            for r in rows if (r.data or {}).get("dossier_id") == x.id]


def accesses(conn: Connection, dossier_id: int) -> list[dict]:
    return [{"at": r.at, "actor": r.actor, "action": r.action}
            for r in conn.execute(_Q_ACCESS, {"id": dossier_id})]


def counts(conn: Connection, branch_id: int, day: str) -> dict:
    by = conn.execute(select(d.c.type_code, d.c.status, func.count())
                      .where(d.c.branch_id == branch_id)
                      .group_by(d.c.type_code, d.c.status)).all()
    today = conn.execute(select(func.count()).where(d.c.branch_id == branch_id,
                                                    d.c.day == day)).scalar()
    open_rows = conn.execute(select(d.c.type_code, d.c.status, d.c.deposited_at).where(
        d.c.branch_id == branch_id,
        d.c.status.in_([x.value for x in DossierStatus if x.is_open]))).all()
    return {"by": [(r[0], r[1], r[2]) for r in by], "today": today or 0,
            "open": [(r[0], r[1], r[2]) for r in open_rows]}
