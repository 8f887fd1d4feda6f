"""Committed batches as JSON, for the message queue between server processes."""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime

from ..db.repo import CounterRow
from ..engine.model import (
    Actor, Counter, CounterState, Event, PriorityClass, Ticket, TicketStatus,
)
from .projection import Committed

_TICKET_TIMES = ("issued_at", "queued_at", "called_at", "started_at", "finished_at")


def _t(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def _ticket(t: Ticket) -> dict:
    d = {f.name: getattr(t, f.name) for f in fields(Ticket)}
    d["status"], d["priority"] = t.status.value, t.priority.value
    for k in _TICKET_TIMES:
        d[k] = _t(d[k])
    return d


def _ticket_back(d: dict) -> Ticket:
    d = dict(d)
    d["status"], d["priority"] = TicketStatus(d["status"]), PriorityClass(d["priority"])
    for k in _TICKET_TIMES:
        d[k] = _dt(d[k])
    return Ticket(**d)


def _counter(r: CounterRow) -> dict:
    c = r.counter
    return {"id": c.id, "number": c.number, "name": c.name,
            "services": [[k, v] for k, v in c.services.items()], "state": c.state.value,
            "current_ticket_id": c.current_ticket_id, "priority_streak": c.priority_streak,
            "version": c.version, "agent_user_id": r.agent_user_id, "since": _t(r.since)}


def _counter_back(d: dict) -> CounterRow:
    c = Counter(d["id"], d["number"], d["name"], {k: v for k, v in d["services"]},
                CounterState(d["state"]), d["current_ticket_id"], d["priority_streak"],
                d["version"])
    return CounterRow(c, d["agent_user_id"], _dt(d["since"]))


def _event(seq: int, e: Event) -> dict:
    return {"seq": seq, "type": e.type, "at": _t(e.at), "actor": asdict(e.actor),
            "ticket_id": e.ticket_id, "counter_id": e.counter_id, "service_id": e.service_id,
            "data": e.data}


def _event_back(d: dict) -> tuple[int, Event]:
    return d["seq"], Event(d["type"], _dt(d["at"]), Actor(**d["actor"]), d["ticket_id"],
                           d["counter_id"], d["service_id"], d["data"])


def _printer(p: dict) -> dict:
    return {**p, "last_seen_at": _t(p.get("last_seen_at"))}


def _printer_back(p: dict) -> dict:
    return {**p, "last_seen_at": _dt(p.get("last_seen_at"))}


def dumps(b: Committed) -> str:
    return json.dumps({
        "v": 1, "branch_id": b.branch_id, "events": [_event(q, e) for q, e in b.events],
        "tickets": [_ticket(t) for t in b.tickets], "counters": [_counter(r) for r in b.counters],
        "printers": [_printer(p) for p in b.printers], "config": b.config,
    }, ensure_ascii=False, default=str)


def loads(raw: str | bytes) -> Committed:
    d = json.loads(raw)
    if d.get("v") != 1:
        raise ValueError("unknown batch version")
    return Committed(
        d["branch_id"], tuple(_event_back(e) for e in d["events"]),
        tuple(_ticket_back(t) for t in d["tickets"]),
        tuple(_counter_back(c) for c in d["counters"]),
        tuple(_printer_back(p) for p in d["printers"]), bool(d["config"]))
