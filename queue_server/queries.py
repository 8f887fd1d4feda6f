"""The read side: what the API, snapshots and the fan-out show.

"People ahead", waiting lists and estimates all go through the engine's one
ordering function.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from .db import repo
from .db.database import Database
from .engine import estimate, numbering, ordering
from .engine.errors import NotFound
from .engine.model import Counter, PriorityClass, Service, Ticket, TicketStatus


@dataclass(frozen=True)
class QueueState:
    """One consistent read of a branch's live queue."""

    branch: repo.Branch
    services: list
    counters: list
    waiting: list
    live: list
    day: str
    now: object
    service_minutes: dict  # service id -> mean minutes

    def service(self, service_id: int) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def counter(self, counter_id: int | None) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def counter_by_number(self, number: int) -> Counter | None:
        return next((c for c in self.counters if c.number == number), None)

    def ahead(self, ticket: Ticket) -> int:
        return ordering.people_ahead(ticket, self.waiting, self.counters, self.branch.policy,
                                     self.now, self.day)

    def wait_minutes(self, ticket: Ticket, ahead: int) -> int:
        n = sum(1 for c in ordering.serving_counters(ticket.service_id, self.counters)
                if c.state.value != "closed")
        return estimate.estimate_wait_minutes(ahead, n, self.service_minutes.get(
            ticket.service_id, self.branch.policy.default_service_minutes))

    def order_for(self, counter: Counter) -> list[Ticket]:
        return ordering.order_for_counter(counter, self.waiting, self.branch.policy, self.now,
                                          self.day)


class Queries:
    DURATION_TTL_S = 30.0

    def __init__(self, db: Database, clock: Callable):
        self.db = db
        self.clock = clock
        self._durations: dict[int, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def _service_minutes(self, conn, branch: repo.Branch) -> dict:
        """Mean recent service time per service, cached a few seconds per branch."""
        with self._lock:
            hit = self._durations.get(branch.id)
        if hit and time.monotonic() - hit[0] < self.DURATION_TTL_S:
            return hit[1]
        since = self.clock() - timedelta(hours=8)
        durations = repo.recent_service_durations(conn, branch.id, since)
        everything = [d for ds in durations.values() for d in ds]
        minutes = {}
        for svc in repo.load_services(conn, branch.id):
            own = durations.get(svc.id, [])
            minutes[svc.id] = estimate.mean_service_minutes(
                own if len(own) >= 3 else everything, branch.policy)
        with self._lock:
            self._durations[branch.id] = (time.monotonic(), minutes)
        return minutes

    def state(self, branch_id: int, conn=None) -> QueueState:
        if conn is None:
            with self.db.read() as conn:
                return self.state(branch_id, conn)
        branch = repo.load_branch(conn, branch_id)
        if branch is None:
            raise NotFound(f"Branch {branch_id} does not exist.")
        now = self.clock()
        day = numbering.branch_day(now, branch.timezone, branch.policy.rollover_hour)
        return QueueState(
            branch=branch, services=repo.load_services(conn, branch_id),
            counters=repo.load_counters(conn, branch_id),
            waiting=repo.waiting_tickets(conn, branch_id), live=repo.live_tickets(conn, branch_id),
            day=day, now=now, service_minutes=self._service_minutes(conn, branch))

    def ticket(self, branch_id: int, ticket_id: int) -> tuple[Ticket, QueueState]:
        with self.db.read() as conn:
            ticket = repo.get_ticket(conn, branch_id, ticket_id)
            if ticket is None:
                raise NotFound(f"There is no ticket {ticket_id} in this branch.")
            return ticket, self.state(branch_id, conn)

    def events_of(self, ticket_id: int) -> list:
        with self.db.read() as conn:
            return repo.ticket_events(conn, ticket_id)

    def seq(self, branch_id: int) -> int:
        with self.db.read() as conn:
            return repo.current_seq(conn, branch_id)

    def services(self, branch_id: int) -> list[Service]:
        with self.db.read() as conn:
            return repo.load_services(conn, branch_id)

    def timezone(self, branch_id: int) -> str:
        with self.db.read() as conn:
            branch = repo.load_branch(conn, branch_id)
        return branch.timezone if branch else "UTC"

    def recent_calls(self, branch_id: int, limit: int = 12) -> list:
        with self.db.read() as conn:
            return repo.recent_calls(conn, branch_id, self.clock() - timedelta(hours=12), limit)


# --- presenters: engine objects to JSON ------------------------------------------

def local_iso(dt, tz: str) -> str | None:
    return dt.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds") if dt else None


def service_view(svc: Service, st: QueueState) -> dict:
    waiting = sum(1 for t in st.waiting if t.service_id == svc.id
                  and (st.branch.policy.keep_overnight or t.day == st.day))
    able = [c for c in st.counters if c.serves(svc.id)]
    staffed = [c for c in able if c.state.value != "closed"]
    # what a visitor taking a normal ticket now would be told
    probe = Ticket(id=None, service_id=svc.id, number=0, code="", day=st.day,
                   status=TicketStatus.WAITING, priority=PriorityClass.NORMAL, channel="api",
                   language="fr", issued_at=st.now, queued_at=st.now)
    ahead = st.ahead(probe)
    return {
        "prefix": svc.prefix, "names": svc.names, "icon": svc.icon,
        "target_wait_minutes": svc.target_wait_minutes, "active": svc.active,
        "open": svc.active and bool(staffed), "counters_open": len(staffed),
        "waiting": waiting, "estimated_wait_minutes": st.wait_minutes(probe, ahead),
    }


def counter_view(c: Counter, st: QueueState) -> dict:
    current = None
    if c.current_ticket_id is not None:
        t = next((t for t in st.live if t.id == c.current_ticket_id), None)
        if t is not None:
            current = {"id": t.id, "code": t.code, "status": t.status.value,
                       "service": st.service(t.service_id).prefix}
    services = sorted(c.services.items(), key=lambda kv: kv[1])
    return {
        "number": c.number, "name": c.name, "state": c.state.value,
        "services": [st.service(sid).prefix for sid, _ in services if st.service(sid)],
        "current_ticket": current,
    }


def ticket_view(t: Ticket, st: QueueState) -> dict:
    svc = st.service(t.service_id)
    counter = st.counter(t.counter_id)
    view = {
        "id": t.id, "code": t.code, "service": svc.prefix if svc else None,
        "status": t.status.value, "priority": t.priority.value, "channel": t.channel,
        "language": t.language, "day": t.day,
        "issued_at": local_iso(t.issued_at, st.branch.timezone),
        "called_at": local_iso(t.called_at, st.branch.timezone),
        "started_at": local_iso(t.started_at, st.branch.timezone),
        "finished_at": local_iso(t.finished_at, st.branch.timezone),
        "counter": counter.number if counter else None,
        "recall_count": t.recall_count, "recycled": t.recycled,
        "transfer_count": t.transfer_count, "outcome": t.outcome,
        "people_ahead": None, "estimated_wait_minutes": None,
    }
    if t.status is TicketStatus.WAITING:
        ahead = st.ahead(t)
        view["people_ahead"] = ahead
        view["estimated_wait_minutes"] = st.wait_minutes(t, ahead)
    return view


def call_view(row, st: QueueState) -> dict:
    """One row of the display's call list (a recall is another row). No personal data."""
    svc = st.service(row.service_id)
    return {
        "seq": row.seq, "kind": "recalled" if row.type == "ticket_recalled" else "called",
        "code": row.data.get("code"), "counter": row.data.get("counter_number"),
        "service": svc.prefix if svc else None, "language": row.data.get("language"),
        "at": local_iso(row.at, st.branch.timezone),
    }

