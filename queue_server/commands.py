"""Service functions: load state, call the engine, commit, then hand the
committed events to the fan-out. Nothing here emits or knows about HTTP.

"Call next" is atomic in the database: the chosen ticket is written with a
conditional update (``WHERE status = 'waiting'``); of two counters racing for
one ticket exactly one update matches, the other re-reads the queue and takes
the next ticket. SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL
locks the counter row, so two consoles of one counter cannot both call.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from sqlalchemy.exc import IntegrityError

from .db import repo
from .db.database import Database
from .engine import lifecycle, numbering
from .engine.errors import InvalidTransition, NotAllowed, NotFound
from .engine.model import Actor, Counter, PriorityClass, Ticket

Publish = Callable[[int, list], None]

MAX_CALL_RETRIES = 50


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    created: bool  # False when an idempotency key matched an earlier request


class _LostRace(Exception):
    """Another counter took the ticket between our read and our write."""


class Commands:
    def __init__(self, db: Database, clock: Callable, publish: Publish):
        self.db = db
        self.clock = clock
        self.publish = publish

    # --- helpers -------------------------------------------------------------

    @staticmethod
    def _branch(conn, branch_id: int) -> repo.Branch:
        branch = repo.load_branch(conn, branch_id)
        if branch is None:
            raise NotFound(f"Branch {branch_id} does not exist.")
        return branch

    @staticmethod
    def _counter(conn, branch_id: int, number: int, lock: bool = True) -> Counter:
        counter = repo.get_counter(conn, branch_id, number, lock=lock)
        if counter is None:
            raise NotFound(f"There is no counter {number} in this branch.", counter=number)
        return counter

    @staticmethod
    def _ticket(conn, branch_id: int, ticket_id: int) -> Ticket:
        ticket = repo.get_ticket(conn, branch_id, ticket_id)
        if ticket is None:
            raise NotFound(f"There is no ticket {ticket_id} in this branch.", ticket=ticket_id)
        return ticket

    def _store(self, conn, branch_id: int, change: lifecycle.Change,
               ticket_before: Ticket | None, counter_before: Counter | None,
               agent_user_id=False) -> list:
        now = change.events[0].at if change.events else self.clock()
        if change.ticket is not None and ticket_before is not None:
            if not repo.save_ticket(conn, ticket_before, change.ticket):
                raise InvalidTransition(
                    f"Ticket {ticket_before.code} was changed by someone else at the same "
                    "moment: refresh and try again.", ticket=ticket_before.code)
        if change.counter is not None and counter_before is not None:
            if not repo.save_counter(conn, counter_before, change.counter, now, agent_user_id):
                raise InvalidTransition(
                    f"Counter {counter_before.number} was changed by someone else at the "
                    "same moment: refresh and try again.", counter=counter_before.number)
        return repo.append_events(conn, branch_id, change.events)

    # --- tickets -------------------------------------------------------------

    def issue(self, branch_id: int, service_prefix: str, priority: PriorityClass,
              language: str, channel: str, actor: Actor,
              idempotency_key: str | None = None) -> Issued:
        if idempotency_key:
            with self.db.read() as conn:
                earlier = repo.ticket_by_key(conn, branch_id, idempotency_key)
            if earlier is not None:
                return Issued(earlier, False)
        now = self.clock()
        try:
            with self.db.write() as conn:
                branch = self._branch(conn, branch_id)
                if language not in branch.languages:
                    raise NotAllowed(
                        f"Language '{language}' is not offered in this branch: use one of "
                        f"{', '.join(branch.languages)}.", language=language)
                service = next((sv for sv in repo.load_services(conn, branch_id)
                                if sv.prefix == service_prefix), None)
                if service is None:
                    raise NotFound(f"There is no service '{service_prefix}' in this branch.",
                                   service=service_prefix)
                day = numbering.branch_day(now, branch.timezone, branch.policy.rollover_hour)
                number = repo.next_number(
                    conn, branch_id, service.id, day,
                    lambda carried: numbering.first_number_of_day(branch.policy, carried))
                change = lifecycle.issue(service, number, day, priority, channel, language,
                                         now, actor)
                tid = repo.insert_ticket(conn, branch_id, change.ticket, idempotency_key)
                ticket = replace(change.ticket, id=tid)
                events = [replace(e, ticket_id=tid) for e in change.events]
                stored = repo.append_events(conn, branch_id, events)
        except IntegrityError:
            if idempotency_key:  # the same tap arrived twice at once: the first one won
                with self.db.read() as conn:
                    earlier = repo.ticket_by_key(conn, branch_id, idempotency_key)
                if earlier is not None:
                    return Issued(earlier, False)
            raise
        self.publish(branch_id, stored)
        return Issued(ticket, True)

    def call_next(self, branch_id: int, counter_number: int, actor: Actor) -> Ticket | None:
        for _ in range(MAX_CALL_RETRIES):
            now = self.clock()
            try:
                ticket, stored = self._call_next_once(branch_id, counter_number, actor, now)
            except _LostRace:
                continue
            if ticket is not None:
                self.publish(branch_id, stored)
            return ticket
        raise InvalidTransition("The queue is very busy right now: press call next again.")

    def _call_next_once(self, branch_id, counter_number, actor, now):
        with self.db.write() as conn:
            branch = self._branch(conn, branch_id)
            counter = self._counter(conn, branch_id, counter_number)
            lifecycle.guard_counter(counter, "take")
            day = numbering.branch_day(now, branch.timezone, branch.policy.rollover_hour)
            waiting = repo.waiting_tickets(conn, branch_id, list(counter.services))
            change = lifecycle.call_next(counter, waiting, branch.policy, now, actor, day)
            if change is None:
                return None, []
            before = next(t for t in waiting if t.id == change.ticket.id)
            if not repo.save_ticket(conn, before, change.ticket):
                raise _LostRace()  # rolls back; the loop re-reads the queue
            if not repo.save_counter(conn, counter, change.counter, now):
                raise InvalidTransition(
                    f"Counter {counter_number} was changed at the same moment: try again.")
            return change.ticket, repo.append_events(conn, branch_id, change.events)

    def _at_counter(self, branch_id: int, counter_number: int, ticket_id: int | None,
                    step: Callable, *, agent_user_id=False):
        """Run a step on the ticket at a counter (the one given, or the current one)."""
        now = self.clock()
        with self.db.write() as conn:
            branch = self._branch(conn, branch_id)
            counter = self._counter(conn, branch_id, counter_number)
            if ticket_id is None:
                if counter.current_ticket_id is None:
                    raise InvalidTransition(
                        f"Counter {counter_number} has no ticket right now: call the next "
                        "ticket first.", counter=counter_number)
                ticket_id = counter.current_ticket_id
            ticket = self._ticket(conn, branch_id, ticket_id)
            change = step(conn, branch, counter, ticket, now)
            stored = self._store(conn, branch_id, change, ticket, counter, agent_user_id)
        self.publish(branch_id, stored)
        return change

    def recall(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda conn, b, c, t, now: lifecycle.recall(c, t, now, actor)).ticket

    def start(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda conn, b, c, t, now: lifecycle.start(c, t, now, actor)).ticket

    def finish(self, branch_id, counter_number, actor, outcome, note=None, ticket_id=None) -> Ticket:
        return self._at_counter(
            branch_id, counter_number, ticket_id,
            lambda conn, b, c, t, now: lifecycle.finish(c, t, outcome, note, now, actor,
                                                        b.outcomes)).ticket

    def no_show(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(
            branch_id, counter_number, ticket_id,
            lambda conn, b, c, t, now: lifecycle.no_show(c, t, b.policy, now, actor)).ticket

    def park(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda conn, b, c, t, now: lifecycle.park(c, t, now, actor)).ticket

    def return_parked(self, branch_id, counter_number, actor, ticket_id) -> Ticket:
        return self._at_counter(
            branch_id, counter_number, ticket_id,
            lambda conn, b, c, t, now: lifecycle.return_parked(c, t, now, actor)).ticket

    def transfer(self, branch_id, counter_number, actor, to_service: str | None = None,
                 to_counter: int | None = None, ticket_id=None) -> Ticket:
        def step(conn, branch, counter, ticket, now):
            target_service = target_counter = None
            if to_service is not None:
                target_service = next((sv for sv in repo.load_services(conn, branch_id)
                                       if sv.prefix == to_service), None)
                if target_service is None:
                    raise NotFound(f"There is no service '{to_service}' in this branch.")
            if to_counter is not None:
                target_counter = repo.get_counter(conn, branch_id, to_counter)
                if target_counter is None:
                    raise NotFound(f"There is no counter {to_counter} in this branch.")
            return lifecycle.transfer(counter, ticket, branch.policy, now, actor,
                                      target_service, target_counter)
        return self._at_counter(branch_id, counter_number, ticket_id, step).ticket

    def cancel(self, branch_id: int, ticket_id: int, actor: Actor, reason: str = "") -> Ticket:
        now = self.clock()
        with self.db.write() as conn:
            ticket = self._ticket(conn, branch_id, ticket_id)
            counter = None
            if ticket.counter_id is not None and ticket.status.value == "called":
                # the counter row first, as every counter action does (no lock-order deadlock)
                held = repo.get_counter_by_id(conn, ticket.counter_id)
                counter = self._counter(conn, branch_id, held.number)
                ticket = self._ticket(conn, branch_id, ticket_id)
            change = lifecycle.cancel(ticket, counter, now, actor, reason)
            stored = self._store(conn, branch_id, change, ticket, counter)
        self.publish(branch_id, stored)
        return change.ticket

    def expire_day(self, branch_id: int) -> int:
        """Cancel tickets left waiting from an earlier branch day (unless kept overnight)."""
        now = self.clock()
        with self.db.write() as conn:
            branch = self._branch(conn, branch_id)
            if branch.policy.keep_overnight:
                return 0
            day = numbering.branch_day(now, branch.timezone, branch.policy.rollover_hour)
            tickets = repo.waiting_tickets(conn, branch_id) + repo.live_tickets(conn, branch_id)
            if not any(t.day < day for t in tickets):
                return 0
            counters = {c.id: c for c in repo.load_counters(conn, branch_id)}
            changes = lifecycle.expire_day(tickets, dict(counters), day, now,
                                           Actor("system", None, "rollover"))
            stored = []
            before = {t.id: t for t in tickets}
            for ch in changes:
                held = counters.get(ch.ticket.counter_id) if ch.counter is not None else None
                stored += self._store(conn, branch_id, ch, before[ch.ticket.id], held)
        self.publish(branch_id, stored)
        return len(changes)

    # --- counters ------------------------------------------------------------

    def counter_action(self, branch_id: int, counter_number: int, action: str, actor: Actor,
                       agent_user_id: int | None = None) -> Counter:
        now = self.clock()
        with self.db.write() as conn:
            counter = self._counter(conn, branch_id, counter_number)
            change = lifecycle.counter_action(counter, action, now, actor)
            who = agent_user_id if action == "open" else (None if action == "close" else False)
            stored = self._store(conn, branch_id, change, None, counter, who)
            if action == "close":
                waiting = repo.waiting_tickets(conn, branch_id)
                for ch in lifecycle.requeue_targeted(waiting, counter, now, actor):
                    before = next(t for t in waiting if t.id == ch.ticket.id)
                    stored += self._store(conn, branch_id, ch, before, None)
        self.publish(branch_id, stored)
        return change.counter
