"""The waiting tickets of one branch, kept sorted for the one ordering rule.

``ordering.py`` says who is next by sorting every waiting ticket; that costs the
length of the queue on every click. This index keeps the same tickets in small
sorted runs ("buckets": one per service, priority class, target counter and
front flag, sorted by arrival then id) so that a counter's next ticket, its
first k, and any ticket's people ahead cost a few binary searches per service
the counter serves, whatever the length of the queue.

It is the same rule, not a second one: every answer is the key of
``ordering.sort_key`` built bucket by bucket, and the tests compare this index
with ``ordering`` on random queues (hypothesis), ties included.

Pure: time is passed in; nothing is read or stored outside the object.
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from datetime import datetime, timedelta
from typing import Iterable, Iterator

from .model import Counter, CounterState, Policy, Ticket, TicketStatus
from .ordering import _normal_turn, serving_counters

_INF = float("inf")

# a bucket: (service id, priority class?, target counter id or None, front?)
BucketKey = tuple


def _entry(t: Ticket) -> tuple:
    return (t.queued_at, t.id if t.id is not None else _INF)


def _stream(head: tuple, run: list, lo: int, hi: int):
    for i in range(lo, hi):
        yield head, run[i]


class QueueIndex:
    def __init__(self, policy: Policy, today: str):
        self.policy = policy
        self.today = today
        self.tickets: dict[int, Ticket] = {}  # every waiting ticket, any day
        self._buckets: dict[BucketKey, list] = {}
        self._by_service: dict[int, list[BucketKey]] = {}

    # --- keeping it current ---------------------------------------------------------

    def _eligible_day(self, t: Ticket) -> bool:
        return self.policy.keep_overnight or t.day == self.today

    @staticmethod
    def _key(t: Ticket) -> BucketKey:
        return (t.service_id, t.priority.is_priority, t.target_counter_id, bool(t.front))

    def put(self, t: Ticket) -> None:
        """Add or replace a waiting ticket (a ticket in any other status is removed)."""
        self.remove(t.id)
        if t.status is not TicketStatus.WAITING:
            return
        self.tickets[t.id] = t
        if self._eligible_day(t):
            key = self._key(t)
            run = self._buckets.get(key)
            if run is None:
                run = self._buckets[key] = []
                self._by_service.setdefault(t.service_id, []).append(key)
            entry = _entry(t)
            if not run or run[-1] < entry:
                run.append(entry)  # the usual case: the newest ticket goes last
            else:
                insort(run, entry)

    def remove(self, ticket_id: int | None) -> Ticket | None:
        t = self.tickets.pop(ticket_id, None)
        if t is None or not self._eligible_day(t):
            return t
        run = self._buckets.get(self._key(t))
        if run:
            i = bisect_left(run, _entry(t))
            if i < len(run) and run[i][1] == t.id:
                del run[i]
        return t

    def set_policy(self, policy: Policy) -> None:
        if policy != self.policy:
            self.policy = policy
            self._rebuild()

    def set_today(self, today: str) -> None:
        if today != self.today:
            self.today = today
            self._rebuild()

    def _rebuild(self) -> None:
        everything = list(self.tickets.values())
        self.tickets.clear()
        self._buckets.clear()
        self._by_service.clear()
        for t in everything:
            self.put(t)

    def __len__(self) -> int:
        return len(self.tickets)

    # --- counts ------------------------------------------------------------------------

    def waiting(self, service_id: int) -> int:
        """Tickets of this service that a counter may call today."""
        return sum(len(self._buckets[k]) for k in self._by_service.get(service_id, ()))

    def oldest(self, service_id: int) -> datetime | None:
        firsts = [self._buckets[k][0][0] for k in self._by_service.get(service_id, ())
                  if self._buckets[k]]
        return min(firsts, default=None)

    # --- the ordering rule, bucket by bucket ----------------------------------------------

    def _cutoff(self, now: datetime) -> datetime | None:
        """Normal tickets queued at or before this time count as priority (wait bound)."""
        if self.policy.starvation_rule in ("wait_bound", "both"):
            return now - timedelta(minutes=self.policy.starvation_wait_minutes)
        return None

    def _runs(self, counter: Counter, now: datetime):
        """(tier, targeted, rank, front, run, lo, hi): the sorted slices this counter
        may call, each with the fixed part of its tickets' sort key."""
        cutoff = self._cutoff(now)
        for sid, rank in counter.services.items():
            for key in self._by_service.get(sid, ()):
                _s, prio, target, front = key
                if target is not None and target != counter.id:
                    continue
                run = self._buckets[key]
                if not run:
                    continue
                targeted = 0 if target == counter.id else 1
                fr = 0 if front else 1
                if prio:
                    yield (0, targeted, rank, fr, run, 0, len(run))
                elif cutoff is None:
                    yield (1, targeted, rank, fr, run, 0, len(run))
                else:
                    split = bisect_left(run, (cutoff, _INF))
                    if split:
                        yield (0, targeted, rank, fr, run, 0, split)
                    if split < len(run):
                        yield (1, targeted, rank, fr, run, split, len(run))

    def _normal_turn(self, counter: Counter, now: datetime, also: Ticket | None = None) -> bool:
        if not _normal_turn(counter, self.policy):
            return False
        if any(r[0] == 1 for r in self._runs(counter, now)):
            return True
        return also is not None and self._tier(also, now) == 1

    def _tier(self, t: Ticket, now: datetime) -> int:
        if t.priority.is_priority:
            return 0
        cutoff = self._cutoff(now)
        return 0 if cutoff is not None and t.queued_at <= cutoff else 1

    def order(self, counter: Counter, now: datetime) -> Iterator[Ticket]:
        """Tickets this counter may call, in the order it will call them (lazy)."""
        flip = self._normal_turn(counter, now)
        streams = []
        for tier, targeted, rank, fr, run, lo, hi in self._runs(counter, now):
            head = ((1 - tier) if flip else tier, targeted, rank, fr)
            streams.append(_stream(head, run, lo, hi))
        for _head, (_q, tid) in heapq.merge(*streams):
            yield self.tickets[tid]

    def first(self, counter: Counter, now: datetime, k: int) -> list[Ticket]:
        out = []
        for t in self.order(counter, now):
            out.append(t)
            if len(out) >= k:
                break
        return out

    def next_for(self, counter: Counter, now: datetime) -> Ticket | None:
        got = self.first(counter, now, 1)
        return got[0] if got else None

    def eligible_count(self, counter: Counter, now: datetime) -> int:
        return sum(hi - lo for *_h, _run, lo, hi in self._runs(counter, now))

    def _eligible(self, t: Ticket, counter: Counter) -> bool:
        return (counter.serves(t.service_id)
                and t.target_counter_id in (None, counter.id) and self._eligible_day(t))

    def ahead_at(self, t: Ticket, counter: Counter, now: datetime) -> int:
        """How many tickets this counter calls before ``t`` (``t`` need not be stored)."""
        flip = self._normal_turn(counter, now, also=t)
        tier = self._tier(t, now)
        mine = ((1 - tier) if flip else tier,
                0 if t.target_counter_id == counter.id else 1,
                counter.services[t.service_id], 0 if t.front else 1)
        entry = _entry(t)
        n = 0
        for tr, targeted, rank, fr, run, lo, hi in self._runs(counter, now):
            head = ((1 - tr) if flip else tr, targeted, rank, fr)
            if head < mine:
                n += hi - lo
            elif head == mine:
                n += max(0, bisect_left(run, entry, lo, hi) - lo)
        return n

    def people_ahead(self, t: Ticket, counters: Iterable[Counter], now: datetime) -> int:
        """As ``ordering.people_ahead``: the position in the order of the counter that
        reaches the ticket soonest."""
        best = None
        for counter in serving_counters(t.service_id, counters):
            if not self._eligible(t, counter):
                continue
            n = self.ahead_at(t, counter, now)
            best = n if best is None else min(best, n)
        if best is not None:
            return best
        return len(self.tickets) - (1 if t.id in self.tickets else 0)

    def counters_serving(self, service_id: int, counters: Iterable[Counter]) -> int:
        return sum(1 for c in serving_counters(service_id, counters)
                   if c.state is not CounterState.CLOSED)
