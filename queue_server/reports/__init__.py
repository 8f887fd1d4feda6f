"""Reports for branch managers: figures per service, counter, agent, outcome, channel
and priority over a range of branch days, today so far, and their exports.

    from queue_server import reports
    reports.report(db, branch_id, date(2026, 11, 1), date(2026, 11, 30), "day", now)
    reports.today(conn, branch_id, now)        # the live dashboard's figures
    reports.close_day(conn, branch_id, "2026-11-23", now)   # from the day rollover

The conventions (wait, service time, percentiles, service level, printed
estimates, attribution) are written in ``figures.py`` and ``facts.py``; the
summaries in ``summary.py``. Everything comes out of ``facts.compute_days``, so
the dashboard's today, a report of today and its exports agree to the unit.
"""
from __future__ import annotations

from datetime import datetime

from .build import (  # noqa: F401
    BREAKDOWNS, COLUMNS, GRAINS, HOUR_GRAIN_MAX_DAYS, MAX_DAYS, ReportError, check_range,
    context, report, today,
)
from ..clock import utcnow
from .facts import compute_days
from .figures import EXACT_DAYS  # noqa: F401
from . import summary


def close_day(conn, branch_id: int, day: str, now: datetime | None = None) -> bool:
    """Summarise one branch day in the caller's (write) transaction, replacing any
    earlier summary of it. Returns False, storing nothing, when the day is not over
    at ``now`` (default: the current time) or one of its tickets is still live (being
    served after the rollover, or kept overnight): a later call, or the next report's
    lazy backfill, summarises it once it is."""
    now = now or utcnow()
    ctx = context(conn, branch_id, now)
    fig = compute_days(conn, ctx.branch, ctx.services, day, day, now)[day]
    if not fig.closed:
        return False
    summary.store(conn, branch_id, [fig], now)
    return True
