"""The one write path: a unit of work per command and branch.

A command opens a write transaction, reads what it needs from the branch's
projection (in memory), asks the engine for the change, and records it here:

- state rows are written with their version as the guard (a row changed by
  someone else since the projection read it matches nothing: ``Stale``, and the
  command retries on a fresher projection);
- the events get the branch's next sequence numbers and are inserted in the same
  transaction;
- side effects are rows of the same transaction too (a print job is an outbox
  row: committed with the ticket, dispatched after);
- after the commit, the ``Committed`` batch goes to the read model (still inside
  the writer lock) and then to the fan-out, which is the only place that emits.

Nothing here knows HTTP: errors are domain errors with a code.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from ..db import repo
from ..db.repo import CounterRow
from ..engine.lifecycle import Change
from ..engine.model import Counter, Event, Ticket
from ..readmodel.projection import Committed


class Stale(Exception):
    """A guarded write matched no row: the projection was behind the database."""


@dataclass
class UnitOfWork:
    conn: object
    branch_id: int
    now: datetime
    locked_seq: int | None = None  # the sequence read under the branch lock (exact commands)
    reserved: int = 0  # event numbers taken with the lock (locked_seq + 1 ...)
    # of those, how many the branch's sequence has not moved past yet (a command of a
    # group after the first: the lock was held already, writer.py): the statement that
    # writes the first event moves it, in the same round trip
    unbumped: int = 0
    stored: int = 0  # events already inserted with their row (``insert_issued``)
    events: list = field(default_factory=list)
    tickets: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    printers: list = field(default_factory=list)
    jobs: list = field(default_factory=list)  # print jobs committed here (outbox rows)
    config: bool = False
    # PostgreSQL under the branch's lock (``defer``): the guarded rows are written with
    # the events by ``finish``, in one statement (repo.save_step_locked); id ->
    # (before, after[, at, agent]), the first before (its version the guard) and the
    # last after of a row saved twice
    defer: bool = False
    pending_tickets: dict = field(default_factory=dict)
    pending_counters: dict = field(default_factory=dict)

    # --- state ------------------------------------------------------------------------

    def save_ticket(self, before: Ticket, after: Ticket) -> Ticket:
        after = replace(after, version=before.version + 1)
        if self.defer:
            first = self.pending_tickets.get(after.id, (before,))[0]
            self.pending_tickets[after.id] = (first, after)
        elif not repo.save_ticket(self.conn, before, after):
            raise Stale(f"ticket {before.id}")
        self.tickets[after.id] = after
        return after

    def save_counter(self, before: CounterRow, after: Counter,
                     agent_user_id: int | None | bool = False) -> CounterRow:
        after = replace(after, version=before.counter.version + 1)
        if self.defer:
            first, _a, _at, agent = self.pending_counters.get(
                after.id, (before.counter, None, None, False))
            self.pending_counters[after.id] = (
                first, after, self.now, agent if agent_user_id is False else agent_user_id)
        elif not repo.save_counter(self.conn, before.counter, after, self.now, agent_user_id):
            raise Stale(f"counter {before.counter.number}")
        row = CounterRow(after, before.agent_user_id if agent_user_id is False else agent_user_id,
                         self.now)
        self.counters[after.id] = row
        return row

    def record(self, change: Change, ticket_before: Ticket | None = None,
               counter_before: CounterRow | None = None,
               agent_user_id: int | None | bool = False) -> Change:
        """Write an engine change (guarded) and keep its events."""
        ticket, counter = change.ticket, change.counter
        if ticket is not None and ticket_before is not None:
            ticket = self.save_ticket(ticket_before, ticket)
        if counter is not None and counter_before is not None:
            counter = self.save_counter(counter_before, counter, agent_user_id).counter
        self.events.extend(change.events)
        return Change(ticket, counter, change.events)

    def add(self, *events: Event) -> None:
        self.events.extend(events)

    def insert_issued(self, ticket: Ticket, event: Event, idempotency_key: str | None,
                      printed_wait: int | None, printed_ahead: int | None) -> Ticket:
        """A new ticket and its event (exact commands, first event: its number is
        ``locked_seq + 1``), in one statement on PostgreSQL; on SQLite the event goes
        with the others at ``finish``. Returns the ticket with its id."""
        if self.locked_seq is None or self.events:
            raise RuntimeError("insert_issued: an exact command's first event only")
        tid, written, bumped = repo.insert_issued(
            self.conn, self.branch_id, ticket, idempotency_key, printed_wait, printed_ahead,
            self.locked_seq + 1, event, self.unbumped)
        if self.unbumped:
            self._check_bumped(bumped)
        ticket = replace(ticket, id=tid)
        self.tickets[tid] = ticket
        self.events.append(replace(event, ticket_id=tid))
        self.stored = 1 if written else 0
        return ticket

    # --- commit -------------------------------------------------------------------------

    def finish(self) -> Committed:
        """Number and insert the events (last statement before the commit)."""
        n = len(self.events)
        if self.reserved:
            if n != self.reserved:
                raise RuntimeError(f"{self.reserved} event numbers taken, {n} events recorded")
            if self.unbumped:
                self._check_bumped(repo.reserve_seq(self.conn, self.branch_id, self.unbumped))
            first = self.locked_seq + 1
            stored = [(first + i, e) for i, e in enumerate(self.events[:self.stored])]
            stored += repo.insert_events(self.conn, self.branch_id, first + self.stored,
                                         self.events[self.stored:])
            return self._committed(stored)
        if self.pending_tickets or self.pending_counters:  # deferred: all in one statement
            stored = repo.save_step_locked(
                self.conn, self.branch_id, list(self.pending_tickets.values()),
                list(self.pending_counters.values()), self.locked_seq + 1, self.events)
            if stored is None:
                raise Stale("a ticket, a counter or the sequence changed since the projection")
            return self._committed(stored)
        if n == 0:
            return Committed(self.branch_id, ())
        if self.locked_seq is not None:  # the lock is held: the numbers follow it
            stored = repo.insert_events_locked(self.conn, self.branch_id,
                                               self.locked_seq + 1, self.events)
            if stored is None:
                raise Stale("the branch's sequence moved since the projection")
            return self._committed(stored)
        last = repo.reserve_seq(self.conn, self.branch_id, n)
        stored = repo.insert_events(self.conn, self.branch_id, last - n + 1, self.events)
        return self._committed(stored)

    def _check_bumped(self, bumped: int | None) -> None:
        """The sequence moved past this command's events: it must land where the
        projection said (it was at ``locked_seq``), else the events are misnumbered."""
        if bumped != self.locked_seq + self.unbumped:
            raise Stale("the branch's sequence moved since the projection")
        self.unbumped = 0

    def _committed(self, stored) -> Committed:
        return Committed(self.branch_id, tuple(stored), tuple(self.tickets.values()),
                         tuple(self.counters.values()), tuple(self.printers), self.config,
                         tuple(self.jobs))
