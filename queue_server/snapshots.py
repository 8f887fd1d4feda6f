"""Full pictures a client gets on every (re)connect, before the deltas.

Each carries ``seq``: the branch event sequence it reflects. A client drops
deltas with a ``seq`` at or below it.
"""
from __future__ import annotations

from datetime import timedelta

from .db import repo
from .engine.errors import NotFound
from .queries import QueueState, Queries, call_view, counter_view, service_view, ticket_view

VIEWS = ("display", "kiosk", "counter", "dashboard", "printer")


def _branch(st: QueueState) -> dict:
    b = st.branch
    return {"code": b.code, "names": b.names, "timezone": b.timezone, "languages": b.languages,
            "display_languages": b.display_languages, "day": st.day,
            "outcomes": sorted(b.outcomes)}


def counter_queue(st: QueueState, number: int) -> dict:
    """What one counter's console shows: its ticket, who is next for it, its parked tickets."""
    c = st.counter_by_number(number)
    if c is None:
        raise NotFound(f"There is no counter {number} in this branch.", counter=number)
    order = st.order_for(c)
    served = []  # the services this counter serves, in its order: waiting and oldest wait
    for sid, _rank in sorted(c.services.items(), key=lambda kv: kv[1]):
        svc = st.service(sid)
        if svc is None:
            continue
        mine = [t for t in st.waiting if t.service_id == sid
                and (st.branch.policy.keep_overnight or t.day == st.day)]
        oldest = min((t.queued_at for t in mine), default=None)
        served.append({"prefix": svc.prefix, "names": svc.names, "waiting": len(mine),
                       "oldest_wait_minutes": int((st.now - oldest).total_seconds() // 60)
                       if oldest else None})
    return {
        "counter": counter_view(c, st),
        "services": served,
        "next": [{"id": t.id, "code": t.code, "service": st.service(t.service_id).prefix,
                  "priority": t.priority.value,
                  "waited_minutes": int((st.now - t.queued_at).total_seconds() // 60)}
                 for t in order[:20]],
        "waiting": len(order),
        "parked": [ticket_view(t, st) for t in st.live
                   if t.status.value == "parked" and t.counter_id == c.id],
        "current": next((ticket_view(t, st) for t in st.live
                         if t.id == c.current_ticket_id), None),
    }


def build(queries: Queries, branch_id: int, view: str, counter_number: int | None = None) -> dict:
    with queries.db.read() as conn:
        # one read transaction: the sequence and the state agree
        seq = repo.current_seq(conn, branch_id)
        st = queries.state(branch_id, conn)
        calls = repo.recent_calls(conn, branch_id, st.now - timedelta(hours=12), 12) \
            if view in ("display", "dashboard", "counter") else []
    snap = {"seq": seq, "view": view, "branch": _branch(st),
            "services": [service_view(s, st) for s in st.services]}
    if view in ("display", "dashboard", "counter"):
        snap["calls"] = [call_view(r, st) for r in calls]
        snap["counters"] = [{"number": c.number, "name": c.name, "state": c.state.value}
                            for c in st.counters]
    if view in ("dashboard", "counter"):
        snap["counters"] = [counter_view(c, st) for c in st.counters]
    if view == "counter" and counter_number is not None:
        snap["queue"] = counter_queue(st, counter_number)
    return snap
