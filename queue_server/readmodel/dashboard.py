"""The live part of the managers' dashboard, from the branch's projection.

What changes with each event (waiting now, the longest current wait, the estimate a
new ticket would get, counters' states since when, agents, current tickets, open
alerts) is read here from memory, per batch. The day's figures (served, mean and
90th-percentile wait, service level, outcomes...) come from ``queue_server.reports``
(``reports.today``) and are joined by the page: the dashboard, the report of today
and its exports agree to the unit.

Durations that grow with the clock (a wait, a break) are sent as the moment they
started plus the server's time: the page counts on from there without polling.
The alert decisions read the same figures (``wait_readings``, ``paused_for``).
"""
from __future__ import annotations

from datetime import datetime

from ..engine.alerts import WaitReading
from ..engine.model import CounterState
from . import presenters as P
from .alerts import alert_view
from .estimates import Estimator
from .projection import BranchProjection


def wait_readings(p: BranchProjection, now: datetime, est: Estimator):
    """(service, its service view, its reading) for every service."""
    for svc in p.services:
        view = P.service_view(p, svc, now, est)
        oldest = p.index.oldest(svc.id)
        longest = int((now - oldest).total_seconds()) if oldest else 0
        yield svc, view, oldest, WaitReading(svc.target_wait_minutes, max(0, longest),
                                             view["estimated_wait_minutes"])


def paused_for(p: BranchProjection, now: datetime) -> dict[int, float]:
    """counter number -> seconds on a break, for counters on a break now."""
    return {r.counter.number: (now - r.since).total_seconds() if r.since else 0.0
            for r in p.counters.values() if r.counter.state is CounterState.PAUSED}


def live(p: BranchProjection, now: datetime, est: Estimator) -> dict:
    tz = p.branch.timezone
    open_wait = p.alerts.open_keys("wait_target")
    open_pause = p.alerts.open_keys("counter_paused")
    services = []
    for svc, view, oldest, reading in wait_readings(p, now, est):
        services.append({
            **view,
            "longest_wait_since": P.local_iso(oldest, tz),
            "longest_wait_s": reading.longest_wait_s,
            "breached": svc.prefix in open_wait,
        })
    counters = []
    for c in p.counter_list():
        row = p.counters.get(c.id)
        view = P.counter_view(p, c)
        current = view["current_ticket"]
        if current is not None:
            t = p.live.get(c.current_ticket_id)
            current["called_at"] = P.local_iso(t.called_at if t else None, tz)
            current["started_at"] = P.local_iso(t.started_at if t else None, tz)
        agent = None
        if row is not None and row.agent_user_id is not None and c.state is not CounterState.CLOSED:
            agent = p.config.agents.get(row.agent_user_id)
        counters.append({**view, "agent": agent, "alert": str(c.number) in open_pause})
    return {"as_of_seq": p.seq, "now": P.local_iso(now, tz), "day": p.day,
            "services": services, "counters": counters}


def alerts(p: BranchProjection) -> list[dict]:
    tz = p.branch.timezone
    return [alert_view(a, tz) for a in p.alerts.newest_first()]
