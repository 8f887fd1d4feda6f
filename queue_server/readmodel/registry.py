"""Every branch's projection in this process, kept current from committed batches.

- A command hands its ``Committed`` batch here right after the commit (still
  inside the write lock on SQLite, so batches arrive in sequence order).
- With several server processes, each process publishes its batches on the
  message queue (``transport``) and applies the others' as they arrive.
- A batch that does not follow the projection's sequence means something was
  missed (another process's batch still in flight, a lost message): the batch
  waits a moment for the missing ones, then the projection catches up from the
  database (the events since its sequence and the rows they name, read in one
  snapshot). A command that needs the exact state (issuing: people ahead) calls
  ``ensure`` inside its transaction, after taking the branch's sequence lock.
- Nothing here runs per request: a route reads ``get(branch_id)``.

Listeners (the fan-out, the estimator, phone watchers) are told after each
applied batch, with ``local=True`` when this process committed it. What a
catch-up read from the database is told as a remote batch; a listener that runs
on remote batches must be idempotent (a batch may be told twice: once caught up,
once by the command that committed it).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select

from ..db import repo
from ..db import schema as s
from ..engine.errors import NotFound
from ..engine.forecast import Learned
from ..engine.model import Event, TicketStatus
from .projection import (
    CALLS_KEPT, CONFIG_EVENTS, BranchProjection, Call, Committed, Config,
)
from . import alerts as alert_book
from . import wire

log = logging.getLogger("tabour.readmodel")

CATCH_UP_LIMIT = 2000  # more missed events than this: rebuild instead
GAP_WAIT_S = 0.25  # how long a batch waits for the ones before it (other processes)
LOCAL_TURNS = 3  # turns given to this process's own committing writers before a catch-up read

Listener = Callable[[int, Committed, bool], None]


class Projections:
    def __init__(self, db, clock, spawn: Callable | None = None):
        self.db = db
        self.clock = clock
        self.spawn = spawn or (lambda fn, *a: threading.Thread(target=fn, args=a,
                                                                daemon=True).start())
        self._by_branch: dict[int, BranchProjection] = {}
        self._locks: dict[int, threading.RLock] = {}
        self._guard = threading.Lock()
        self._held: dict[int, dict[int, Committed]] = {}  # batches waiting for a gap
        self._untold: dict[int, list[Committed]] = {}  # applied, listeners not told yet
        self.listeners: list[Listener] = []
        self.transport = None  # set when several processes share a message queue
        self.stats = {"applied": 0, "caught_up": 0, "rebuilt": 0, "held": 0}

    # --- access ---------------------------------------------------------------------------

    def lock(self, branch_id: int) -> threading.RLock:
        with self._guard:
            lk = self._locks.get(branch_id)
            if lk is None:
                lk = self._locks[branch_id] = threading.RLock()
            return lk

    def get(self, branch_id: int) -> BranchProjection:
        """The branch's projection (built from the database the first time)."""
        p = self._by_branch.get(branch_id)
        if p is None:
            with self.lock(branch_id):
                p = self._by_branch.get(branch_id)
                if p is None:
                    with self.db.read_model() as conn:
                        p = self._load(conn, branch_id)
                    self._by_branch[branch_id] = p
                    self.stats["rebuilt"] += 1
        return p.at(self.clock())

    def held(self, branch_id: int) -> BranchProjection | None:
        """The branch's projection if this process holds one already (never loads)."""
        p = self._by_branch.get(branch_id)
        return p.at(self.clock()) if p is not None else None

    def ensure(self, branch_id: int, seq: int, conn) -> BranchProjection:
        """Inside a transaction that holds the branch's sequence lock at ``seq``: make
        the projection exactly that state (reading what it missed through ``conn``).

        On PostgreSQL the lock passes on at the previous holder's commit; when that
        holder is in this process its batch reaches the projection once its greenlet
        runs again, usually right after ours: give it that turn (a few at most) rather
        than read its events back from the database under the lock."""
        for _ in range(LOCAL_TURNS):
            p = self._by_branch.get(branch_id)
            if p is None or p.seq >= seq or not getattr(self.db, "settling", 0):
                break
            time.sleep(0)  # under gevent, a turn for the other greenlets
        with self.lock(branch_id):
            p = self._by_branch.get(branch_id)
            if p is None or p.seq > seq:  # first use, or a database reset under us
                p = self._by_branch[branch_id] = self._load(conn, branch_id, upto=seq)
                self.stats["rebuilt"] += 1
            elif p.seq < seq:
                self._caught_up(branch_id, self._catch_up(conn, p, upto=seq))
            return p.at(self.clock())

    def loaded(self) -> list[int]:
        """The branches this process holds a projection of."""
        return list(self._by_branch)

    def forget(self, branch_id: int) -> None:
        with self.lock(branch_id):
            self._by_branch.pop(branch_id, None)

    # --- batches ---------------------------------------------------------------------------

    def committed(self, batch: Committed) -> None:
        """Apply a batch this process just committed (called inside the writer lock,
        right after the commit); the command tells the listeners afterwards with
        ``notify``."""
        self.apply_local(batch)
        self.published(batch)

    def apply_local(self, batch: Committed) -> None:
        """Apply a batch of this process's (``committed``'s first half). Group commit
        (commands/writer.py) calls it when a command's savepoint is released, before
        the transaction commits, so the next command of the group decides on it."""
        if batch.events:
            self._offer(batch, local=True)

    def published(self, batch: Committed) -> None:
        """Send a committed batch to the other processes (``committed``'s second half)."""
        if batch.events and self.transport is not None:
            try:
                self.transport.publish(wire.dumps(batch))
            except Exception:  # the others catch up from the database on their next gap
                log.exception("could not publish batch %s of branch %s", batch.last_seq,
                              batch.branch_id)

    def notify(self, batch: Committed) -> None:
        """Tell the listeners about a batch this process committed (and first about
        what its commit caught up from others)."""
        self._tell_untold(batch.branch_id)
        if batch.events:
            self._tell(batch.branch_id, batch, True)

    def _tell_untold(self, branch_id: int) -> None:
        with self.lock(branch_id):
            untold = self._untold.pop(branch_id, [])
        for done in untold:
            self._tell(branch_id, done, False)

    def received(self, raw: str | bytes) -> None:
        """A batch another process published on the message queue."""
        try:
            batch = wire.loads(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("dropped an unreadable batch from the message queue")
            return
        for done in self._offer(batch, local=False):
            self._tell(batch.branch_id, done, False)
        self._tell_untold(batch.branch_id)

    def refresh_all(self) -> None:
        for branch_id in list(self._by_branch):
            try:
                self.refresh(branch_id)
            except Exception:
                log.exception("could not catch up branch %s", branch_id)

    def refresh(self, branch_id: int) -> None:
        """Catch up from the database now (a guarded write found the projection behind)."""
        with self.lock(branch_id):
            p = self._by_branch.get(branch_id)
            if p is None:
                return
            with self.db.read_model() as conn:
                self._caught_up(branch_id, self._catch_up(conn, p))
            self._prune(branch_id, p.seq)
        self._tell_untold(branch_id)

    def _caught_up(self, branch_id: int, batch: Committed | None) -> None:
        if batch is not None and batch.events:
            self._untold.setdefault(branch_id, []).append(batch)

    def _offer(self, batch: Committed, local: bool) -> list[Committed]:
        b = batch.branch_id
        applied = []
        with self.lock(b):
            p = self._by_branch.get(b)
            if p is None:
                return []  # not loaded here yet: the first get() reads it whole
            if batch.last_seq <= p.seq:
                return []  # already in (a catch-up read it, or our own batch came back)
            if batch.first_seq == p.seq + 1:
                applied.append(self._apply(p, batch))
                held = self._held.get(b, {})
                while p.seq + 1 in held:  # batches that were waiting for this one
                    done = self._apply(p, held.pop(p.seq + 1))
                    if local:
                        self._caught_up(b, done)
                    else:
                        applied.append(done)
            elif local:
                # our own commit, and something before it is missing: read it now
                # (the caller shows the result of its command right away)
                with self.db.read_model() as conn:
                    self._caught_up(b, self._catch_up(conn, p, skip=batch))
                self._prune(b, p.seq)
            else:
                self._held.setdefault(b, {})[batch.first_seq] = batch
                self.stats["held"] += 1
                self.spawn(self._resolve_gap, b, batch.last_seq)
        return applied

    def _resolve_gap(self, branch_id: int, want: int) -> None:
        time.sleep(GAP_WAIT_S)
        with self.lock(branch_id):
            p = self._by_branch.get(branch_id)
            if p is None or p.seq >= want:
                return
            before = p.seq
            with self.db.read_model() as conn:
                self._caught_up(branch_id, self._catch_up(conn, p))
            self._prune(branch_id, p.seq)
            log.info("branch %s: caught up from %s to %s after a gap", branch_id, before, p.seq)
        self._tell_untold(branch_id)

    def _prune(self, branch_id: int, seq: int) -> None:
        held = self._held.get(branch_id)
        if held:
            for first in [f for f, bt in held.items() if bt.last_seq <= seq]:
                del held[first]

    def _apply(self, p: BranchProjection, batch: Committed) -> Committed:
        config = None
        if batch.config or any(e.type in CONFIG_EVENTS for _s, e in batch.events):
            with self.db.read_model() as conn:
                config = self._config(conn, p.branch.id)
        p.apply(batch, config)
        self.stats["applied"] += 1
        return batch

    def _tell(self, branch_id: int, batch: Committed, local: bool) -> None:
        for listener in self.listeners:
            try:
                listener(branch_id, batch, local)
            except Exception:  # a listener never breaks a command
                log.exception("read-model listener failed")

    # --- reading the database ---------------------------------------------------------------

    def _config(self, conn, branch_id: int) -> Config:
        branch = repo.load_branch(conn, branch_id)
        if branch is None:
            raise NotFound("branch_not_found", branch=branch_id)
        agents = {r.id: r.display_name for r in conn.execute(
            select(s.users.c.id, s.users.c.display_name).where(s.users.c.branch_id == branch_id))}
        return Config(branch, repo.load_services(conn, branch_id), agents)

    def _load(self, conn, branch_id: int, upto: int | None = None) -> BranchProjection:
        """The whole projection from one consistent read. ``upto``: the sequence the
        state is at, when the caller's own transaction already took numbers after it."""
        now = self.clock()
        config = self._config(conn, branch_id)
        seq = repo.current_seq(conn, branch_id) if upto is None else upto
        calls = [call_from_row(r) for r in repo.recent_calls(
            conn, branch_id, now - timedelta(hours=12), CALLS_KEPT)]
        p = BranchProjection(
            config, seq, repo.load_counter_rows(conn, branch_id),
            repo.waiting_tickets(conn, branch_id), repo.live_tickets(conn, branch_id), calls,
            _durations(conn, branch_id, now), _printers(conn, branch_id), now,
            alert_book.load(conn, branch_id))
        _learn_today(conn, p)
        return p

    def _catch_up(self, conn, p: BranchProjection, skip: Committed | None = None,
                  upto: int | None = None) -> Committed | None:
        """Apply what the database holds after ``p.seq`` (events, and the rows they name
        as they are in the same snapshot). Returns what was applied, less ``skip``'s
        events (a local batch its command will tell about). ``upto``: as in _load."""
        b = p.branch.id
        target = repo.current_seq(conn, b) if upto is None else upto
        if target <= p.seq:
            return None
        if target - p.seq > CATCH_UP_LIMIT:
            fresh = self._load(conn, b, upto=upto)
            p.__dict__.update(fresh.__dict__)
            self.stats["rebuilt"] += 1
            return None
        events = [(q, e) for q, e in repo.events_since(conn, b, p.seq) if q <= target]
        ticket_ids = {e.ticket_id for _q, e in events if e.ticket_id is not None}
        counter_ids = {e.counter_id for _q, e in events if e.counter_id is not None}
        tickets = repo.tickets_by_ids(conn, b, ticket_ids)
        counters = repo.load_counter_rows(conn, b, counter_ids) if counter_ids else []
        printers = _printers(conn, b) if any(e.type.startswith("print") for _q, e in events) \
            else []
        config = self._config(conn, b) if any(e.type in CONFIG_EVENTS for _q, e in events) \
            else None
        batch = Committed(b, tuple(events), tuple(tickets), tuple(counters), tuple(printers))
        p.apply(batch, config)
        p.seq = target
        self.stats["caught_up"] += 1
        if skip is not None:
            mine = {q for q, _e in skip.events}
            batch = Committed(b, tuple((q, e) for q, e in events if q not in mine))
        return batch


def call_from_row(r) -> Call:
    data = r.data or {}
    return Call(r.seq, "recalled" if r.type == "ticket_recalled" else "called", r.ticket_id,
                data.get("code", ""), data.get("counter_number"), r.service_id,
                data.get("language"), r.at)


def _durations(conn, branch_id: int, now: datetime) -> dict:
    out: dict[int, list] = {}
    since = now - timedelta(hours=12)
    q = (select(s.tickets.c.service_id, s.tickets.c.started_at, s.tickets.c.finished_at)
         .where(s.tickets.c.branch_id == branch_id, s.tickets.c.status == "done",
                s.tickets.c.started_at.is_not(None), s.tickets.c.finished_at >= since)
         .order_by(s.tickets.c.finished_at))
    for r in conn.execute(q):
        out.setdefault(r.service_id, []).append(
            (r.finished_at, (r.finished_at - r.started_at).total_seconds()))
    return out


def _learn_today(conn, p: BranchProjection) -> None:
    """Teach a freshly loaded projection's estimator what the day taught so far (a
    restart does not forget the morning): tickets issued, finished and not shown,
    and the breaks taken."""
    b = p.branch.id
    rows = conn.execute(select(s.tickets).where(s.tickets.c.branch_id == b,
                                                 s.tickets.c.day == p.day)
                        .order_by(s.tickets.c.issued_at)).all()
    tickets = [repo.ticket_from_row(r) for r in rows]
    if tickets:
        p.learned = Learned.start(p.policy, opened_at=tickets[0].issued_at,
                                  priors=p.priors())
    for t in tickets:
        p.learned = p.learned.issued(t)
    for t in sorted((t for t in tickets if t.finished_at), key=lambda t: t.finished_at):
        if t.status is TicketStatus.DONE:
            p.learned = p.learned.finished(t)
        elif t.status is TicketStatus.NO_SHOW:
            p.learned = p.learned.no_show(t, t.finished_at)
    if not tickets:
        return
    since = tickets[0].issued_at
    paused: dict[int, datetime] = {}
    for r in conn.execute(select(s.events.c.type, s.events.c.counter_id, s.events.c.at).where(
            s.events.c.branch_id == b, s.events.c.at >= since,
            s.events.c.type.in_(["counter_paused", "counter_opened"])).order_by(s.events.c.seq)):
        if r.type == "counter_paused":
            paused[r.counter_id] = r.at
        elif r.counter_id in paused:
            p.learned = p.learned.pause_ended(paused.pop(r.counter_id), r.at)


def _printers(conn, branch_id: int) -> list[dict]:
    rows = conn.execute(select(s.printers).where(s.printers.c.branch_id == branch_id))
    return [printer_dict(r) for r in rows]


def printer_dict(r) -> dict:
    return {"name": r.name, "state": r.state, "detail": r.detail,
            "connected": bool(r.connected), "last_seen_at": r.last_seen_at}
