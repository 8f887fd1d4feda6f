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

In one process, a branch's transactions queue in the writer (per branch) before
they take a pooled connection: the 36 counters of a branch clicking at once wait
there, not inside the database behind the branch row's lock each holding a
connection (measured: that emptied the pool, and every other branch of the process
waited too). None of them decides on a projection another is about to
move, so in one process no race is lost at all.

Group commit: while a branch's command commits (SQLite's fsync runs off the gevent
loop, ``db.database.off_loop``; PostgreSQL's WAL flush is a network wait), the ones
behind it queue; the next to run takes every ``group`` command queued behind it (up
to ``GROUP_MAX``) into ONE transaction (on SQLite each in its savepoint): one commit,
one fsync for all. A command's batch is applied to the projection once written, so
the next one decides on it (people ahead, who is next) without a read;
its listeners are told and it is published only after the commit. A refused command
leaves nothing (its number given back: its savepoint, or on PostgreSQL the group's
transaction, rolled back; below) and the others commit; a failed
commit fails them all, and the projection, then ahead of the database, is dropped
and read again. (Between a savepoint's release and the commit, a few ms, a reader of
the projection, such as a connecting screen's snapshot, may see the command already;
nothing is emitted before the commit.) Measured (bench ``write_path``, 8 clients
issuing in one branch, three runs each way): on SQLite one commit for ~4 tickets,
709 / 871 / 690 tickets/s against 519 / 575 / 630 without groups (the commit off the
loop alone costs CPU: 1.3 ms a ticket against 1.0-1.2 with groups).

Group commit is on with both databases (``TABOUR_GROUP_COMMIT=off`` turns it off,
settings.py). On PostgreSQL a group has no savepoints: SAVEPOINT and RELEASE were two
round trips a command, under the branch's lock, and made groups no faster than single
commands there (measured at an earlier stop: 430 against 405 tickets/s, ~10 %
more CPU a ticket). Instead, a command that fails in a PostgreSQL group (a refusal, a
lock it would wait for, a stale read) rolls the whole transaction back: the group runs
again at once without it, and it runs alone after (``stats["redone"]``). And after
the group's first command the transaction holds the branch's lock and the projection
holds every batch since, so the next ones take no lock statement: the statement that
writes a command's first event moves the sequence too, and checks that it lands
where the projection said (``Stale`` if not, and the group runs again). A grouped
issue is then two statements (its number; its ticket, event and the sequence) where
alone it is five round trips (BEGIN, number, lock, ticket and event, COMMIT).
Measured (bench ``write_path``'s runs, one process, 8 clients issuing in one branch,
alternated with the code before, 2026-11-30): 431-450 tickets/s at 1.64-1.77 ms of
server CPU a ticket, against 366-382 (2.05-2.12 ms) with savepoints and 288-325
(2.1-2.4 ms) without groups; five agents serving, 104-106 visitors/s at 6.4-6.7 ms
against 77-91 at 8.5-8.7 ms without groups.

When on, the group's first command
takes the branch's lock as it would alone; the others then take row locks (the
service's number, a ticket) while the group holds the branch's, the reverse of
another process's single command (which takes its service's number first, then
waits for the branch): so they wait at most ``GROUP_LOCK_WAIT_MS`` for a row lock,
and on a timeout (or a deadlock) leave the group and run alone
(``stats["bounced"]``), never waiting for each other until the deadlock check.
"""
from __future__ import annotations

import collections
import contextvars
import json
import logging
import threading
import time
from functools import partial
from typing import Callable

from sqlalchemy.exc import DBAPIError, IntegrityError

from ..db import repo
from ..db.database import after_commit
from ..engine.errors import Busy, Conflict, DomainError, NotFound
from ..readmodel.projection import CONFIG_EVENTS
from .uow import Stale, UnitOfWork

MAX_ATTEMPTS = 50
GROUP_MAX = 32  # commands of one branch sharing a transaction, at most
GROUP_LOCK_WAIT_MS = 20  # PostgreSQL: how long a grouped command waits for a row lock
STATS_LOG_S = 2.0  # at most one stats line per this many seconds (when one is due)
# A command of an HTTP request still queued behind its branch's others after this long
# is refused (Busy, HTTP 503, nothing done) instead of run: its caller has waited 10 s,
# a page has shown "reconnecting" and will send it again with the same Idempotency-Key,
# a script has likely given up. Measured in bench-national at 5x (2026-11-30): ~6,600
# requests timed out at the client in 40 s, each then run for nobody, and the work for
# them kept the next ones waiting as long. Every route of api/registry.py is such a
# request (an offline site's sync too: it sends the same batch again); commands of
# socket events (a printer agent's report waits for its answer however long it takes)
# and of housekeeping have no deadline.
QUEUE_DEADLINE_S = 10.0
_CALLER_GIVES_UP: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tabour_caller_gives_up", default=False)


class caller_gives_up:
    """Inside it (an HTTP request, api/registry.py), this greenlet's commands are
    refused when they queued longer than ``QUEUE_DEADLINE_S``."""

    def __enter__(self):
        self._token = _CALLER_GIVES_UP.set(True)
        return self

    def __exit__(self, *exc):
        _CALLER_GIVES_UP.reset(self._token)
        return False

log = logging.getLogger("tabour.writer")


class Writer:
    def __init__(self, db, clock: Callable, projections, groups: bool = True):
        self.db = db
        self.clock = clock
        self.projections = projections
        # commands, stale (lost races, each a retry), exact (ran under the branch lock),
        # refused (queue_busy: MAX_ATTEMPTS lost races), expired (queued longer than
        # QUEUE_DEADLINE_S: refused as Busy, not run), nobody_waits (call-next answered
        # from a read, no transaction: tickets.py); in ms summed over commands:
        # queued (waiting for the branch's other commands in this process),
        # transaction (from taking a connection to the read model applying the
        # commit), told (the listeners: fan-out, estimator, ...); of an exact
        # transaction: connect (pool and BEGIN), locked (waiting for the branch row),
        # caught_up (the projection brought to the lock's sequence)
        self.stats: collections.Counter = collections.Counter()
        self.lock_first = not getattr(db, "is_sqlite", True)
        self.groups = groups  # group commit (module docstring)
        self._logged_at = 0.0
        self._logged: dict = {}
        self._lanes: dict[int, _Lane] = {}
        self._guard = threading.Lock()

    def run(self, branch_id: int, fn: Callable, *, exact: bool = False,
            attempts: int = MAX_ATTEMPTS, prepare: Callable | None = None,
            events: int = 0, early: Callable | None = None, group: bool = False):
        """``fn(uow, projection)`` inside a write transaction; returns ``(result, batch)``
        once committed, applied to the read model and told to its listeners.

        ``prepare(projection, now)``, when given, runs first, outside the transaction
        (and outside SQLite's writer lock; inside the branch's queue of this process):
        the costly part of a decision (who is next) does not hold up the other
        counters; its answer is passed on as ``fn(uow, projection, prepared)`` and the
        version guards catch it if it went stale meanwhile. (In a group, below, it runs
        inside the shared transaction.)

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
        exact projection (raise ``Stale`` if not).

        ``group``: the command may share its transaction with the branch's other
        ``group`` commands queued behind the one running (group commit, module
        docstring). Only for commands whose whole effect is rows of the transaction
        and events that change no configuration (the counter and ticket steps)."""
        self.stats["commands"] += 1
        if exact:
            self.stats["exact"] += 1
        try:
            return self._run(branch_id, _Job(fn, exact, prepare, events, early,
                                             group and self.groups,
                                             _CALLER_GIVES_UP.get()), attempts)
        finally:
            self.log_stats()

    def _run(self, branch_id: int, job: "_Job", attempts: int):
        lane = self._lane(branch_id)
        for _ in range(attempts):
            job.reset()
            t0 = job.queued_at = time.perf_counter()
            if self._enter(lane, job):
                self._lead(branch_id, lane, t0)
            else:
                job.wake.wait()
                if job.outcome is None:  # the one before handed us the branch: lead
                    self._lead(branch_id, lane, t0)
            kind, value = job.outcome
            if kind == "done":
                return value
            if kind == "error":
                raise value
            if kind == "again":  # out of a group: in a transaction of its own now
                continue
            self.stats["stale"] += 1  # a lost race: catch up and queue again
            self.projections.refresh(branch_id)
        self.stats["refused"] += 1
        raise Conflict("queue_busy")

    # --- the branch's queue in this process, and group commit ------------------------------

    def _lane(self, branch_id: int) -> "_Lane":
        with self._guard:
            lane = self._lanes.get(branch_id)
            if lane is None:
                lane = self._lanes[branch_id] = _Lane()
            return lane

    def _enter(self, lane: "_Lane", job: "_Job") -> bool:
        """Queue ``job``; True when nobody runs the branch's commands now (lead)."""
        with self._guard:
            lane.pending.append(job)
            if lane.busy:
                return False
            lane.busy = True
            return True

    def _lead(self, branch_id: int, lane: "_Lane", t0: float) -> None:
        """Run the first queued command, with the ``group`` ones queued right behind it
        when it is one too, in one transaction; then hand the branch on, tell the
        listeners, and wake the group."""
        t1 = time.perf_counter()
        with self._guard:
            group = [lane.pending.popleft()]
            while (group[0].group and lane.pending and lane.pending[0].group
                   and len(group) < GROUP_MAX):
                group.append(lane.pending.popleft())
        expired = [job for job in group
                   if job.gives_up and t1 - job.queued_at > QUEUE_DEADLINE_S]
        for job in expired:
            job.outcome = ("error", Busy())
        group = [job for job in group if job.outcome is None]
        self.stats["expired"] += len(expired)
        try:
            if len(group) == 1:
                self._alone(branch_id, group[0])
            elif group:
                self._together(branch_id, group)
        finally:
            with self._guard:
                if lane.pending:
                    lane.pending[0].wake.set()  # its outcome is None: it leads next
                else:
                    lane.busy = False
        t2 = time.perf_counter()
        self.stats["queued_ms"] += (t1 - t0) * 1000
        self.stats["transaction_ms"] += (t2 - t1) * 1000
        for job in expired:
            job.wake.set()
        for job in group:  # in commit order
            try:
                if job.outcome[0] == "done":
                    self.projections.notify(job.outcome[1][1])
            except Exception:  # a listener never keeps the group's callers waiting
                log.exception("telling the listeners failed")
            finally:
                job.wake.set()
        self.stats["told_ms"] += (time.perf_counter() - t2) * 1000

    def _alone(self, branch_id: int, job: "_Job") -> None:
        try:
            job.outcome = ("done", self._attempt(branch_id, job))
        except Stale:
            job.outcome = ("stale", None)
        except BaseException as e:  # the caller's to raise (a refusal, the database down)
            job.outcome = ("error", e)

    def _attempt(self, branch_id, job):
        """One try in one transaction; raises Stale when a guard matched nothing."""
        now = self.clock()
        prepared = None
        if job.prepare is not None and not job.exact:
            prepared = job.prepare(self.projections.get(branch_id), now)
        with self.db.write(offload=self.groups) as conn:
            result, batch = self._step(conn, branch_id, job, now, prepared)
            after_commit(conn, partial(self.projections.committed, batch))
        return result, batch

    def _together(self, branch_id: int, group: list) -> None:
        """Group commit: one commit (one fsync on SQLite, one WAL flush on PostgreSQL)
        for the group. A command's batch is applied to the projection as soon as it is
        written, so the next one decides on it (the exact ones find the projection at
        their lock's sequence: no read). Its listeners are told, and it is published to
        the other processes, only after the commit.

        A command that fails in the group (a refusal, a lock it would wait for, a change
        of the configuration) leaves nothing: on SQLite each command runs in its
        savepoint, rolled back alone; on PostgreSQL a savepoint and its release are two
        round trips a command under the branch's lock (measured, module docstring), so
        there is none: the transaction rolls back and the group runs again without the
        failing command, which runs alone after it (``stats["redone"]``). If the commit
        (or the transaction) fails, every command of the group gets the error and the
        projection, ahead of the database, is dropped: the next reader loads it afresh."""
        self.stats["groups"] += 1
        self.stats["grouped"] += len(group)
        todo = list(group)
        stale_once = False
        while todo:
            failed, stale = self._group_once(branch_id, todo)
            if failed is None:
                return
            self.stats["redone"] += 1
            if stale and not stale_once:
                # the projection was off (it is read afresh now): once more with every
                # command, in order
                stale_once = True
            else:  # the command's own failure: it runs alone, where it gets its answer
                failed.group = False
                failed.outcome = ("again", None)
                todo.remove(failed)
            for job in todo:
                job.outcome = None

    def _group_once(self, branch_id: int, group: list):
        """One transaction for ``group``. Where there are no savepoints (PostgreSQL), a
        command that fails rolls it back: returns that command and whether it failed
        on a stale read, its outcome unset. Else ``(None, False)``, each command's
        outcome set."""
        savepoints = self.db.is_sqlite
        applied = []
        failed = None
        try:
            with self.db.write(offload=True) as conn:
                for i, job in enumerate(group):
                    if i == 1 and not self.db.is_sqlite:
                        # the first command took the branch's lock; the others wait for no
                        # other lock long (a deadlock, below)
                        conn.exec_driver_sql(
                            f"SET LOCAL lock_timeout = '{GROUP_LOCK_WAIT_MS}ms'")
                    now = self.clock()
                    savepoint = conn.begin_nested() if savepoints else None
                    try:
                        prepared = None
                        if job.prepare is not None and not job.exact:
                            prepared = job.prepare(self.projections.get(branch_id), now)
                        # PostgreSQL: after the group's first command the transaction
                        # holds the branch's lock and the projection is where it left it
                        result, batch = self._step(conn, branch_id, job, now, prepared,
                                                   held=bool(applied) and not savepoints)
                        if batch.config or any(e.type in CONFIG_EVENTS
                                               for _q, e in batch.events):
                            # not for a group: alone, on its next try
                            raise _Alone()
                    except Exception as e:
                        if isinstance(e, DBAPIError) and not (
                                isinstance(e, IntegrityError) or _lock_wait(e)):
                            raise  # the database failed, not the command: the whole group
                        if isinstance(e, _Alone) or _lock_wait(e):
                            self.stats["bounced"] += 1
                        if savepoint is None:
                            # the whole transaction rolls back; the command runs alone
                            # next, where it gets its own answer
                            failed = job
                            raise _Redo() from e
                        try:
                            savepoint.rollback()
                        except Exception:  # the connection is gone: the group fails with e
                            raise e from None
                        if isinstance(e, _Alone) or _lock_wait(e):
                            job.group = False
                            job.outcome = ("again", None)
                        else:
                            job.outcome = ("stale", None) if isinstance(e, Stale) \
                                else ("error", e)
                        continue
                    if savepoint is not None:
                        savepoint.commit()
                    if batch.events and not job.exact:
                        # another process's batches before it (optimistic commands; an
                        # exact one brought the projection to its lock's sequence): read
                        # through this transaction, which sees them and the group's
                        self.projections.ensure(branch_id, batch.first_seq - 1, conn)
                    self.projections.apply_local(batch)
                    applied.append(batch)
                    job.outcome = ("done", (result, batch))
        except _Redo as redo:
            if applied or isinstance(redo.__cause__, Stale):
                self.projections.forget(branch_id)
            return failed, isinstance(redo.__cause__, Stale)
        except BaseException as e:
            if applied:
                self.projections.forget(branch_id)
            for job in group:
                if job.outcome is None or job.outcome[0] == "done":
                    job.outcome = ("error", e)
            return None, False
        for batch in applied:
            self.projections.published(batch)
        return None, False

    def _step(self, conn, branch_id, job, now, prepared, held: bool = False):
        """The command inside an open write transaction: ``(result, batch)``.

        ``held``: an earlier command of this transaction (a group's, PostgreSQL) took
        the branch's lock, and the projection holds every batch written since, so it is
        at the database's sequence: no statement to take the lock again; the command's
        first write moves the sequence (``uow.unbumped``) and checks it lands where the
        projection said (``Stale`` if not: the group runs again)."""
        t0 = time.perf_counter()
        uow = UnitOfWork(conn, branch_id, now)
        if job.exact:
            if job.early is not None:
                prepared = job.early(uow, self.projections.held(branch_id))
            t1 = time.perf_counter()
            p = self.projections.held(branch_id) if held else None
            if p is not None:
                seq = uow.locked_seq = p.seq
                uow.unbumped = job.events
            else:
                last = repo.reserve_seq(conn, branch_id, job.events)
                if last is None:
                    raise NotFound("branch_not_found", branch=branch_id)
                seq = uow.locked_seq = last - job.events
            t2 = time.perf_counter()
            uow.reserved = job.events
            # a counter step: its rows go with its events, one statement (uow.finish)
            uow.defer = not job.events and not self.db.is_sqlite
            if p is None:
                p = self.projections.ensure(branch_id, seq, conn)
            t3 = time.perf_counter()
            self.stats["connect_ms"] += (t1 - t0) * 1000
            self.stats["locked_ms"] += (t2 - t1) * 1000
            self.stats["caught_up_ms"] += (t3 - t2) * 1000
            if job.prepare is not None:
                prepared = job.prepare(p, now)
        else:
            p = self.projections.get(branch_id)
        try:
            result = (job.fn(uow, p, prepared)
                      if job.prepare is not None or job.early is not None else job.fn(uow, p))
        except DomainError:
            # a refusal decided on a projection that missed a batch (another
            # process's, still on its way or lost with the message queue)
            # may be wrong: refuse only on the state the database holds
            if not job.exact and repo.current_seq(conn, branch_id) > p.seq:
                raise Stale("the branch moved since the projection")
            raise
        return result, uow.finish()

    def log_stats(self, force: bool = False) -> None:
        """One line now and then when something changed, for whoever measures a
        deployment (bench-national reads the last one of each process's log)."""
        now = time.monotonic()
        if not force and now - self._logged_at < STATS_LOG_S:
            return
        self._logged_at = now
        current = {k: round(self.stats[k]) for k in ("commands", "exact", "stale", "refused",
                                                    "expired", "nobody_waits",
                                                    "groups", "grouped", "bounced", "redone",
                                                    "queued_ms", "transaction_ms", "told_ms",
                                                    "connect_ms", "locked_ms", "caught_up_ms")}
        if current != self._logged:
            self._logged = current
            log.info("writer stats %s", json.dumps(current))


class _Job:
    """A command waiting in its branch's queue, and what became of it."""

    __slots__ = ("fn", "exact", "prepare", "events", "early", "group", "wake", "outcome",
                 "queued_at", "gives_up")

    def __init__(self, fn, exact, prepare, events, early, group, gives_up=False):
        self.fn, self.exact, self.prepare = fn, exact, prepare
        self.events, self.early, self.group = events, early, group
        self.gives_up = gives_up  # its caller stops waiting: QUEUE_DEADLINE_S applies
        self.queued_at = 0.0  # when its current try joined the branch's queue
        self.reset()

    def reset(self) -> None:
        """Before each try: nobody woke it yet, nothing became of it."""
        self.wake = threading.Event()
        # ("done", (result, batch)) | ("stale", None) | ("again", None) | ("error", exc)
        self.outcome = None


class _Lane:
    """A branch's commands in this process: one running (``busy``), the rest queued."""

    __slots__ = ("pending", "busy")

    def __init__(self):
        self.pending: collections.deque = collections.deque()
        self.busy = False


class _Redo(Exception):
    """A command of a group without savepoints failed: the group's transaction rolls
    back and runs again without it."""


class _Alone(Exception):
    """A grouped command changed the configuration: it runs again in a transaction of
    its own (the read model reads a new configuration back once it is committed)."""


def _lock_wait(e: BaseException) -> bool:
    """PostgreSQL gave up a lock wait (lock_timeout) or broke a deadlock."""
    return getattr(getattr(e, "orig", None), "sqlstate", None) in ("55P03", "40P01")
