"""The index gives exactly the answers of the one ordering rule (ordering.py), on
random queues: the order of every counter, and every ticket's people ahead,
ties, wait bounds, interleaving, targets, front tickets and other days included."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from queue_server.engine import ordering
from queue_server.engine.model import (
    Counter, CounterState, Policy, PriorityClass, Ticket, TicketStatus,
)
from queue_server.engine.queue_index import QueueIndex

from support.engine_factories import B, DAY, T0, counter, ticket

YESTERDAY = "2026-11-22"
PRIORITIES = list(PriorityClass)


@st.composite
def branches(draw):
    n_counters = draw(st.integers(1, 4))
    counters = []
    for cid in range(1, n_counters + 1):
        services = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3, unique=True))
        counters.append(Counter(
            cid, cid, f"C{cid}", {s: rank for rank, s in enumerate(services)},
            draw(st.sampled_from(list(CounterState))),
            priority_streak=draw(st.integers(0, 4))))
    tickets = []
    for tid in range(1, draw(st.integers(0, 25)) + 1):
        tickets.append(Ticket(
            id=tid, service_id=draw(st.sampled_from([1, 2, 3])), number=tid,
            code=f"X-{tid:03d}", day=draw(st.sampled_from([DAY, DAY, DAY, YESTERDAY])),
            status=TicketStatus.WAITING, priority=draw(st.sampled_from(PRIORITIES)),
            channel="kiosk", language="fr", issued_at=T0,
            # few distinct minutes: many ties on queued_at, decided by id
            queued_at=T0 + timedelta(minutes=draw(st.integers(0, 8)) * 7),
            front=draw(st.booleans()),
            target_counter_id=draw(st.sampled_from([None, None, None, 1, 2]))))
    policy = Policy(starvation_rule=draw(st.sampled_from(["wait_bound", "interleave", "both",
                                                          "none"])),
                    starvation_wait_minutes=draw(st.sampled_from([7, 14, 30])),
                    priority_burst=draw(st.integers(0, 3)),
                    keep_overnight=draw(st.booleans()))
    now = T0 + timedelta(minutes=draw(st.integers(0, 80)))
    return counters, tickets, policy, now


def _index(tickets, policy):
    idx = QueueIndex(policy, DAY)
    for t in tickets:
        idx.put(t)
    return idx


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(branches())
def test_every_counters_order_is_the_ordering_rules(b):
    counters, tickets, policy, now = b
    idx = _index(tickets, policy)
    for c in counters:
        want = [t.id for t in ordering.order_for_counter(c, tickets, policy, now, DAY)]
        assert [t.id for t in idx.order(c, now)] == want
        assert idx.eligible_count(c, now) == len(want)
        nxt = ordering.next_for_counter(c, tickets, policy, now, DAY)
        assert (idx.next_for(c, now) or None) == nxt


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(branches(), st.sampled_from([1, 2, 3]), st.sampled_from(PRIORITIES))
def test_people_ahead_is_the_ordering_rules(b, service, priority):
    counters, tickets, policy, now = b
    idx = _index(tickets, policy)
    for t in tickets:
        assert idx.people_ahead(t, counters, now) == \
            ordering.people_ahead(t, tickets, counters, policy, now, DAY), t
    probe = Ticket(id=None, service_id=service, number=0, code="", day=DAY,
                   status=TicketStatus.WAITING, priority=priority, channel="api",
                   language="fr", issued_at=now, queued_at=now)
    assert idx.people_ahead(probe, counters, now) == \
        ordering.people_ahead(probe, tickets, counters, policy, now, DAY)


def test_removing_and_moving_tickets_keeps_the_runs_sorted():
    c = counter(services={1: 0})
    a, b, d = ticket(1, minutes=0), ticket(2, minutes=1), ticket(3, minutes=2)
    idx = _index([d, b, a], Policy())
    assert [t.id for t in idx.order(c, T0)] == [1, 2, 3]
    idx.put(replace(b, status=TicketStatus.CALLED))  # called: leaves the queue
    assert [t.id for t in idx.order(c, T0)] == [1, 3] and len(idx) == 2
    idx.put(replace(b, front=True))  # transferred back to the front
    assert [t.id for t in idx.order(c, T0)] == [2, 1, 3]
    idx.remove(1)
    assert idx.waiting(1) == 2 and idx.oldest(1) == d.queued_at - timedelta(minutes=1)


def test_the_day_rollover_hides_yesterdays_tickets_unless_kept_overnight():
    c = counter(services={1: 0})
    old = ticket(1, day=YESTERDAY)
    idx = _index([old, ticket(2)], Policy())
    assert [t.id for t in idx.order(c, T0)] == [2] and len(idx) == 2
    idx.set_policy(Policy(keep_overnight=True))
    assert [t.id for t in idx.order(c, T0)] == [1, 2]
    idx.set_today("2026-11-24")
    assert idx.waiting(1) == 2  # kept overnight: still callable the next day


def test_a_normal_ticket_exactly_at_the_wait_bound_counts_as_priority():
    """ordering._priority_tier: waited >= the bound. The boundary is pinned here
    because random queues rarely land on it."""
    policy = Policy(starvation_rule="wait_bound", starvation_wait_minutes=30)
    c = counter(services={1: 0, 2: 1})
    old_b = ticket(1, service=B, minutes=0)
    new_a = ticket(2, minutes=10)
    now = T0 + timedelta(minutes=30)
    idx = _index([old_b, new_a], policy)
    want = [t.id for t in ordering.order_for_counter(c, [old_b, new_a], policy, now, DAY)]
    assert want == [1, 2]  # B waited exactly 30 min: it goes before the counter's own A
    assert [t.id for t in idx.order(c, now)] == want
