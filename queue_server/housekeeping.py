"""Periodic work of a running deployment, done once per deployment: the process
holding the "housekeeping" lease closes the branch day at the rollover. Every
process runs the loop; the others find the lease taken and do nothing."""
from __future__ import annotations

import logging

log = logging.getLogger("tabour.housekeeping")

LEASE = "housekeeping"


def run_forever(tabour, every_s: float = 60.0) -> None:
    while True:
        tabour.socketio.sleep(every_s)
        try:
            if tabour.leases.hold(LEASE):
                run_once(tabour)
        except Exception:  # the database is away: next round
            log.exception("housekeeping round failed")


def run_once(tabour) -> int:
    expired = 0
    for branch_id in tabour.branch_ids():
        try:
            expired += tabour.commands.expire_day(branch_id)
        except Exception:
            log.exception("closing the day failed for branch %s", branch_id)
    if expired:
        log.info("day closed: %d tickets of an earlier day cancelled", expired)
    return expired
