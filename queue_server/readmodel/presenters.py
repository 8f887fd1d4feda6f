"""Every wire shape, in one place: API answers, snapshots, deltas' summaries, the
phone page, the console's queue. They read a branch's projection (no database)
and the estimator; routes and the fan-out only call them.

Times go out in the branch's zone. Nothing a wall display or a phone receives
carries personal data (no notes, no agent, no channel).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..engine.lifecycle import allowed_actions, transfer_targets
from ..engine.model import Counter, PriorityClass, Service, Ticket, TicketStatus
from .estimates import Estimator
from .projection import BranchProjection, Call

NEXT_SHOWN = 20


def local_iso(dt, tz: str) -> str | None:
    return dt.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds") if dt else None


def branch_view(p: BranchProjection) -> dict:
    b = p.branch
    return {"code": b.code, "names": b.names, "timezone": b.timezone, "languages": b.languages,
            "display_languages": b.display_languages, "day": p.day,
            "outcomes": sorted(b.outcomes)}


def probe(p: BranchProjection, service_id: int, now: datetime,
          priority: PriorityClass = PriorityClass.NORMAL) -> Ticket:
    """The ticket a visitor would get now (not stored): what the kiosk tells them."""
    return Ticket(id=None, service_id=service_id, number=0, code="", day=p.day,
                  status=TicketStatus.WAITING, priority=priority, channel="kiosk",
                  language="fr", issued_at=now, queued_at=now)


def staffed(p: BranchProjection, service_id: int) -> int:
    return sum(1 for c in p.counter_list()
               if c.serves(service_id) and c.state.value != "closed")


def service_view(p: BranchProjection, svc: Service, now: datetime, est: Estimator) -> dict:
    t = probe(p, svc.id, now)
    ahead = p.index.people_ahead(t, p.counter_list(), now)
    n = staffed(p, svc.id)
    return {
        "prefix": svc.prefix, "names": svc.names, "icon": svc.icon,
        "target_wait_minutes": svc.target_wait_minutes, "active": svc.active,
        "closed_today": svc.closed_day == p.day, "cutoff": svc.cutoff,
        "open": svc.open_on(p.day) and n > 0, "counters_open": n,
        "waiting": p.index.waiting(svc.id),
        "estimated_wait_minutes": est.minutes(p, t, ahead, now),
    }


def services_view(p: BranchProjection, now: datetime, est: Estimator) -> list[dict]:
    return [service_view(p, s, now, est) for s in p.services]


def counter_view(p: BranchProjection, c: Counter) -> dict:
    current = None
    if c.current_ticket_id is not None:
        t = p.live.get(c.current_ticket_id)
        if t is not None:
            svc = p.service(t.service_id)
            current = {"id": t.id, "code": t.code, "status": t.status.value,
                       "service": svc.prefix if svc else None}
    row = p.counters.get(c.id)
    services = sorted(c.services.items(), key=lambda kv: kv[1])
    return {
        "number": c.number, "name": c.name, "state": c.state.value,
        "services": [p.service(sid).prefix for sid, _ in services if p.service(sid)],
        "current_ticket": current,
        "since": local_iso(row.since, p.branch.timezone) if row else None,
    }


def ticket_view(p: BranchProjection, t: Ticket, now: datetime, est: Estimator) -> dict:
    svc = p.service(t.service_id)
    counter = p.counter(t.counter_id)
    tz = p.branch.timezone
    view = {
        "id": t.id, "code": t.code, "service": svc.prefix if svc else None,
        "status": t.status.value, "priority": t.priority.value, "channel": t.channel,
        "language": t.language, "day": t.day,
        "issued_at": local_iso(t.issued_at, tz), "called_at": local_iso(t.called_at, tz),
        "started_at": local_iso(t.started_at, tz), "finished_at": local_iso(t.finished_at, tz),
        "counter": counter.number if counter else None,
        "recall_count": t.recall_count, "recycled": t.recycled,
        "transfer_count": t.transfer_count, "outcome": t.outcome,
        "people_ahead": None, "estimated_wait_minutes": None,
    }
    if t.status is TicketStatus.WAITING:
        ahead = p.index.people_ahead(t, p.counter_list(), now)
        view["people_ahead"] = ahead
        view["estimated_wait_minutes"] = est.minutes(p, t, ahead, now)
    return view


def issued_view(p: BranchProjection, t: Ticket, ahead: int, minutes: int) -> dict:
    """A ticket just issued, with the figures printed on it (the same everywhere)."""
    tz = p.branch.timezone
    svc = p.service(t.service_id)
    return {
        "id": t.id, "code": t.code, "service": svc.prefix if svc else None,
        "status": t.status.value, "priority": t.priority.value, "channel": t.channel,
        "language": t.language, "day": t.day, "issued_at": local_iso(t.issued_at, tz),
        "called_at": None, "started_at": None, "finished_at": None, "counter": None,
        "recall_count": 0, "recycled": False, "transfer_count": 0, "outcome": None,
        "people_ahead": ahead, "estimated_wait_minutes": minutes,
    }


def call_view(p: BranchProjection, c: Call) -> dict:
    svc = p.service(c.service_id)
    return {"seq": c.seq, "kind": c.kind, "code": c.code, "counter": c.counter,
            "service": svc.prefix if svc else None, "language": c.language,
            "at": local_iso(c.at, p.branch.timezone)}


def counter_queue(p: BranchProjection, number: int, now: datetime, est: Estimator) -> dict | None:
    """What one counter's console shows: its ticket, who is next for it, its parked
    tickets, and the actions it may take now (the console copies no rule)."""
    c = p.counter_by_number(number)
    if c is None:
        return None
    served = []
    for sid, _rank in sorted(c.services.items(), key=lambda kv: kv[1]):
        svc = p.service(sid)
        if svc is None:
            continue
        oldest = p.index.oldest(sid)
        served.append({"prefix": svc.prefix, "names": svc.names, "waiting": p.index.waiting(sid),
                       "oldest_wait_minutes": int((now - oldest).total_seconds() // 60)
                       if oldest else None})
    nxt = p.index.first(c, now, NEXT_SHOWN)
    current = p.live.get(c.current_ticket_id) if c.current_ticket_id is not None else None
    parked = [t for t in p.live.values()
              if t.status is TicketStatus.PARKED and t.counter_id == c.id]
    return {
        "counter": counter_view(p, c),
        "services": served,
        "next": [{"id": t.id, "code": t.code, "service": p.service(t.service_id).prefix,
                  "priority": t.priority.value,
                  "waited_minutes": int((now - t.queued_at).total_seconds() // 60)}
                 for t in nxt],
        "waiting": p.index.eligible_count(c, now),
        "parked": [ticket_view(p, t, now, est) for t in parked],
        "current": ticket_view(p, current, now, est) if current is not None else None,
        "allowed": allowed_actions(c, current, bool(parked)),
        # where the current ticket may be transferred (the console offers only these)
        "transfer_targets": transfer_targets(c, current, p.services, p.counter_list()),
    }


def summary(p: BranchProjection, now: datetime, est: Estimator) -> dict:
    """The coalesced queue_changed payload."""
    return {"seq": p.seq, "services": services_view(p, now, est),
            "counters": [{"number": c.number, "state": c.state.value}
                         for c in p.counter_list()]}


VIEWS = ("display", "kiosk", "counter", "dashboard", "printer")


def snapshot(p: BranchProjection, view: str, now: datetime, est: Estimator,
             counter_number: int | None = None) -> dict:
    snap = {"seq": p.seq, "view": view, "branch": branch_view(p),
            "services": services_view(p, now, est)}
    if view in ("display", "dashboard", "counter"):
        snap["calls"] = [call_view(p, c) for c in p.calls]
        snap["counters"] = [{"number": c.number, "name": c.name, "state": c.state.value}
                            for c in p.counter_list()]
    if view in ("dashboard", "counter"):
        snap["counters"] = [counter_view(p, c) for c in p.counter_list()]
    if view == "counter" and counter_number is not None:
        snap["queue"] = counter_queue(p, counter_number, now, est)
    return snap


def public_ticket(p: BranchProjection, t: Ticket, now: datetime, est: Estimator) -> dict:
    """What the visitor's phone shows: what the ticket shows, no channel, note or outcome."""
    view = ticket_view(p, t, now, est)
    svc = p.service(t.service_id)
    return {k: view[k] for k in ("code", "service", "status", "counter", "people_ahead",
                                 "estimated_wait_minutes", "issued_at", "priority")} | {
        "language": t.language, "service_names": svc.names if svc else {},
        "branch_names": p.branch.names, "seq": p.seq}


def position(p: BranchProjection, t: Ticket, now: datetime, est: Estimator) -> dict:
    """A waiting ticket's place, pushed to the phone following it."""
    if t.status is not TicketStatus.WAITING:
        return {"status": t.status.value, "people_ahead": None, "estimated_wait_minutes": None}
    ahead = p.index.people_ahead(t, p.counter_list(), now)
    return {"status": t.status.value, "people_ahead": ahead,
            "estimated_wait_minutes": est.minutes(p, t, ahead, now)}


def printer_view(p: BranchProjection, name: str) -> dict:
    row = p.printers.get(name)
    if row is None:
        return {"name": name, "state": "unknown", "connected": False,
                "detail": f"No printer agent has connected as '{name}' yet."}
    return {"name": name, "state": row["state"], "connected": bool(row["connected"]),
            "detail": row["detail"],
            "last_seen_at": local_iso(row.get("last_seen_at"), p.branch.timezone)}
