"""A first, honest wait estimate."""
from __future__ import annotations

import math
from statistics import mean
from typing import Sequence

from .model import Policy


def mean_service_minutes(recent_durations_s: Sequence[float], policy: Policy) -> float:
    """Mean of the recent service times, or the branch default before there is history.

    Durations outside 10 s .. 2 h are noise (a ticket finished by mistake, a
    counter left open over lunch) and are ignored.
    """
    usable = [d for d in recent_durations_s[-policy.service_time_window:] if 10 <= d <= 7200]
    if len(usable) < 3:
        return policy.default_service_minutes
    return mean(usable) / 60.0


def estimate_wait_minutes(people_ahead: int, counters_serving: int,
                          service_minutes: float) -> int:
    """People ahead shared among the counters that serve them, times the mean service time."""
    if people_ahead <= 0:
        return 0
    return math.ceil(people_ahead * service_minutes / max(1, counters_serving))
