"""Run a command: one transaction, the projection it reads, retries on a stale read.

Two ways to read:

- optimistic (most commands): read the branch's projection as it is, write with
  version guards; if another writer got there first the guard matches nothing,
  the projection catches up and the command runs again (``stats["stale"]``
  counts those lost races);
- exact (issuing): take the branch's sequence lock first, bring the projection to
  that sequence inside the transaction, then decide. The people ahead and the
  estimate printed on a ticket are computed on the exact queue.
"""
from __future__ import annotations

import collections
from functools import partial
from typing import Callable

from ..db import repo
from ..db.database import after_commit
from ..engine.errors import Conflict, DomainError, NotFound
from .uow import Stale, UnitOfWork

MAX_ATTEMPTS = 50


class Writer:
    def __init__(self, db, clock: Callable, projections):
        self.db = db
        self.clock = clock
        self.projections = projections
        self.stats: collections.Counter = collections.Counter()

    def run(self, branch_id: int, fn: Callable, *, exact: bool = False,
            attempts: int = MAX_ATTEMPTS, prepare: Callable | None = None,
            events: int = 0, early: Callable | None = None):
        """``fn(uow, projection)`` inside a write transaction; returns ``(result, batch)``
        once committed, applied to the read model and told to its listeners.

        ``prepare(projection, now)``, when given, runs first, outside the transaction
        (and outside SQLite's writer lock): the costly part of a decision (who is
        next) does not hold up the other counters; its answer is passed on as
        ``fn(uow, projection, prepared)`` and the version guards catch it if it went
        stale meanwhile.

        ``exact`` with ``events = n``: the command knows it records n events; their
        numbers are taken with the branch lock (one statement instead of two).

        ``exact`` with ``early(uow, projection)``: runs inside the transaction before
        the branch's lock is taken (on the projection this process holds, as it is;
        None before the branch's first use), its answer passed on
        like ``prepare``'s. On PostgreSQL that lock is held until the commit and every
        statement under it is a round trip the branch's other writers wait through:
        work that needs no exact queue (issuing: the service's next number, a row lock
        of its own) is done before it. ``fn`` must check that answer still holds on the
        exact projection (raise ``Stale`` if not)."""
        for _ in range(attempts):
            now = self.clock()
            prepared = None
            if prepare is not None:
                prepared = prepare(self.projections.get(branch_id), now)
            try:
                with self.db.write() as conn:
                    uow = UnitOfWork(conn, branch_id, now)
                    if exact:
                        if early is not None:
                            prepared = early(uow, self.projections.held(branch_id))
                        last = repo.reserve_seq(conn, branch_id, events)
                        if last is None:
                            raise NotFound("branch_not_found", branch=branch_id)
                        seq = uow.locked_seq = last - events
                        uow.reserved = events
                        p = self.projections.ensure(branch_id, seq, conn)
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
            except Stale:
                self.stats["stale"] += 1
                self.projections.refresh(branch_id)
                continue
            self.projections.notify(batch)
            return result, batch
        raise Conflict("queue_busy")
