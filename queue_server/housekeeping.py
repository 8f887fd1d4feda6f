"""Periodic work of a running deployment, done once per deployment: the process
holding the "housekeeping" lease closes the branch day at the rollover, sweeps the
print jobs nobody took and announces the calls a dead process never announced. Every
process runs the loop; the others find the lease taken and do nothing."""
from __future__ import annotations

import logging
import time

log = logging.getLogger("tabour.housekeeping")

LEASE = "housekeeping"


def run_forever(tabour, every_s: float = 60.0, printing_every_s: float = 5.0) -> None:
    """The day's rollover once a minute; the print jobs nobody took, the printer
    agents nobody hears and the calls nobody announced every few seconds (a visitor
    waits at the kiosk, another for their number to be said)."""
    # the first round also closes the day: a deployment (re)started after the rollover
    # does not leave yesterday's queue up for a minute
    rounds = max(0, int(every_s // printing_every_s) - 1)
    held = False
    while True:
        tabour.socketio.sleep(printing_every_s)
        rounds += 1
        try:
            holding = tabour.leases.hold(LEASE)
            held_at = time.monotonic()
            if holding != held:  # which process of the deployment does it, in its log
                held = holding
                log.info("housekeeping lease %s by this process (%s)",
                         "taken" if holding else "lost", tabour.leases.owner)
            if not holding:
                continue
            for branch_id in tabour.commands.branches_to_sweep():
                tabour.commands.sweep_printing(branch_id)
                # a call waits for one branch's sweep at most, not for all of them (50
                # branches back to back held the loop > 8 ms every 5 s: gevent monitor)
                tabour.socketio.sleep(0)
            announce_overdue(tabour)
            if rounds * printing_every_s >= every_s:
                rounds = 0
                # renewed during the round (from when it was last held, the sweeps
                # above included): a round over many branches on a loaded machine may
                # outlast the lease, and another process would start the same work
                # beside this one (summaries written twice)
                run_once(tabour, still_held=_renewing(tabour, held_at))
        except Exception:  # the database is away: next round
            log.exception("housekeeping round failed")


def _renewing(tabour, held_at: float | None = None, clock=time.monotonic):
    """``still_held()`` for a round: renews the lease (a write) once a third of its
    time to live has gone by since it was last held (``held_at``, on ``clock``; now if
    not given), not at every branch (150 writes a minute nationally, for a lease of
    30 s); True in between."""
    every_s = getattr(tabour.leases, "ttl_s", 30.0) / 3
    renewed = [clock() if held_at is None else held_at]

    def still_held() -> bool:
        if clock() - renewed[0] < every_s:
            return True
        held = tabour.leases.hold(LEASE)
        renewed[0] = clock()
        return held
    return still_held


def announce_overdue(tabour) -> int:
    """The calls a dead process never announced, once per deployment (see
    ``Announcer.overdue``). Returns how many were queued."""
    announcer = getattr(tabour, "announcer", None)
    if announcer is None:
        return 0
    try:
        return announcer.overdue()
    except Exception:  # never let the voice stop the day's rollover
        log.exception("looking for calls never announced failed")
        return 0


def run_once(tabour, still_held=lambda: True) -> int:
    """Close what an earlier branch day left (tickets, counters) and summarise that day
    for the reports, once. Stops when ``still_held()`` says the lease was lost."""
    expired = 0
    for branch_id in tabour.branch_ids():
        if not still_held():
            log.warning("housekeeping lease lost during the round: another process goes on")
            break
        try:
            expired += tabour.commands.expire_day(branch_id)
            summarise_yesterday(tabour, branch_id)
        except Exception:
            log.exception("closing the day failed for branch %s", branch_id)
        tabour.socketio.sleep(0)  # the calls go on between two branches
    if expired:
        log.info("day closed: %d tickets of an earlier day cancelled", expired)
    return expired


def summarise_yesterday(tabour, branch_id: int) -> bool:
    from datetime import date, timedelta

    from . import reports
    from .reports import summary
    now = tabour.now()
    p = tabour.view(branch_id)
    yesterday = (date.fromisoformat(p.day) - timedelta(days=1)).isoformat()
    # a day summarised stays summarised: this process asks the database once a day a
    # branch, not once a minute (a read per branch, back to back, every minute)
    known = tabour.summarised_days
    if known.get(branch_id) == yesterday:
        return False
    with tabour.db.read() as conn:
        if yesterday in summary.summarized_days(conn, branch_id, yesterday, yesterday):
            known[branch_id] = yesterday
            return False
    with tabour.db.write() as conn:
        done = reports.close_day(conn, branch_id, yesterday, now)
    if done:  # not when a ticket of that day is still live: the next round tries again
        known[branch_id] = yesterday
    return done
