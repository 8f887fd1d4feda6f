"""The one ordering rule: who a counter calls next.

Every view of "who is next", "people ahead" and the display's waiting list goes
through :func:`order_for_counter`. Ties are pinned by the tests:

1. priority tier first: priority tickets (elderly, disabled, pregnant) and, with
   the wait-bound rule, normal tickets that have waited past the bound;
   with the interleave rule, after ``priority_burst`` priority calls in a row at
   this counter the normal tier goes first for one call;
2. then tickets sent to this very counter (a colleague's transfer, a parked
   ticket returned): a deliberate routing goes before the counter's own order;
3. then the counter's service order (rank, lower first);
4. then tickets placed at the front (transfer or park return, by policy);
5. then arrival (``queued_at``), then id.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from .model import Counter, CounterState, Policy, Ticket, TicketStatus


def is_eligible(ticket: Ticket, counter: Counter, today: str, policy: Policy) -> bool:
    if ticket.status is not TicketStatus.WAITING or not counter.serves(ticket.service_id):
        return False
    if ticket.target_counter_id is not None and ticket.target_counter_id != counter.id:
        return False
    if not policy.keep_overnight and ticket.day != today:
        return False
    return True


def _priority_tier(ticket: Ticket, policy: Policy, now: datetime) -> bool:
    if ticket.priority.is_priority:
        return True
    if policy.starvation_rule in ("wait_bound", "both"):
        return now - ticket.queued_at >= timedelta(minutes=policy.starvation_wait_minutes)
    return False


def _normal_turn(counter: Counter, policy: Policy) -> bool:
    """True when the interleave rule gives the next call to the normal tier."""
    return (
        policy.starvation_rule in ("interleave", "both")
        and policy.priority_burst > 0
        and counter.priority_streak >= policy.priority_burst
    )


def sort_key(ticket: Ticket, counter: Counter, policy: Policy, now: datetime,
             normal_turn: bool = False) -> tuple:
    tier = 0 if _priority_tier(ticket, policy, now) else 1
    if normal_turn:
        tier = 1 - tier
    return (
        tier,
        0 if ticket.target_counter_id == counter.id else 1,
        counter.services[ticket.service_id],
        0 if ticket.front else 1,
        ticket.queued_at,
        ticket.id if ticket.id is not None else float("inf"),
    )


def order_for_counter(counter: Counter, waiting: Iterable[Ticket], policy: Policy,
                      now: datetime, today: str) -> list[Ticket]:
    """Waiting tickets this counter may call, in the order it will call them."""
    eligible = [t for t in waiting if is_eligible(t, counter, today, policy)]
    normal_turn = _normal_turn(counter, policy) and any(
        not _priority_tier(t, policy, now) for t in eligible)
    return sorted(eligible, key=lambda t: sort_key(t, counter, policy, now, normal_turn))


def next_for_counter(counter: Counter, waiting: Iterable[Ticket], policy: Policy,
                     now: datetime, today: str) -> Ticket | None:
    ordered = order_for_counter(counter, waiting, policy, now, today)
    return ordered[0] if ordered else None


def serving_counters(service_id: int, counters: Iterable[Counter]) -> list[Counter]:
    """Counters that can serve a service: the staffed ones, or all if none is staffed."""
    able = [c for c in counters if c.serves(service_id)]
    staffed = [c for c in able if c.state is not CounterState.CLOSED]
    return staffed or able


def people_ahead(ticket: Ticket, waiting: Iterable[Ticket], counters: Iterable[Counter],
                 policy: Policy, now: datetime, today: str) -> int:
    """How many tickets will be called before this one.

    The ticket's position in the order of the counter that reaches it soonest
    (a ticket not yet stored is placed where the ordering puts it).
    """
    waiting = [t for t in waiting if t.id != ticket.id or ticket.id is None]
    best = None
    for counter in serving_counters(ticket.service_id, counters):
        if not is_eligible(ticket, counter, today, policy):
            continue
        pool = [t for t in waiting if is_eligible(t, counter, today, policy)]
        normal_turn = _normal_turn(counter, policy) and any(
            not _priority_tier(t, policy, now) for t in pool + [ticket])
        mine = sort_key(ticket, counter, policy, now, normal_turn)
        ahead = sum(1 for t in pool if sort_key(t, counter, policy, now, normal_turn) < mine)
        best = ahead if best is None else min(best, ahead)
    return best if best is not None else len(waiting)
