"""Run a command: one transaction, the projection it reads, retries on a stale read.

Two ways to read:

- optimistic (most commands): read the branch's projection as it is, write with
  version guards; if another writer got there first the guard matches nothing,
  the projection catches up and the command runs again (``stats["stale"]``
  counts those lost races);
- exact (issuing): take the branch's sequence lock first, bring the projection to
  that sequence inside the transaction, then decide. The people ahead and the
  estimate printed on a ticket are computed on the exact queue.

The commands at a counter (call-next, start, finish, ...) run exact too where the
database locks per branch (``lock_first``: PostgreSQL). There several processes
write the same branch, and a process's projection learns of the others' batches
over the message queue a little later: optimistic, a counter whose last step went
through another process loses its first try (measured in bench-national, 30
branches at 1x: about one command in four, each a rolled-back transaction and a
refresh read). Taking the lock first costs a wait behind the branch's other
writers and never a retry. On SQLite (one writer for the whole file) they stay
optimistic: the decision is made outside the writer lock, which serves every branch.

In one process, a branch's transactions queue on a lock of the writer's (per
branch) before they take a pooled connection: the 36 counters of a branch clicking
at once wait there, not inside the database behind the branch row's lock each
holding a connection (measured: that emptied the pool, and every other branch of
the process waited too). None of them decides on a projection another is about to
move, so in one process no race is lost at all.
"""
from __future__ import annotations

import collections
import json
import logging
import threading
import time
from functools import partial
from typing import Callable

from ..db import repo
from ..db.database import after_commit
from ..engine.errors import Conflict, DomainError, NotFound
from .uow import Stale, UnitOfWork

MAX_ATTEMPTS = 50
STATS_LOG_S = 2.0  # at most one stats line per this many seconds (when one is due)

log = logging.getLogger("tabour.writer")


class Writer:
    def __init__(self, db, clock: Callable, projections):
        self.db = db
        self.clock = clock
        self.projections = projections
        # commands, stale (lost races, each a retry), exact (ran under the branch lock),
        # refused (queue_busy: MAX_ATTEMPTS lost races); in ms summed over commands:
        # queued (waiting for the branch's other commands in this process),
        # transaction (from taking a connection to the read model applying the
        # commit), told (the listeners: fan-out, estimator, ...); of an exact
        # transaction: connect (pool and BEGIN), locked (waiting for the branch row),
        # caught_up (the projection brought to the lock's sequence)
        self.stats: collections.Counter = collections.Counter()
        self.lock_first = not getattr(db, "is_sqlite", True)
        self._logged_at = 0.0
        self._logged: dict = {}
        self._branch_locks: dict[int, threading.RLock] = {}
        self._guard = threading.Lock()

    def run(self, branch_id: int, fn: Callable, *, exact: bool = False,
            attempts: int = MAX_ATTEMPTS, prepare: Callable | None = None,
            events: int = 0, early: Callable | None = None):
        """``fn(uow, projection)`` inside a write transaction; returns ``(result, batch)``
        once committed, applied to the read model and told to its listeners.

        ``prepare(projection, now)``, when given, runs first, outside the transaction
        (and outside SQLite's writer lock; inside the branch's queue of this process): the costly part of a decision (who is
        next) does not hold up the other counters; its answer is passed on as
        ``fn(uow, projection, prepared)`` and the version guards catch it if it went
        stale meanwhile.

        ``exact`` with ``events = n``: the command knows it records n events; their
        numbers are taken with the branch lock (one statement instead of two). With
        ``exact``, ``prepare`` runs inside the transaction, on the exact projection.

        ``exact`` with ``early(uow, projection)``: runs inside the transaction before
        the branch's lock is taken (on the projection this process holds, as it is;
        None before the branch's first use), its answer passed on
        like ``prepare``'s. On PostgreSQL that lock is held until the commit and every
        statement under it is a round trip the branch's other writers wait through:
        work that needs no exact queue (issuing: the service's next number, a row lock
        of its own) is done before it. ``fn`` must check that answer still holds on the
        exact projection (raise ``Stale`` if not)."""
        self.stats["commands"] += 1
        if exact:
            self.stats["exact"] += 1
        try:
            return self._run(branch_id, fn, exact, attempts, prepare, events, early)
        finally:
            self.log_stats()

    def _run(self, branch_id, fn, exact, attempts, prepare, events, early):
        for _ in range(attempts):
            # one transaction per branch at a time in this process (module docstring)
            t0 = time.perf_counter()
            with self._branch_lock(branch_id):
                t1 = time.perf_counter()
                try:
                    result, batch = self._attempt(branch_id, fn, exact, prepare, events,
                                                  early)
                except Stale:
                    self.stats["stale"] += 1
                    stale = True
                else:
                    stale = False
                t2 = time.perf_counter()
            self.stats["queued_ms"] += (t1 - t0) * 1000
            self.stats["transaction_ms"] += (t2 - t1) * 1000
            if stale:
                self.projections.refresh(branch_id)
                continue
            self.projections.notify(batch)
            self.stats["told_ms"] += (time.perf_counter() - t2) * 1000
            return result, batch
        self.stats["refused"] += 1
        raise Conflict("queue_busy")

    def _attempt(self, branch_id, fn, exact, prepare, events, early=None):
        """One try in one transaction; raises Stale when a guard matched nothing."""
        now = self.clock()
        prepared = None
        if prepare is not None and not exact:
            prepared = prepare(self.projections.get(branch_id), now)
        t0 = time.perf_counter()
        with self.db.write() as conn:
            uow = UnitOfWork(conn, branch_id, now)
            if exact:
                if early is not None:
                    prepared = early(uow, self.projections.held(branch_id))
                t1 = time.perf_counter()
                last = repo.reserve_seq(conn, branch_id, events)
                if last is None:
                    raise NotFound("branch_not_found", branch=branch_id)
                t2 = time.perf_counter()
                seq = uow.locked_seq = last - events
                uow.reserved = events
                p = self.projections.ensure(branch_id, seq, conn)
                t3 = time.perf_counter()
                self.stats["connect_ms"] += (t1 - t0) * 1000
                self.stats["locked_ms"] += (t2 - t1) * 1000
                self.stats["caught_up_ms"] += (t3 - t2) * 1000
                if prepare is not None:
                    prepared = prepare(p, now)
            else:
                p = self.projections.get(branch_id)
            try:
                result = (fn(uow, p, prepared)
                          if prepare is not None or early is not None else fn(uow, p))
            except DomainError:
                # a refusal decided on a projection that missed a batch (another
                # process's, still on its way or lost with the message queue)
                # may be wrong: refuse only on the state the database holds
                if not exact and repo.current_seq(conn, branch_id) > p.seq:
                    raise Stale("the branch moved since the projection")
                raise
            batch = uow.finish()
            after_commit(conn, partial(self.projections.committed, batch))
        return result, batch

    def _branch_lock(self, branch_id: int) -> threading.RLock:
        with self._guard:
            lk = self._branch_locks.get(branch_id)
            if lk is None:
                lk = self._branch_locks[branch_id] = threading.RLock()
            return lk

    def log_stats(self, force: bool = False) -> None:
        """One line now and then when something changed, for whoever measures a
        deployment (bench-national reads the last one of each process's log)."""
        now = time.monotonic()
        if not force and now - self._logged_at < STATS_LOG_S:
            return
        self._logged_at = now
        current = {k: round(self.stats[k]) for k in ("commands", "exact", "stale", "refused",
                                                    "queued_ms", "transaction_ms", "told_ms",
                                                    "connect_ms", "locked_ms", "caught_up_ms")}
        if current != self._logged:
            self._logged = current
            log.info("writer stats %s", json.dumps(current))
