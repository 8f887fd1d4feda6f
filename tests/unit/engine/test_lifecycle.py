"""The lifecycle table and each transition's rules."""
from datetime import timedelta

import pytest

from queue_server.engine import lifecycle
from queue_server.engine.errors import InvalidTransition, NotAllowed
from queue_server.engine.model import CounterState as CS, PriorityClass as P, TicketStatus as S

from support.engine_factories import A, AGENT, B, DAY, T0, counter, policy, ticket

NOW = T0 + timedelta(minutes=5)


def called(t=None, c=None):
    c = c or counter()
    ch = lifecycle.call(c, t or ticket(1), policy(), NOW, AGENT, DAY)
    return ch.ticket, ch.counter


def test_every_action_is_in_the_one_table():
    assert set(lifecycle.TICKET_TRANSITIONS) == {
        "call", "recall", "start", "finish", "no_show", "transfer", "park", "return", "cancel"}


@pytest.mark.parametrize("action", sorted(lifecycle.TICKET_TRANSITIONS))
@pytest.mark.parametrize("status", list(S))
def test_guard_matches_the_table(action, status):
    allowed, target = lifecycle.TICKET_TRANSITIONS[action]
    t = ticket(1, status=status)
    if status in allowed:
        assert lifecycle.guard_ticket(t, action) is target
    else:
        with pytest.raises(InvalidTransition) as err:
            lifecycle.guard_ticket(t, action)
        assert "A-001" in err.value.message


def test_issue_stamps_time_and_actor_and_records_an_event():
    ch = lifecycle.issue(A, 7, DAY, P.NORMAL, "kiosk", "ar", NOW, AGENT)
    assert ch.ticket.code == "A-007" and ch.ticket.status is S.WAITING
    assert ch.ticket.issued_at == NOW and ch.ticket.language == "ar"
    (e,) = ch.events
    assert (e.type, e.at, e.actor) == ("ticket_issued", NOW, AGENT)


def test_issue_on_a_closed_service_is_refused():
    from dataclasses import replace
    with pytest.raises(NotAllowed, match="closed"):
        lifecycle.issue(replace(A, active=False), 1, DAY, P.NORMAL, "kiosk", "fr", NOW, AGENT)


def test_call_takes_the_counter_and_counts_the_priority_streak():
    t, c = called(ticket(1, priority=P.ELDERLY))
    assert t.status is S.CALLED and t.counter_id == c.id and t.called_at == NOW
    assert c.state is CS.SERVING and c.current_ticket_id == 1 and c.priority_streak == 1
    t2, c2 = called(ticket(2), counter(priority_streak=3))
    assert c2.priority_streak == 0


def test_a_second_call_while_serving_is_refused():
    _, c = called()
    with pytest.raises(InvalidTransition, match="still handling"):
        lifecycle.call_next(c, [ticket(2)], policy(), NOW, AGENT, DAY)


def test_call_on_a_closed_or_paused_counter_is_refused():
    for state in (CS.CLOSED, CS.PAUSED):
        with pytest.raises(InvalidTransition, match="open it first"):
            lifecycle.call_next(counter(state=state), [ticket(1)], policy(), NOW, AGENT, DAY)


def test_call_next_with_nobody_waiting_returns_none():
    assert lifecycle.call_next(counter(), [], policy(), NOW, AGENT, DAY) is None


def test_finish_before_a_call_is_an_invalid_transition():
    with pytest.raises(InvalidTransition, match="Cannot finish ticket A-001: it is waiting"):
        lifecycle.finish(counter(), ticket(1), "served", None, NOW, AGENT)


def test_full_service_path_stamps_every_step():
    t, c = called()
    ch = lifecycle.recall(c, t, NOW, AGENT)
    assert ch.ticket.recall_count == 1 and ch.events[0].type == "ticket_recalled"
    ch = lifecycle.start(c, ch.ticket, NOW + timedelta(minutes=1), AGENT)
    assert ch.ticket.status is S.SERVING
    ch = lifecycle.finish(c, ch.ticket, "served", "ok", NOW + timedelta(minutes=7), AGENT,
                          frozenset({"served"}))
    assert ch.ticket.status is S.DONE and ch.ticket.outcome == "served"
    assert ch.counter.state is CS.OPEN and ch.counter.current_ticket_id is None
    assert ch.events[0].data["served_s"] == 360


def test_finish_with_an_unknown_outcome_is_refused():
    t, c = called()
    t = lifecycle.start(c, t, NOW, AGENT).ticket
    with pytest.raises(NotAllowed, match="Unknown outcome"):
        lifecycle.finish(c, t, "magic", None, NOW, AGENT, frozenset({"served"}))


def test_another_counter_cannot_act_on_the_ticket():
    t, _ = called()
    with pytest.raises(NotAllowed, match="not at counter 2"):
        lifecycle.start(counter(id=2), t, NOW, AGENT)


def test_no_show_without_enough_recalls_is_final():
    t, c = called()
    ch = lifecycle.no_show(c, t, policy(recalls_before_recycle=2), NOW, AGENT)
    assert ch.ticket.status is S.NO_SHOW and ch.events[0].type == "ticket_no_show"
    assert ch.counter.state is CS.OPEN


def test_no_show_after_the_recalls_is_recycled_once_to_the_back():
    pol = policy(recalls_before_recycle=2)
    t, c = called()
    for _ in range(2):
        t = lifecycle.recall(c, t, NOW, AGENT).ticket
    later = NOW + timedelta(minutes=3)
    ch = lifecycle.no_show(c, t, pol, later, AGENT)
    assert ch.ticket.status is S.WAITING and ch.ticket.recycled and ch.ticket.queued_at == later
    assert ch.events[0].type == "ticket_recycled"
    # called again, recalled again, no-show again: this time it is final
    t, c = called(ch.ticket, ch.counter)
    for _ in range(2):
        t = lifecycle.recall(c, t, NOW, AGENT).ticket
    assert lifecycle.no_show(c, t, pol, later, AGENT).ticket.status is S.NO_SHOW


def test_transfer_to_a_service_keeps_the_code_and_goes_to_the_front_by_policy():
    t, c = called()
    ch = lifecycle.transfer(c, t, policy(transfer_position="front"), NOW, AGENT, to_service=B)
    assert ch.ticket.code == "A-001" and ch.ticket.service_id == B.id
    assert ch.ticket.status is S.WAITING and ch.ticket.front and ch.ticket.transfer_count == 1
    assert ch.counter.state is CS.OPEN


def test_transfer_position_end_moves_the_arrival_time():
    t, c = called()
    ch = lifecycle.transfer(c, t, policy(transfer_position="end"), NOW, AGENT, to_service=B)
    assert not ch.ticket.front and ch.ticket.queued_at == NOW
    ch = lifecycle.transfer(c, t, policy(transfer_position="keep"), NOW, AGENT, to_service=B)
    assert not ch.ticket.front and ch.ticket.queued_at == t.queued_at


def test_transfer_to_a_counter_targets_it():
    t, c = called()
    other = counter(id=2, services={A.id: 0})
    ch = lifecycle.transfer(c, t, policy(), NOW, AGENT, to_counter=other)
    assert ch.ticket.target_counter_id == 2 and ch.ticket.service_id == A.id


def test_transfer_to_a_counter_that_does_not_serve_the_service_is_refused():
    t, c = called()
    with pytest.raises(NotAllowed, match="does not serve"):
        lifecycle.transfer(c, t, policy(), NOW, AGENT, to_counter=counter(id=2, services={B.id: 0}))


def test_park_frees_the_counter_and_return_puts_it_first_for_that_counter():
    t, c = called()
    ch = lifecycle.park(c, t, NOW, AGENT)
    assert ch.ticket.status is S.PARKED and ch.counter.state is CS.OPEN
    back = lifecycle.return_parked(ch.counter, ch.ticket, NOW, AGENT)
    assert back.ticket.status is S.WAITING and back.ticket.front
    assert back.ticket.target_counter_id == c.id


def test_a_parked_ticket_cannot_go_back_to_a_closed_counter():
    """The rule "a ticket may be sent to a counter only if it is not closed" holds
    for a transfer and for a park return alike (one guard)."""
    t, c = called()
    ch = lifecycle.park(c, t, NOW, AGENT)
    closed = lifecycle.counter_action(ch.counter, "close", NOW, AGENT).counter
    with pytest.raises(NotAllowed) as err:
        lifecycle.return_parked(closed, ch.ticket, NOW, AGENT)
    assert err.value.code == "counter_closed"


def test_closing_a_counter_sends_its_parked_tickets_back_to_their_queue():
    t, c = called()
    parked = lifecycle.park(c, t, NOW, AGENT).ticket
    other = ticket(2, status=S.PARKED, counter_id=9)
    changes = lifecycle.requeue_targeted([parked, other], c, NOW, AGENT)
    assert [ch.ticket.code for ch in changes] == ["A-001"]
    back = changes[0].ticket
    assert back.status is S.WAITING and back.front and back.target_counter_id is None
    assert changes[0].events[0].type == "ticket_requeued"


def test_cancel_a_waiting_ticket_and_a_called_one():
    ch = lifecycle.cancel(ticket(1), None, NOW, AGENT, "left")
    assert ch.ticket.status is S.CANCELLED and ch.counter is None
    t, c = called()
    ch = lifecycle.cancel(t, c, NOW, AGENT)
    assert ch.counter.state is CS.OPEN


def test_counter_table():
    c = counter(state=CS.CLOSED)
    c = lifecycle.counter_action(c, "open", NOW, AGENT).counter
    assert c.state is CS.OPEN
    c = lifecycle.counter_action(c, "pause", NOW, AGENT).counter
    assert c.state is CS.PAUSED
    with pytest.raises(InvalidTransition):
        lifecycle.counter_action(c, "pause", NOW, AGENT)
    c = lifecycle.counter_action(c, "close", NOW, AGENT).counter
    assert c.state is CS.CLOSED


def test_pausing_with_a_ticket_at_the_counter_is_refused():
    _, c = called()
    with pytest.raises(InvalidTransition, match="finish, park or transfer"):
        lifecycle.counter_action(c, "pause", NOW, AGENT)


def test_expire_day_cancels_earlier_days_only():
    old, today = ticket(1, day="2026-11-22"), ticket(2)
    changes = lifecycle.expire_day([old, today], {}, DAY, NOW, AGENT)
    assert [ch.ticket.code for ch in changes] == ["A-001"]
    assert changes[0].events[0].data["reason"] == "day closed"


def test_expire_day_frees_a_counter_left_with_yesterdays_call():
    c = counter(id=1, state=CS.SERVING, current_ticket_id=1)
    left = ticket(1, day="2026-11-22", status=S.CALLED, counter_id=1)
    parked = ticket(2, day="2026-11-22", status=S.PARKED, counter_id=1)
    serving = ticket(3, day="2026-11-22", status=S.SERVING, counter_id=1)
    changes = lifecycle.expire_day([left, parked, serving], {1: c}, DAY, NOW, AGENT)
    assert [ch.ticket.code for ch in changes] == ["A-001", "A-002"]
    assert changes[0].counter.state is CS.OPEN and changes[0].counter.current_ticket_id is None


def test_transfer_to_a_closed_counter_is_refused():
    t, c = called()
    closed = counter(id=2, services={A.id: 0}, state=CS.CLOSED)
    with pytest.raises(NotAllowed, match="closed"):
        lifecycle.transfer(c, t, policy(), NOW, AGENT, to_counter=closed)


def test_closing_a_counter_requeues_the_tickets_sent_to_it():
    sent = ticket(1, target_counter_id=2)
    other = ticket(2, target_counter_id=3)
    changes = lifecycle.requeue_targeted([sent, other], counter(id=2), NOW, AGENT)
    assert [ch.ticket.code for ch in changes] == ["A-001"]
    assert changes[0].ticket.target_counter_id is None and changes[0].ticket.front
    assert changes[0].events[0].type == "ticket_requeued"


def test_cancelling_a_called_ticket_names_the_counter_it_frees():
    t, c = called()
    ch = lifecycle.cancel(t, c, NOW, AGENT, "left")
    assert ch.events[0].data["counter_number"] == c.number


def test_transfer_targets_are_what_the_transfer_accepts():
    import dataclasses
    t, c = called()
    open_a = counter(id=2, number=2, services={A.id: 0}, state=CS.OPEN)
    closed_a = counter(id=3, number=3, services={A.id: 0}, state=CS.CLOSED)
    open_b = counter(id=4, number=4, services={B.id: 0}, state=CS.OPEN)
    inactive = dataclasses.replace(B, active=False)
    targets = lifecycle.transfer_targets(c, t, [A, inactive], [c, open_a, closed_a, open_b])
    assert targets == {"services": ["A"], "counters": [2]}
    for n in targets["counters"]:  # each one offered is accepted
        other = {2: open_a}[n]
        lifecycle.transfer(c, t, policy(), NOW, AGENT, to_counter=other)
    with pytest.raises(NotAllowed):
        lifecycle.transfer(c, t, policy(), NOW, AGENT, to_counter=closed_a)
    assert lifecycle.transfer_targets(c, None, [A], [open_a]) == {"services": [], "counters": []}
