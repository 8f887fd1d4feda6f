"""One branch's live picture, kept in memory and moved forward by committed batches.

A ``BranchProjection`` holds what every response, snapshot, summary, phone page
and estimate reads: the branch's configuration, its counters (with who opened
them and since when), the waiting tickets in a ``QueueIndex`` (the one ordering
rule without scanning the queue), the tickets at counters or parked, the last
calls, recent service times and the printers' states. It is built once from the
database and then only applies ``Committed`` batches, in sequence order; it
never reads the database on its own (the registry does, on a gap).

A batch carries the after-states of the rows it changed (tickets, counters) and
the events with their branch sequence numbers, so applying it costs its size,
not the branch's.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from datetime import datetime

from ..db.repo import Branch, CounterRow
from ..engine import numbering
from ..engine.forecast import Learned
from ..engine.model import Counter, CounterState, Event, Service, Ticket, TicketStatus
from ..engine.queue_index import QueueIndex
from .alerts import ALERT_EVENTS, AlertBook

CALLS_KEPT = 12
DURATIONS_KEPT = 500
LIVE = (TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.PARKED)
# event types that change configuration rows (services, the branch: its policy, hours,
# display zones; users' names); a counter's skills travel as its row in the batch
CONFIG_EVENTS = frozenset({"service_edited", "counter_configured", "branch_edited",
                           "user_created", "user_edited"})
CALL_EVENTS = ("ticket_called", "ticket_recalled")


@dataclass(frozen=True)
class Committed:
    """What one transaction committed for one branch: its events in sequence order
    and the rows they changed, as they are after the commit."""

    branch_id: int
    events: tuple  # ((seq, Event), ...), consecutive seqs
    tickets: tuple = ()  # Ticket after-states
    counters: tuple = ()  # CounterRow after-states
    printers: tuple = ()  # printer state dicts after the change
    config: bool = False  # configuration rows changed: reload them
    # outbox rows committed with the batch (print jobs): the committing process's
    # fan-out dispatches them; they do not travel to other processes
    jobs: tuple = ()

    @property
    def first_seq(self) -> int:
        return self.events[0][0] if self.events else 0

    @property
    def last_seq(self) -> int:
        return self.events[-1][0] if self.events else 0


@dataclass(frozen=True)
class Call:
    """One row of a display's call list (a recall is another row). No personal data."""

    seq: int
    kind: str  # called | recalled
    ticket_id: int | None
    code: str
    counter: int
    service_id: int | None
    language: str | None
    at: datetime


@dataclass
class Config:
    branch: Branch
    services: list  # Service, in the branch's order
    agents: dict = field(default_factory=dict)  # user id -> display name


class BranchProjection:
    def __init__(self, config: Config, seq: int, counters: list[CounterRow],
                 waiting: list[Ticket], live: list[Ticket], calls: list[Call],
                 durations: dict[int, list[tuple[datetime, float]]], printers: list[dict],
                 now: datetime, alerts: list[dict] | None = None):
        self.seq = seq
        self.config = config
        self._services = {s.id: s for s in config.services}
        self._by_prefix = {s.prefix: s for s in config.services}
        self.counters: dict[int, CounterRow] = {r.counter.id: r for r in counters}
        self._by_number = {r.counter.number: r.counter.id for r in counters}
        self.day = self.day_of(now)
        self.index = QueueIndex(config.branch.policy, self.day)
        for t in waiting:
            self.index.put(t)
        self.live: dict[int, Ticket] = {t.id: t for t in live}
        self.calls: collections.deque = collections.deque(calls[:CALLS_KEPT], maxlen=CALLS_KEPT)
        self.durations: dict[int, collections.deque] = {
            sid: collections.deque(ds, maxlen=DURATIONS_KEPT) for sid, ds in durations.items()}
        self.printers: dict[str, dict] = {p["name"]: p for p in printers}
        self.alerts = AlertBook(alerts)  # the managers' alert list (readmodel/alerts.py)
        # what today taught the estimator: service times, arrivals, breaks
        self.learned = self.new_learned(now)

    # --- reading --------------------------------------------------------------------------

    @property
    def branch(self) -> Branch:
        return self.config.branch

    @property
    def policy(self):
        return self.config.branch.policy

    @property
    def services(self) -> list[Service]:
        return self.config.services

    def service(self, service_id: int | None) -> Service | None:
        return self._services.get(service_id)

    def service_by_prefix(self, prefix: str) -> Service | None:
        return self._by_prefix.get(prefix)

    def counter_list(self) -> list[Counter]:
        return [r.counter for r in sorted(self.counters.values(), key=lambda r: r.counter.number)]

    def counter(self, counter_id: int | None) -> Counter | None:
        r = self.counters.get(counter_id)
        return r.counter if r else None

    def counter_row(self, number: int) -> CounterRow | None:
        cid = self._by_number.get(number)
        return self.counters.get(cid) if cid is not None else None

    def counter_by_number(self, number: int) -> Counter | None:
        r = self.counter_row(number)
        return r.counter if r else None

    def ticket(self, ticket_id: int) -> Ticket | None:
        """A waiting ticket, or one at a counter or parked (finished ones are not kept)."""
        return self.index.tickets.get(ticket_id) or self.live.get(ticket_id)

    def day_of(self, now: datetime) -> str:
        b = self.config.branch
        return numbering.branch_day(now, b.timezone, b.policy.rollover_hour)

    def at(self, now: datetime) -> "BranchProjection":
        """Move the branch day forward when ``now`` crossed the rollover."""
        day = self.day_of(now)
        if day != self.day:
            self.day = day
            self.index.set_today(day)
            self.learned = self.new_learned(now)  # each day learns afresh (priors first)
        return self

    def priors(self) -> dict:
        return {s.id: (s.prior_minutes, s.prior_sd_minutes) if s.prior_sd_minutes
                else s.prior_minutes for s in self.config.services if s.prior_minutes}

    def new_learned(self, now: datetime) -> Learned:
        return Learned.start(self.policy, opened_at=now, priors=self.priors())

    def recent_durations(self, service_id: int) -> list[float]:
        return [d for _at, d in self.durations.get(service_id, ())]

    # --- moving forward --------------------------------------------------------------------

    def apply(self, batch: Committed, config: Config | None = None) -> None:
        """Apply a batch whose first seq follows this projection's (the registry checks)."""
        if config is not None:
            self.set_config(config)
        after = {t.id: t for t in batch.tickets}
        for t in batch.tickets:
            self._put_ticket(t)
        for row in batch.counters:
            old = self.counters.get(row.counter.id)
            if old is not None and old.counter.state is CounterState.PAUSED \
                    and row.counter.state is CounterState.OPEN and old.since and row.since:
                self.learned = self.learned.pause_ended(old.since, row.since)
            self.counters[row.counter.id] = row
            self._by_number[row.counter.number] = row.counter.id
        for p in batch.printers:
            self.printers[p["name"]] = p
        for seq, e in batch.events:
            self._event(seq, e, after.get(e.ticket_id))
        if batch.events:
            self.seq = batch.last_seq

    def set_config(self, config: Config) -> None:
        priors = self.priors()
        self.config = config
        self._services = {s.id: s for s in config.services}
        self._by_prefix = {s.prefix: s for s in config.services}
        self.index.set_policy(config.branch.policy)
        if self.priors() != priors:  # a new prior: the day's evidence stays, on new priors
            from dataclasses import replace as _replace
            from ..engine.forecast import ServiceTimes
            st = ServiceTimes.from_policy(self.policy, self.priors())
            for sid, law in self.learned.service_times.laws.items():
                for minutes in law.recent:
                    st = st.observe(sid, minutes * 60)
            self.learned = _replace(self.learned, service_times=st)

    def _put_ticket(self, t: Ticket) -> None:
        if t.status is TicketStatus.WAITING:
            self.live.pop(t.id, None)
            self.index.put(t)
        elif t.status in LIVE:
            self.index.remove(t.id)
            self.live[t.id] = t
        else:
            self.index.remove(t.id)
            self.live.pop(t.id, None)

    def learn(self, e: Event, t: Ticket | None) -> None:
        """What the estimator learns from one event (``t``: the ticket after it)."""
        if t is None:
            return
        if e.type == "ticket_issued":
            self.learned = self.learned.issued(t)
        elif e.type == "ticket_finished":
            self.learned = self.learned.finished(t)
        elif e.type == "ticket_no_show":
            self.learned = self.learned.no_show(t, e.at)

    def _event(self, seq: int, e: Event, t: Ticket | None = None) -> None:
        self.learn(e, t)
        if e.type in CALL_EVENTS:
            self.calls.appendleft(Call(
                seq, "recalled" if e.type == "ticket_recalled" else "called", e.ticket_id,
                e.data.get("code", ""), e.data.get("counter_number"), e.service_id,
                e.data.get("language"), e.at))
        elif e.type in ALERT_EVENTS:
            self.alerts.apply(e)
        elif e.type == "ticket_finished" and e.service_id is not None:
            served = e.data.get("served_s")
            if served is not None:
                self.durations.setdefault(
                    e.service_id, collections.deque(maxlen=DURATIONS_KEPT)).append(
                        (e.at, float(served)))
