"""Keep the garbage collector's pauses short while the server delivers calls.

CPython's cyclic collector stops the whole process while it scans, and under gevent
no call reaches any display meanwhile. A server with 1,000 Socket.IO clients holds
over a million tracked objects (the app, each branch's projection, each connection's
socket, queues and greenlets), almost all of them as long-lived as the process. A
full (generation 2) collection scanned them all: 100-200 ms of CPU each (measured
with 1,000 clients, thread CPU time), several times while the displays connect and
again later in the day, and generation-1 collections reached a few ms.

So, in the server process (run.py):

- once started, and then every ``FREEZE_S``, the objects alive are moved out of the
  collector's generations (``gc.freeze()``, which only splices lists: O(1)). Later
  collections scan only what was made since the last freeze, and stay short;
- a frozen object that later becomes garbage inside a reference cycle (a closed
  connection's objects) is not reclaimed while frozen: every ``FULL_S`` the process
  unfreezes everything, runs one full collection and freezes again. It waits for a
  quiet moment for it (no batch committed in this process for ``QUIET_S``), at most
  ``FULL_WAIT_S``. What dead cycles hold is so bounded by what ``FULL_S`` of
  reconnects leaves behind.

Objects freed by reference counting (nearly all of a request's) are freed at once,
frozen or not; only cycles wait for the full collection.
"""
from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger("tabour.gc")

FREEZE_S = 60.0
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
    tabour.projections.listeners.append(pauses.on_batch)
    pauses.settle()
    tabour.socketio.start_background_task(pauses.run_forever, tabour.socketio.sleep)
    return pauses
