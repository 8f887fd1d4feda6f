"""When an alert is raised and when it clears. Pure: readings in, a decision out.

- ``wait_target`` (one per service): raised when the longest current wait or the
  current estimate for a new ticket reaches the service's target (a wait of exactly
  the target misses it, as in the reports' service level); cleared only once BOTH are
  at or below 90 % of the target (``HYSTERESIS``), so a queue hovering at the target
  raises one alert, not one a minute.
- ``counter_paused`` (one per counter): raised when a counter has been on a break
  for the branch policy's ``pause_alert_minutes`` (default 20); cleared when it is no
  longer on a break.

A decision is "raise", "clear" or None (nothing to do); whether an alert is open is
the caller's (the branch's alert list).
"""
from __future__ import annotations

from dataclasses import dataclass

HYSTERESIS = 0.9

RAISE, CLEAR = "raise", "clear"


@dataclass(frozen=True)
class WaitReading:
    target_min: int
    longest_wait_s: int  # the longest current wait (0: nobody waits)
    estimate_min: int | None  # what a ticket taken now would say; None: nobody could call it

    @property
    def over(self) -> bool:
        t = self.target_min
        return self.longest_wait_s >= t * 60 or \
            (self.estimate_min is not None and self.estimate_min >= t)

    @property
    def back_under(self) -> bool:
        limit = HYSTERESIS * self.target_min
        return self.longest_wait_s <= limit * 60 and \
            (self.estimate_min is None or self.estimate_min <= limit)


def wait_decision(is_open: bool, r: WaitReading) -> str | None:
    if not is_open and r.over:
        return RAISE
    if is_open and r.back_under:
        return CLEAR
    return None


def pause_decision(is_open: bool, paused_s: float | None, limit_min: int) -> str | None:
    """``paused_s``: how long the counter has been on a break; None: not on a break."""
    if not is_open and paused_s is not None and paused_s >= limit_min * 60:
        return RAISE
    if is_open and paused_s is None:
        return CLEAR
    return None
