"""Wait estimates read from a branch's projection.

One object answers "how long for a new ticket of this service" (the kiosk, the
ticket, the summary) and "how long for this waiting ticket" (the phone page),
so every screen and the printed ticket show the same number.
"""
from __future__ import annotations

from datetime import datetime

from ..engine import estimate
from ..engine.model import CounterState, Ticket
from ..engine.ordering import serving_counters
from .projection import BranchProjection


class Estimator:
    def minutes(self, p: BranchProjection, ticket: Ticket, ahead: int, now: datetime) -> int:
        """The whole minutes a ticket shows (a new one, or one already waiting)."""
        n = sum(1 for c in serving_counters(ticket.service_id, p.counter_list())
                if c.state is not CounterState.CLOSED)
        mean = estimate.mean_service_minutes(p.recent_durations(ticket.service_id), p.policy)
        return estimate.estimate_wait_minutes(ahead, n, mean)
