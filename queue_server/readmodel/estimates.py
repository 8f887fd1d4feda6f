"""Wait estimates: one forecast per branch, made off the request path, read by all.

After each batch of committed events the estimator simulates the branch forward
from its projection (``engine.forecast``: the counters open, paused or holding a
ticket and for how long, the waiting tickets through the one ordering rule, the
service times, arrivals and breaks the day taught so far). The kiosk, the ticket,
the phone page, the wall display and the dashboard READ that forecast:

- a new ticket: ``Forecast.new_ticket`` at its own issue time, corrected by how
  many more people are ahead of it now than of the forecast's probe (tickets
  issued since the forecast was made);
- a waiting ticket: ``Forecast.waiting``, or as a new ticket at its place when it
  came after the forecast.

Live, the forecast is recomputed in a background task per branch (coalesced) and
every ``REFRESH_S`` in quiet periods.

Several processes (a message queue): the process that committed a batch forecasts
the branch and publishes the result (``publish``); the others keep it as it came
and read it only when one of their requests or clients needs an estimate of that
branch (``received``). Each branch is simulated once per change in the deployment,
not once per process (measured in bench-national: every process simulated every
branch after every batch of every process), and a ticket issued through any process
prints the estimate of the same forecast. A remote batch whose forecast has not
come within ``FALLBACK_S`` (its process died, the message was lost) is forecast
here. ``sync=True`` (the replay command, and tests
that compare the replay with the live answers) makes it exactly "the forecast of
the state after the last batch, made at that batch's time", computed when it is
first read: nothing changes between a batch and the next read, so computing it
then gives the same numbers as computing it at once, and a batch no ticket reads
costs nothing.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime

from ..engine.errors import DomainError
from ..engine.forecast import UNKNOWN, CounterView, Estimate, Forecast, ForecastInput, forecast
from ..engine.model import Ticket, TicketStatus
from .projection import BranchProjection

log = logging.getLogger("tabour.estimates")


def forecast_input(p: BranchProjection, now: datetime) -> ForecastInput:
    views = tuple(CounterView(r.counter, r.since or now,
                              p.live.get(r.counter.current_ticket_id)
                              if r.counter.current_ticket_id is not None else None)
                  for r in sorted(p.counters.values(), key=lambda r: r.counter.number))
    return ForecastInput(now=now, policy=p.policy, today=p.day,
                         services=tuple(s.id for s in p.services if s.active),
                         counters=views, waiting=tuple(p.index.tickets.values()),
                         learned=p.learned)


class Estimator:
    REFRESH_S = 30.0
    # live: a branch is forecast again at most every MIN_GAP_S, and never more than
    # every COST_FACTOR x the last forecast's cost (a morning rush of tickets costs a
    # few forecasts a second, not one per ticket; the reads correct for what came since)
    MIN_GAP_S = 0.25
    COST_FACTOR = 2.0
    # several processes: a remote batch's forecast is made here when none came after this
    # long (its process died, the message was lost). Not less: under load a forecast
    # waits its turn in the committing process's helper for seconds, and forecasting
    # the branch here too then only loads the helpers more (seen in bench-national at
    # 2 s); a forecast late by that much is corrected for the people ahead anyway
    FALLBACK_S = 10.0

    def __init__(self, projections=None, clock=None, spawn=None, sync: bool = False,
                 compute=None):
        """``compute(ForecastInput) -> Forecast``: ``forecast`` itself, or a helper
        process's (forecast_worker.py) so the server's loop never runs a simulation."""
        self.projections = projections
        self.clock = clock
        self.compute = compute or forecast
        self._next_ok: dict[int, float] = {}
        self.spawn = spawn or (lambda fn, *a: threading.Thread(target=fn, args=a,
                                                                daemon=True).start())
        self.sync = sync
        self._forecasts: dict[int, tuple[int, Forecast]] = {}  # branch -> (seq, forecast)
        self._pending: set[int] = set()
        self._dirty: dict[int, datetime] = {}  # sync mode: branch -> time of its last batch
        self._lock = threading.Lock()
        self.computed = 0
        # several processes: ``publish(bytes)`` sends a forecast made here to the others
        # (set by the app factory with the message queue)
        self.publish = None
        self._fallback: set[int] = set()  # branches with a fallback check pending
        # several processes: the branches whose latest forecast this process made (it
        # keeps them fresh in quiet hours), and when the others' latest ones came
        self._made_here: set[int] = set()
        self._received_at: dict[int, datetime] = {}
        self.stats = {"published": 0, "received": 0, "decoded": 0, "fallbacks": 0,
                      "covered": 0}

    # --- making forecasts ----------------------------------------------------------------

    def on_batch(self, branch_id: int, batch, _local: bool) -> None:
        """A read-model listener: the branch changed, forecast it again."""
        if self.sync:
            with self._lock:
                self._dirty[branch_id] = self.clock()
            return
        if not _local and self.publish is not None:
            # another process committed it: that process forecasts and publishes
            if branch_id in self._forecasts and batch.events:
                with self._lock:
                    if branch_id in self._fallback:
                        return
                    self._fallback.add(branch_id)
                self.spawn(self._fallback_later, branch_id, batch.last_seq)
            return
        with self._lock:
            if branch_id in self._pending:
                return
            self._pending.add(branch_id)
        self.spawn(self._refresh_later, branch_id)

    def _covered(self, branch_id: int) -> bool:
        """Several processes: another process already published a forecast of the state
        this process's projection is in (both committed batches of the branch a moment
        apart, and its forecast came first): nothing to make."""
        if self.publish is None:
            return False
        known = self._forecasts.get(branch_id)
        p = self.projections.held(branch_id)
        if known is None or p is None or known[0] < p.seq:
            return False
        self.stats["covered"] += 1
        return True

    def _fallback_later(self, branch_id: int, seq: int) -> None:
        """The forecast of a remote batch at ``seq`` should have come from its process by
        now; when it has not, make one here (and publish it)."""
        time.sleep(self.FALLBACK_S)
        with self._lock:
            self._fallback.discard(branch_id)
            known = self._forecasts.get(branch_id)
            if known is None or known[0] >= seq or branch_id in self._pending:
                return
            self._pending.add(branch_id)
        self.stats["fallbacks"] += 1
        self._refresh_later(branch_id)

    def received(self, raw: bytes) -> None:
        """A forecast another process made and published: kept as it came (decoded when
        something here reads it), unless this process holds one of a later state."""
        try:
            head, _, body = raw.partition(b"\n")
            branch_id, seq = (int(x) for x in head.split())
        except (ValueError, TypeError):
            log.warning("dropped an unreadable forecast from the message queue")
            return
        with self._lock:
            known = self._forecasts.get(branch_id)
            # the same seq: the same state forecast again later (quiet hours, refresh_all)
            if known is None or known[0] <= seq:
                self._forecasts[branch_id] = (seq, body)
                self._made_here.discard(branch_id)
                self._received_at[branch_id] = self.clock()
            self.stats["received"] += 1

    def _refresh_later(self, branch_id: int) -> None:
        wait = self._next_ok.get(branch_id, 0.0) - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # cooperative under gevent
        with self._lock:
            self._pending.discard(branch_id)  # a batch from now on asks for another
        if self._covered(branch_id):
            return
        started = time.monotonic()
        try:
            self.refresh(branch_id)
        except Exception:  # the last forecast stays; the next batch tries again
            log.exception("forecast failed for branch %s", branch_id)
        cost = time.monotonic() - started
        self._next_ok[branch_id] = time.monotonic() + max(self.MIN_GAP_S,
                                                          self.COST_FACTOR * cost)

    def refresh(self, branch_id: int) -> Forecast:
        p = self.projections.get(branch_id)
        now = self.clock()
        with self.projections.lock(branch_id):
            inp = forecast_input(p, now)
            seq = p.seq
        fc = self._store(branch_id, seq, self.compute(inp))
        if self.publish is not None:
            raw = getattr(fc, "wire", None) or json.dumps(
                fc.to_wire(), separators=(",", ":")).encode()
            try:
                self.publish(b"%d %d\n" % (branch_id, seq) + raw)
                self.stats["published"] += 1
            except Exception:  # the others make it themselves after FALLBACK_S
                log.exception("could not publish the forecast of branch %s", branch_id)
        return fc

    def warm(self, branch_id: int) -> None:
        """Make the branch's first forecast now, if this process has none yet (with
        the helper process, cooperatively), so that a command needing an estimate
        inside its transaction does not simulate there: the first ticket of each
        branch in each process did, holding the branch's row lock with the event
        loop blocked for the whole simulation."""
        if self.sync:
            return
        if branch_id in self._forecasts:
            self._known(branch_id)  # one received from another process: read it now
            return
        try:
            self.refresh(branch_id)
        except DomainError:  # no such branch: the command says so
            return
        except Exception:  # the command makes one itself (_of), as before
            log.exception("forecast failed for branch %s", branch_id)

    def refresh_all(self) -> None:
        """Recompute every branch whose forecast is older than REFRESH_S (quiet hours:
        nothing happened, but time passed).

        Several processes: a branch's forecast is kept fresh by the process that made
        the latest one (it publishes the new one); the others wait for it and make one
        only when it is overdue by FALLBACK_S (that process died), and never decode a
        received forecast to learn its age (they keep when it came). Before, every
        process refreshed every quiet branch of the deployment and decoded every
        forecast received since its last round (~100 JSON reads in one go on the loop
        at 150 branches), every 15 s."""
        now = self.clock()
        for branch_id in list(self._forecasts):
            if self._due(branch_id, now):
                try:
                    self.refresh(branch_id)
                except Exception:
                    log.exception("forecast failed for branch %s", branch_id)

    def _due(self, branch_id: int, now: datetime) -> bool:
        known = self._forecasts.get(branch_id)
        if known is None:
            return False
        if isinstance(known[1], bytes) or (self.publish is not None
                                           and branch_id not in self._made_here):
            came = self._received_at.get(branch_id)
            return came is None or \
                (now - came).total_seconds() >= self.REFRESH_S + self.FALLBACK_S
        return (now - known[1].t0).total_seconds() >= self.REFRESH_S

    def _store(self, branch_id: int, seq: int, fc: Forecast) -> Forecast:
        with self._lock:
            known = self._forecasts.get(branch_id)
            if known is None or known[0] <= seq:
                self._forecasts[branch_id] = (seq, fc)
                self._made_here.add(branch_id)
            self.computed += 1
        return fc

    def _known(self, branch_id: int) -> tuple[int, Forecast] | None:
        """(seq, forecast) of the branch, a received one decoded the first time."""
        known = self._forecasts.get(branch_id)
        if known is None or not isinstance(known[1], bytes):
            return known
        fc = Forecast.from_wire(json.loads(known[1]))
        with self._lock:
            if self._forecasts.get(branch_id) is known:
                self._forecasts[branch_id] = (known[0], fc)
            self.stats["decoded"] += 1
        return known[0], fc

    def forecast_of(self, branch_id: int) -> Forecast | None:
        known = self._known(branch_id)
        return known[1] if known is not None else None

    def _of(self, p: BranchProjection, now: datetime) -> Forecast:
        if self.sync:
            with self._lock:
                made_at = self._dirty.pop(p.branch.id, None)
            if made_at is not None:
                return self._store(p.branch.id, p.seq, forecast(forecast_input(p, made_at)))
        known = self._known(p.branch.id)
        if known is not None:
            return known[1]
        # the branch's first estimate in this process: make one now (once)
        return self._store(p.branch.id, p.seq, forecast(forecast_input(p, now)))

    # --- reading them -----------------------------------------------------------------------

    def estimate(self, p: BranchProjection, ticket: Ticket, ahead: int,
                 now: datetime) -> Estimate:
        """For a waiting ticket, or a new one (``ticket.id`` None) with ``ahead``
        people ahead of it now."""
        if ticket.status is not TicketStatus.WAITING:
            return UNKNOWN
        fc = self._of(p, now)
        if ticket.id is not None:
            known = fc.waiting(ticket.id, now)
            if known.known:
                return known
        base = fc.ahead(ticket.service_id, ticket.priority)
        delta = 0 if base is None else ahead - base
        return fc.new_ticket(ticket.service_id, ticket.priority, now=now, ahead_delta=delta)

    def minutes(self, p: BranchProjection, ticket: Ticket, ahead: int,
                now: datetime) -> int | None:
        """The whole minutes a ticket shows; None when no counter could call it."""
        return self.estimate(p, ticket, ahead, now).printed
