"""Periodic work of a running server: close the branch day at the rollover."""
from __future__ import annotations

import logging

log = logging.getLogger("tabour.housekeeping")


def run_forever(tabour, every_s: float = 60.0) -> None:
    while True:
        tabour.socketio.sleep(every_s)
        run_once(tabour)


def run_once(tabour) -> int:
    expired = 0
    for branch_id in tabour.branch_ids():
        try:
            expired += tabour.commands.expire_day(branch_id)
        except Exception:
            log.exception("closing the day failed for branch %s", branch_id)
    if expired:
        log.info("day closed: %d waiting tickets of an earlier day cancelled", expired)
    return expired
