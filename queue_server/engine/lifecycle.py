"""The ticket and counter lifecycles: one table each, one guard each.

Every function takes the current state and the time, and returns the new state
and the events that record the change. Nothing here reads a clock or stores
anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from .errors import InvalidTransition, NotAllowed
from .model import (
    Actor, Counter, CounterState as C, Event, Policy, PriorityClass, Service, Ticket,
    TicketStatus as T,
)
from .numbering import ticket_code
from .ordering import next_for_counter

# action -> (states it may start from, state it ends in)
TICKET_TRANSITIONS: dict[str, tuple[frozenset, T]] = {
    "call": (frozenset({T.WAITING}), T.CALLED),
    "recall": (frozenset({T.CALLED}), T.CALLED),
    "start": (frozenset({T.CALLED}), T.SERVING),
    "finish": (frozenset({T.SERVING}), T.DONE),
    "no_show": (frozenset({T.CALLED}), T.NO_SHOW),  # or WAITING when recycled
    "transfer": (frozenset({T.CALLED, T.SERVING}), T.WAITING),
    "park": (frozenset({T.CALLED, T.SERVING}), T.PARKED),
    "return": (frozenset({T.PARKED}), T.WAITING),
    "cancel": (frozenset({T.WAITING, T.CALLED, T.PARKED}), T.CANCELLED),
}

COUNTER_TRANSITIONS: dict[str, tuple[frozenset, C]] = {
    "open": (frozenset({C.CLOSED, C.PAUSED}), C.OPEN),
    "pause": (frozenset({C.OPEN}), C.PAUSED),
    "close": (frozenset({C.OPEN, C.PAUSED}), C.CLOSED),
    "take": (frozenset({C.OPEN}), C.SERVING),  # a ticket was called to this counter
    "release": (frozenset({C.SERVING}), C.OPEN),  # that ticket left the counter
}

def guard_ticket(ticket: Ticket, action: str) -> T:
    allowed, target = TICKET_TRANSITIONS[action]
    if ticket.status not in allowed:
        raise InvalidTransition("ticket_state", action=action, ticket=ticket.code,
                                status=ticket.status.value)
    return target


def guard_counter(counter: Counter, action: str) -> C:
    allowed, target = COUNTER_TRANSITIONS[action]
    if counter.state not in allowed:
        if action == "take" and counter.state is C.SERVING:
            raise InvalidTransition("counter_busy", counter=counter.number)
        if action == "take":
            raise InvalidTransition("counter_not_open", counter=counter.number,
                                    state=counter.state.value)
        if action in ("pause", "close") and counter.state is C.SERVING:
            raise InvalidTransition("counter_busy_for_action", counter=counter.number,
                                    action=action)
        raise InvalidTransition("counter_state", counter=counter.number, action=action,
                                state=counter.state.value)
    return target


def guard_target(counter: Counter, ticket: Ticket) -> None:
    """A ticket may be sent to a counter (a transfer, a parked ticket's return) only
    if that counter will call it: not closed. One rule for both."""
    if counter.state is C.CLOSED:
        raise NotAllowed("counter_closed", counter=counter.number, ticket=ticket.code)


def allowed_actions(counter: Counter, ticket: Ticket | None, parked_here: bool = False) -> list[str]:
    """What an agent at ``counter`` may do now, from the two tables: the console
    enables exactly these buttons (the server refuses the others anyway)."""
    out = []
    if parked_here and counter.state is not C.CLOSED:
        out.append("return")
    for action in ("open", "pause", "close"):
        allowed, _ = COUNTER_TRANSITIONS[action]
        if counter.state in allowed:
            out.append("resume" if action == "open" and counter.state is C.PAUSED else action)
    if counter.state in COUNTER_TRANSITIONS["take"][0]:
        out.append("call_next")
    if ticket is not None and ticket.counter_id == counter.id:
        for action in ("recall", "start", "finish", "no_show", "transfer", "park"):
            if ticket.status in TICKET_TRANSITIONS[action][0]:
                out.append(action)
    return out


@dataclass(frozen=True)
class Change:
    """The result of one command: new states and the events recording them."""

    ticket: Ticket | None = None
    counter: Counter | None = None
    events: list = field(default_factory=list)


def _event(kind: str, at: datetime, actor: Actor, ticket: Ticket | None = None,
           counter: Counter | None = None, **data) -> Event:
    return Event(
        type=kind, at=at, actor=actor,
        ticket_id=ticket.id if ticket else None,
        counter_id=counter.id if counter else None,
        service_id=ticket.service_id if ticket else None,
        data=data,
    )


def _ticket_data(t: Ticket) -> dict:
    return {"code": t.code, "priority": t.priority.value, "language": t.language}


# --- tickets ---------------------------------------------------------------

def issue(service: Service, number: int, day: str, priority: PriorityClass, channel: str,
          language: str, now: datetime, actor: Actor) -> Change:
    if not service.open_on(day):
        raise NotAllowed("service_closed", service=service.prefix, service_name=service.names)
    ticket = Ticket(
        id=None, service_id=service.id, number=number, code=ticket_code(service.prefix, number),
        day=day, status=T.WAITING, priority=priority, channel=channel, language=language,
        issued_at=now, queued_at=now,
    )
    return Change(ticket=ticket, events=[
        _event("ticket_issued", now, actor, ticket, channel=channel, **_ticket_data(ticket))])


def _holder_check(ticket: Ticket, counter: Counter) -> None:
    if ticket.counter_id != counter.id:
        raise NotAllowed("ticket_elsewhere", ticket=ticket.code, counter=counter.number)


def call(counter: Counter, ticket: Ticket, policy: Policy, now: datetime, actor: Actor,
         today: str) -> Change:
    """Call one specific waiting ticket to this counter."""
    guard_counter(counter, "take")
    guard_ticket(ticket, "call")
    if not counter.serves(ticket.service_id):
        raise NotAllowed("counter_wrong_service", ticket=ticket.code, counter=counter.number)
    if ticket.target_counter_id not in (None, counter.id):
        raise NotAllowed("ticket_sent_elsewhere", ticket=ticket.code)
    streak = counter.priority_streak + 1 if ticket.priority.is_priority else 0
    called = replace(ticket, status=T.CALLED, counter_id=counter.id, called_at=now,
                     front=False, target_counter_id=None)
    counter2 = replace(counter, state=C.SERVING, current_ticket_id=ticket.id,
                       priority_streak=streak)
    waited = int((now - ticket.queued_at).total_seconds())
    return Change(called, counter2, [
        _event("ticket_called", now, actor, called, counter2, counter_number=counter.number,
               waited_s=waited, **_ticket_data(called))])


def call_next(counter: Counter, waiting: list[Ticket], policy: Policy, now: datetime,
              actor: Actor, today: str) -> Change | None:
    """Call the ticket the ordering rule gives this counter; None when nobody waits."""
    guard_counter(counter, "take")
    ticket = next_for_counter(counter, waiting, policy, now, today)
    if ticket is None:
        return None
    return call(counter, ticket, policy, now, actor, today)


def recall(counter: Counter, ticket: Ticket, now: datetime, actor: Actor) -> Change:
    guard_ticket(ticket, "recall")
    _holder_check(ticket, counter)
    t = replace(ticket, recall_count=ticket.recall_count + 1)
    return Change(t, counter, [
        _event("ticket_recalled", now, actor, t, counter, counter_number=counter.number,
               recall_count=t.recall_count, **_ticket_data(t))])


def start(counter: Counter, ticket: Ticket, now: datetime, actor: Actor) -> Change:
    guard_ticket(ticket, "start")
    _holder_check(ticket, counter)
    t = replace(ticket, status=T.SERVING, started_at=now)
    return Change(t, counter, [
        _event("ticket_started", now, actor, t, counter, counter_number=counter.number,
               **_ticket_data(t))])


def _release(counter: Counter) -> Counter:
    guard_counter(counter, "release")
    return replace(counter, state=C.OPEN, current_ticket_id=None)


def finish(counter: Counter, ticket: Ticket, outcome: str, note: str | None, now: datetime,
           actor: Actor, outcomes: frozenset | None = None) -> Change:
    guard_ticket(ticket, "finish")
    _holder_check(ticket, counter)
    if outcomes is not None and outcome not in outcomes:
        raise NotAllowed("unknown_outcome", outcome=outcome, choices=sorted(outcomes))
    t = replace(ticket, status=T.DONE, finished_at=now, outcome=outcome, note=note)
    served_s = int((now - (ticket.started_at or now)).total_seconds())
    return Change(t, _release(counter), [
        _event("ticket_finished", now, actor, t, counter, counter_number=counter.number,
               outcome=outcome, served_s=served_s, **_ticket_data(t))])


def no_show(counter: Counter, ticket: Ticket, policy: Policy, now: datetime,
            actor: Actor) -> Change:
    """The visitor did not come. Recycled once to the back of the queue when the
    ticket was recalled enough times and the branch recycles no-shows."""
    guard_ticket(ticket, "no_show")
    _holder_check(ticket, counter)
    counter2 = _release(counter)
    if (policy.recycle_no_show and not ticket.recycled
            and ticket.recall_count >= policy.recalls_before_recycle):
        t = replace(ticket, status=T.WAITING, recycled=True, queued_at=now, front=False,
                    recall_count=0)
        return Change(t, counter2, [
            _event("ticket_recycled", now, actor, t, counter, counter_number=counter.number,
                   **_ticket_data(t))])
    t = replace(ticket, status=T.NO_SHOW, finished_at=now)
    return Change(t, counter2, [
        _event("ticket_no_show", now, actor, t, counter, counter_number=counter.number,
               **_ticket_data(t))])


def check_transfer_target(counter: Counter, ticket: Ticket, to_service: Service | None = None,
                          to_counter: Counter | None = None) -> None:
    """Where a ticket may be transferred: an active service, or another counter that
    serves its service and is not closed. One rule for the command and the console."""
    if (to_service is None) == (to_counter is None):
        raise NotAllowed("transfer_target")
    if to_service is not None and not to_service.active:
        raise NotAllowed("transfer_service_closed", service=to_service.prefix)
    if to_counter is not None:
        if to_counter.id == counter.id:
            raise NotAllowed("transfer_same_counter")
        if not to_counter.serves(ticket.service_id):
            raise NotAllowed("transfer_counter_wrong_service", counter=to_counter.number,
                             ticket=ticket.code)
        guard_target(to_counter, ticket)


def transfer_targets(counter: Counter, ticket: Ticket | None, services: list[Service],
                     counters: list[Counter]) -> dict:
    """The services and counters the ticket at ``counter`` may be transferred to now (the
    console offers exactly these; the command checks again)."""
    out: dict = {"services": [], "counters": []}
    if ticket is None or ticket.counter_id != counter.id \
            or ticket.status not in TICKET_TRANSITIONS["transfer"][0]:
        return out
    for svc in services:
        try:
            check_transfer_target(counter, ticket, to_service=svc)
            out["services"].append(svc.prefix)
        except NotAllowed:
            pass
    for other in counters:
        try:
            check_transfer_target(counter, ticket, to_counter=other)
            out["counters"].append(other.number)
        except NotAllowed:
            pass
    return out


def transfer(counter: Counter, ticket: Ticket, policy: Policy, now: datetime, actor: Actor,
             to_service: Service | None = None, to_counter: Counter | None = None) -> Change:
    """Send the ticket to another service or counter. It keeps its code; where it
    lands in the new queue follows the branch policy."""
    guard_ticket(ticket, "transfer")
    _holder_check(ticket, counter)
    check_transfer_target(counter, ticket, to_service, to_counter)
    service_id = to_service.id if to_service else ticket.service_id
    position = policy.transfer_position
    t = replace(
        ticket, status=T.WAITING, service_id=service_id,
        target_counter_id=to_counter.id if to_counter else None,
        front=position == "front",
        queued_at=now if position == "end" else ticket.queued_at,
        transfer_count=ticket.transfer_count + 1, started_at=None, called_at=None,
        recall_count=0,
    )
    return Change(t, _release(counter), [
        _event("ticket_transferred", now, actor, t, counter, counter_number=counter.number,
               from_service_id=ticket.service_id, to_service_id=service_id,
               to_counter_number=to_counter.number if to_counter else None,
               position=position, **_ticket_data(t))])


def park(counter: Counter, ticket: Ticket, now: datetime, actor: Actor) -> Change:
    """Set the ticket aside (the visitor fetches a document) and free the counter."""
    guard_ticket(ticket, "park")
    _holder_check(ticket, counter)
    t = replace(ticket, status=T.PARKED)
    return Change(t, _release(counter), [
        _event("ticket_parked", now, actor, t, counter, counter_number=counter.number,
               **_ticket_data(t))])


def return_parked(counter: Counter, ticket: Ticket, now: datetime, actor: Actor) -> Change:
    """Bring a parked ticket back: it waits at the front, for the counter that parked it."""
    guard_ticket(ticket, "return")
    _holder_check(ticket, counter)
    guard_target(counter, ticket)
    t = replace(ticket, status=T.WAITING, front=True, target_counter_id=counter.id,
                recall_count=0)
    return Change(t, counter, [
        _event("ticket_returned", now, actor, t, counter, counter_number=counter.number,
               **_ticket_data(t))])


def cancel(ticket: Ticket, counter: Counter | None, now: datetime, actor: Actor,
           reason: str = "") -> Change:
    guard_ticket(ticket, "cancel")
    counter2 = None
    if ticket.status is T.CALLED:
        if counter is None or ticket.counter_id != counter.id:
            raise NotAllowed("cancel_at_counter", ticket=ticket.code)
        counter2 = _release(counter)
    t = replace(ticket, status=T.CANCELLED, finished_at=now)
    at_counter = {"counter_number": counter.number} if counter2 is not None else {}
    return Change(t, counter2, [
        _event("ticket_cancelled", now, actor, t, counter2, reason=reason, **at_counter,
               **_ticket_data(t))])


def expire_day(tickets: list[Ticket], counters: dict, today: str, now: datetime,
               actor: Actor) -> list[Change]:
    """At the rollover, an earlier day's tickets still waiting, called or parked are
    cancelled (a called one frees its counter). One being served is left to its
    agent, who finishes it."""
    changes = []
    for t in tickets:
        if t.day >= today or t.status not in (T.WAITING, T.CALLED, T.PARKED):
            continue
        counter = counters.get(t.counter_id) if t.status is T.CALLED else None
        changes.append(cancel(t, counter, now, actor, reason="day closed"))
        if changes[-1].counter is not None:
            counters[t.counter_id] = changes[-1].counter
    return changes


def requeue_targeted(tickets: list[Ticket], counter: Counter, now: datetime,
                     actor: Actor) -> list[Change]:
    """A counter closes: tickets sent to it, and tickets parked at it, go back to
    their service's queue (at the front), or nobody could ever call them."""
    changes = []
    for t in tickets:
        sent = t.status is T.WAITING and t.target_counter_id == counter.id
        parked = t.status is T.PARKED and t.counter_id == counter.id
        if sent or parked:
            t2 = replace(t, status=T.WAITING, target_counter_id=None, front=True,
                         recall_count=0)
            changes.append(Change(t2, None, [
                _event("ticket_requeued", now, actor, t2, counter,
                       counter_number=counter.number, reason="counter closed",
                       **_ticket_data(t2))]))
    return changes


# --- counters ----------------------------------------------------------------

def counter_action(counter: Counter, action: str, now: datetime, actor: Actor) -> Change:
    """open / pause / close. Pausing or closing with a ticket at the counter is refused."""
    if action not in ("open", "pause", "close"):
        raise NotAllowed("unknown_counter_action", action_name=action)
    target = guard_counter(counter, action)
    c = replace(counter, state=target,
                priority_streak=0 if action == "close" else counter.priority_streak)
    kind = {"open": "counter_opened", "pause": "counter_paused", "close": "counter_closed"}[action]
    return Change(None, c, [_event(kind, now, actor, None, c, counter_number=counter.number,
                                   state=target.value)])
