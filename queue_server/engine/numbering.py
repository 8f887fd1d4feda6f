"""Ticket numbers per service per branch day."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .model import Policy


def branch_day(now_utc: datetime, timezone: str, rollover_hour: int) -> str:
    """The branch day a moment belongs to, as an ISO date.

    The day starts at ``rollover_hour`` local time: with a rollover at 04:00, a
    ticket issued at 02:30 in Casablanca still belongs to the previous day.
    """
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    local = now_utc.astimezone(ZoneInfo(timezone))
    if local.hour < rollover_hour:
        local -= timedelta(days=1)
    return local.date().isoformat()


def ticket_code(prefix: str, number: int) -> str:
    """``A-007``: the service letter and a zero-padded number (grows past 999)."""
    return f"{prefix}-{number:03d}"


def first_number_of_day(policy: Policy, carried_numbers: list[int]) -> int:
    """The last number already used when a service's day starts.

    Normally 0 (the day starts at 001). When the branch keeps tickets overnight
    and some from an earlier day are still waiting, numbering continues after
    them so that two waiting tickets never share a code.
    """
    if policy.keep_overnight and carried_numbers:
        return max(carried_numbers)
    return 0
