"""The one ordering rule, with its ties pinned."""
from datetime import timedelta

from queue_server.engine.model import CounterState, PriorityClass as P
from queue_server.engine.ordering import next_for_counter, order_for_counter, people_ahead

from support.engine_factories import A, B, C, DAY, T0, counter, policy, ticket

NOW = T0 + timedelta(minutes=10)


def codes(ts):
    return [t.code for t in ts]


def test_arrival_order_within_one_service():
    waiting = [ticket(3, minutes=2), ticket(1, minutes=0), ticket(2, minutes=1)]
    assert codes(order_for_counter(counter(), waiting, policy(), NOW, DAY)) == \
        ["A-001", "A-002", "A-003"]


def test_same_arrival_time_breaks_tie_by_id():
    waiting = [ticket(7, minutes=0), ticket(5, minutes=0), ticket(6, minutes=0)]
    assert codes(order_for_counter(counter(), waiting, policy(), NOW, DAY)) == \
        ["A-005", "A-006", "A-007"]


def test_priority_before_normal_whatever_the_arrival():
    waiting = [ticket(1, minutes=0), ticket(2, minutes=5, priority=P.PREGNANT)]
    assert next_for_counter(counter(), waiting, policy(), NOW, DAY).code == "A-002"


def test_service_order_of_the_counter_before_arrival():
    c = counter(services={B.id: 0, A.id: 1})  # B is this counter's main job
    waiting = [ticket(1, service=A, minutes=0), ticket(2, service=B, minutes=5)]
    assert codes(order_for_counter(c, waiting, policy(), NOW, DAY)) == ["B-002", "A-001"]


def test_priority_beats_service_order():
    c = counter(services={B.id: 0, A.id: 1})
    waiting = [ticket(1, service=B), ticket(2, service=A, minutes=3, priority=P.ELDERLY)]
    assert next_for_counter(c, waiting, policy(), NOW, DAY).code == "A-002"


def test_counter_only_sees_its_services_and_its_targeted_tickets():
    c = counter(id=1, services={A.id: 0})
    waiting = [ticket(1, service=C), ticket(2, service=A, target_counter_id=2),
               ticket(3, service=A, minutes=4)]
    assert codes(order_for_counter(c, waiting, policy(), NOW, DAY)) == ["A-003"]


def test_front_flag_goes_first_within_its_tier_and_service():
    waiting = [ticket(1, minutes=0), ticket(2, minutes=8, front=True)]
    assert codes(order_for_counter(counter(), waiting, policy(), NOW, DAY)) == ["A-002", "A-001"]


def test_wait_bound_promotes_a_starving_normal_ticket():
    pol = policy(starvation_rule="wait_bound", starvation_wait_minutes=30)
    now = T0 + timedelta(minutes=31)
    waiting = [ticket(1, minutes=0), ticket(2, minutes=30, priority=P.DISABLED)]
    # A-001 waited 31 min: it counts as priority and arrived first
    assert next_for_counter(counter(), waiting, pol, now, DAY).code == "A-001"
    # one minute earlier it had not starved yet
    assert next_for_counter(counter(), waiting, pol, now - timedelta(minutes=2), DAY).code == "A-002"


def test_interleave_gives_a_normal_call_after_n_priority_calls():
    pol = policy(starvation_rule="interleave", priority_burst=3)
    waiting = [ticket(1, minutes=0), ticket(2, minutes=1, priority=P.ELDERLY)]
    assert next_for_counter(counter(priority_streak=2), waiting, pol, NOW, DAY).code == "A-002"
    assert next_for_counter(counter(priority_streak=3), waiting, pol, NOW, DAY).code == "A-001"


def test_interleave_without_normal_tickets_keeps_calling_priority():
    pol = policy(starvation_rule="interleave", priority_burst=1)
    waiting = [ticket(2, priority=P.ELDERLY), ticket(3, minutes=1, priority=P.PREGNANT)]
    assert next_for_counter(counter(priority_streak=5), waiting, pol, NOW, DAY).code == "A-002"


def test_yesterdays_tickets_are_not_called_unless_kept_overnight():
    waiting = [ticket(1, day="2026-11-22"), ticket(2, minutes=1)]
    assert next_for_counter(counter(), waiting, policy(), NOW, DAY).code == "A-002"
    kept = policy(keep_overnight=True)
    assert next_for_counter(counter(), waiting, kept, NOW, DAY).code == "A-001"


def test_nobody_waiting_gives_none():
    assert next_for_counter(counter(), [], policy(), NOW, DAY) is None


def test_people_ahead_uses_the_counter_that_reaches_the_ticket_soonest():
    c1 = counter(id=1, services={A.id: 0})
    c2 = counter(id=2, services={B.id: 0, A.id: 1})
    waiting = [ticket(1, service=A), ticket(2, service=A, minutes=1),
               ticket(3, service=B, minutes=2), ticket(4, service=A, minutes=3)]
    mine = waiting[3]
    # counter 1 has before A-004; counter 2 has B-003, A-001, A-002
    assert people_ahead(mine, waiting, [c1, c2], policy(), NOW, DAY) == 2


def test_people_ahead_of_a_new_ticket_not_yet_stored():
    waiting = [ticket(1), ticket(2, minutes=1)]
    new = ticket(None, minutes=5)
    assert people_ahead(new, waiting, [counter()], policy(), NOW, DAY) == 2


def test_people_ahead_prefers_staffed_counters():
    open_c = counter(id=1, services={A.id: 1, B.id: 0})
    closed = counter(id=2, services={A.id: 0}, state=CounterState.CLOSED)
    waiting = [ticket(1, service=B), ticket(2, service=A, minutes=1)]
    # only the open counter counts: B-001 goes first there
    assert people_ahead(waiting[1], waiting, [open_c, closed], policy(), NOW, DAY) == 1


def test_a_ticket_sent_to_this_counter_goes_before_the_counters_service_order():
    c = counter(id=2, services={A.id: 0, B.id: 1})
    waiting = [ticket(1, service=A), ticket(2, service=B, minutes=5, target_counter_id=2)]
    assert codes(order_for_counter(c, waiting, policy(), NOW, DAY)) == ["B-002", "A-001"]
    # but a priority visitor still goes first
    waiting.append(ticket(3, service=A, minutes=6, priority=P.ELDERLY))
    assert codes(order_for_counter(c, waiting, policy(), NOW, DAY))[0] == "A-003"
