"""Keep the garbage collector's pauses short while the server delivers calls.

CPython's cyclic collector stops the whole process while it scans, and under gevent
no call reaches any display meanwhile. Measured (thread CPU time inside the
collector, 1,000 Socket.IO clients, the displays bench): full (generation 2)
collections cost 65-200 ms each, several while the displays connect and some later
among the calls; generation-1 collections 7-14 ms each, one every few seconds of
calls, enough to land in about 1 % of the calls' windows (the p99). Nearly all the
objects scanned live as long as the process: the app, each branch's projection,
each connection's socket, queues and greenlets (about 300,000 objects).

So, in the server process (run.py):

- once started, and then every ``FREEZE_S``, a young collection runs and what
  survived it is moved out of the collector's generations (``gc.freeze()``, which
  only splices lists): full collections then scan only what was made since the last
  freeze (none ran among 300 calls; tens of ms at most while 1,000 displays connect);
- generation 1 is collected after every 2nd generation-0 collection instead of
  every 10th: 5x fewer objects each time, so 2-4 ms pauses instead of 7-14 ms (the
  total scanned is about the same);
- a frozen object that later becomes garbage inside a reference cycle (a closed
  connection's objects) is not reclaimed while frozen: every ``FULL_S`` the process
  unfreezes everything, runs one full collection and freezes again, at a quiet
  moment (no batch committed in this process for ``QUIET_S``), after ``FULL_WAIT_S``
  at most. What dead cycles hold is so bounded by what ``FULL_S`` of reconnects
  leaves behind. Objects freed by reference counting (nearly all of a request's)
  are freed at once, frozen or not.
"""
from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger("tabour.gc")

FREEZE_S = 10.0
# generation 1 collected after every 2nd generation-0 collection (CPython's default:
# 10th): it holds 5x fewer objects, so each pause is 5x shorter; each object is
# still scanned about as many times in all
THRESHOLDS = (700, 2, 10)
FULL_S = 3600.0
QUIET_S = 2.0
FULL_WAIT_S = 600.0


class Pauses:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.last_batch = clock()
        now = clock()
        self.last_freeze = now
        self.last_full = now
        self.stats = {"freezes": 0, "full": 0, "full_ms": 0.0}

    def on_batch(self, _branch_id, _batch, _local) -> None:
        """A read-model listener: the process is busy now."""
        self.last_batch = self.clock()

    def settle(self) -> None:
        """One full collection, then everything alive is frozen (at start, and every
        ``FULL_S`` at a quiet moment)."""
        t0 = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        ms = (time.perf_counter() - t0) * 1000
        self.last_full = self.last_freeze = self.clock()
        self.stats["full"] += 1
        self.stats["full_ms"] = round(ms, 1)
        log.info("full collection: %.1f ms, %d objects frozen", ms, gc.get_freeze_count())

    def freeze(self) -> None:
        """A young collection first (as the collector would make anyway): only what
        survived it, so no fresh garbage, is frozen."""
        gc.collect(1)
        gc.freeze()
        self.last_freeze = self.clock()
        self.stats["freezes"] += 1

    def step(self) -> str | None:
        """What is due now: a full collection (when quiet, or waited long enough), a
        freeze, or nothing. Returns what was done."""
        now = self.clock()
        if now - self.last_full >= FULL_S:
            quiet = now - self.last_batch >= QUIET_S
            if quiet or now - self.last_full >= FULL_S + FULL_WAIT_S:
                self.settle()
                return "full"
        if now - self.last_freeze >= FREEZE_S:
            self.freeze()
            return "freeze"
        return None

    def run_forever(self, sleep, every_s: float = 1.0) -> None:
        while True:
            sleep(every_s)
            try:
                self.step()
            except Exception:  # never stops the server
                log.exception("garbage collector step failed")


def start(tabour) -> Pauses:
    """The server's policy (run.py): settle now, then keep the generations young."""
    pauses = Pauses()
    gc.set_threshold(*THRESHOLDS)
    tabour.projections.listeners.append(pauses.on_batch)
    pauses.settle()
    tabour.socketio.start_background_task(pauses.run_forever, tabour.socketio.sleep)
    return pauses
