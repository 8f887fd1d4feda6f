"""The figure conventions of every report, in one place. Pure: no SQL, no clock.

Durations are whole seconds, truncated (``int(seconds)``), like the engine's
``waited_s``: sums and counts are integers, so a mean computed from daily sums
equals the mean computed from the tickets, to the unit.

Percentiles: NEAREST RANK. The p-th percentile of n sorted values x1..xn is
x_k with k = ceil(p * n / 100) (k = 1 when p = 0). It is always one of the
observed values; the median is the 50th percentile by the same rule, so for an
even count it is the LOWER of the two middle values (not their average).

Beyond ``EXACT_DAYS`` days a report takes its percentiles from per-day
histograms in one-minute bins (bin m holds the durations in [m, m+1) minutes).
The nearest-rank value falls in a known bin; the report gives that bin's UPPER
edge (m + 1 minutes): never below the exact value and less than one minute
above it. The report says so (``percentiles: "histogram_1min"``).

Service level: the share of tickets called within their service's target.
    met = tickets whose FIRST call came less than ``target`` minutes after issue
          (strictly: 20:00 with a 20-minute target is a miss)
    denominator = tickets called (a no-show counts at its call, like any call)
                + tickets never called whose time without a call reached the
                  target (still waiting now, or cancelled after the target)
Tickets cancelled before the target without being called are left out (they
neither met nor missed it). Each ticket is measured against the target of the
service it was issued to, as that target was when its day was summarised (a
closed day keeps the targets of its time; changing a target does not rewrite
history). The service level of a group is sum(met) / sum(denominator).

Printed estimate vs actual: for each ticket that had an estimate printed and
was called, error = actual wait - printed wait (minutes). bias = mean error
(positive: visitors waited longer than their ticket said); MAE = mean |error|.
"missing" when no ticket in the range has a printed estimate.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

EXACT_DAYS = 31  # up to this many days, percentiles are exact (nearest rank)


def nearest_rank(sorted_values: list, p: float):
    """The p-th percentile (0 <= p <= 100) of already sorted values, nearest rank."""
    n = len(sorted_values)
    if n == 0:
        return None
    if not 0 <= p <= 100:
        raise ValueError("a percentile is between 0 and 100")
    k = max(1, math.ceil(p * n / 100))
    return sorted_values[k - 1]


def hist_rank_bin(hist: list, p: float) -> int | None:
    """The one-minute bin that holds the nearest-rank p-th percentile."""
    n = sum(hist)
    if n == 0:
        return None
    k = max(1, math.ceil(p * n / 100))
    seen = 0
    for m, c in enumerate(hist):
        seen += c
        if seen >= k:
            return m
    return len(hist) - 1  # not reached: seen == n >= k


def hist_percentile_s(hist: list, p: float) -> int | None:
    """Histogram percentile in seconds: the upper edge of the bin (see module doc)."""
    m = hist_rank_bin(hist, p)
    return None if m is None else (m + 1) * 60


def add_hist(into: list, other: list) -> None:
    """Add ``other`` into ``into`` bin by bin (in C: this runs for every summary row)."""
    n, m = len(into), len(other)
    if m > n:
        into.extend([0] * (m - n))
    into[:m] = map(operator.add, into[:m], other)


def minute_bin(seconds: int) -> int:
    return max(0, seconds) // 60


@dataclass
class Dist:
    """A distribution of whole-second durations: count, sum, one-minute histogram and,
    while they are known, the values themselves (exact percentiles)."""

    n: int = 0
    total: int = 0
    hist: list = field(default_factory=list)
    values: list | None = field(default_factory=list)

    def add(self, seconds: int) -> None:
        seconds = max(0, int(seconds))
        self.n += 1
        self.total += seconds
        m = seconds // 60
        if m >= len(self.hist):
            self.hist.extend([0] * (m + 1 - len(self.hist)))
        self.hist[m] += 1
        if self.values is not None:
            self.values.append(seconds)

    def extend(self, seconds: list) -> None:
        """Add many whole-second durations at once."""
        if not seconds:
            return
        seconds = [s if s > 0 else 0 for s in seconds]
        self.n += len(seconds)
        self.total += sum(seconds)
        top = max(seconds) // 60
        if top >= len(self.hist):
            self.hist.extend([0] * (top + 1 - len(self.hist)))
        hist = self.hist
        for s in seconds:
            hist[s // 60] += 1
        if self.values is not None:
            self.values.extend(seconds)

    def merge(self, other: "Dist") -> None:
        self.n += other.n
        self.total += other.total
        add_hist(self.hist, other.hist)
        if self.values is not None and other.values is not None:
            self.values.extend(other.values)
        else:
            self.values = None

    @property
    def exact(self) -> bool:
        return self.values is not None

    def mean_s(self) -> float | None:
        return self.total / self.n if self.n else None

    def percentile_s(self, p: float):
        if self.n == 0:
            return None
        if self.values is not None:
            self.values.sort()
            return nearest_rank(self.values, p)
        return hist_percentile_s(self.hist, p)


def service_level_outcome(wait_s: int | None, unserved_s: int | None,
                          target_minutes: int | None) -> tuple[int, int]:
    """(met, counted) of one ticket: its contribution to a service level (module doc).
    ``wait_s``: to its first call, or None if never called; ``unserved_s``: for a
    ticket never called, how long it has been (or was, until cancelled) without a call."""
    if target_minutes is None:
        return 0, 0
    limit = target_minutes * 60
    if wait_s is not None:
        return (1 if wait_s < limit else 0), 1
    if unserved_s is not None and unserved_s >= limit:
        return 0, 1
    return 0, 0


def printed_error(wait_s: int, printed_minutes: int) -> int:
    """Actual minus printed, in seconds (positive: waited longer than printed)."""
    return int(wait_s) - int(printed_minutes) * 60


def mae_bias(errors_s: list) -> tuple[float, float] | None:
    """(MAE, bias) in minutes of a list of errors in seconds; None when empty."""
    if not errors_s:
        return None
    n = len(errors_s)
    return sum(abs(e) for e in errors_s) / n / 60, sum(errors_s) / n / 60


COUNTS = ("arrivals", "called", "served", "no_show", "cancelled", "cancelled_at_close",
          "transferred", "open", "calls", "marked_no_show", "transfers_out", "open_s",
          "sl_met", "sl_total", "printed_n", "printed_err_s", "printed_abs_s")


@dataclass
class Stats:
    """Everything one row of a report needs. ``merge`` adds two days (or two keys)."""

    arrivals: int = 0            # tickets issued
    called: int = 0              # tickets called at least once
    served: int = 0              # tickets finished (status done)
    no_show: int = 0             # tickets that ended as no-shows
    cancelled: int = 0           # tickets cancelled (by staff or at the day's close)
    cancelled_at_close: int = 0  # of which cancelled by the rollover (left waiting)
    transferred: int = 0         # tickets transferred at least once
    open: int = 0                # tickets not finished yet (today)
    calls: int = 0               # call events (counters, agents: every call, re-calls too)
    marked_no_show: int = 0      # no-show presses (counters, agents; recycled ones too)
    transfers_out: int = 0       # transfer events (counters, agents, transfer routes)
    open_s: int = 0              # seconds a counter was open (open or serving)
    sl_met: int = 0              # service level: called within target
    sl_total: int = 0            # service level: its denominator
    printed_n: int = 0           # tickets with a printed estimate that were called
    printed_err_s: int = 0       # sum of (actual - printed) wait, seconds
    printed_abs_s: int = 0       # sum of |actual - printed|, seconds
    wait: Dist = field(default_factory=Dist)     # first call - issue
    service: Dist = field(default_factory=Dist)  # finish - start

    def add_printed(self, err_s: int) -> None:
        self.printed_n += 1
        self.printed_err_s += err_s
        self.printed_abs_s += abs(err_s)

    def merge(self, o: "Stats") -> "Stats":
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(o, name))
        self.wait.merge(o.wait)
        self.service.merge(o.service)
        return self

    def figures(self) -> dict:
        """The figures of this row, rounded the way every output shows them:
        minutes to 0.1, rates and shares to 0.0001 (a fraction, not a percent)."""
        out = {name: getattr(self, name) for name in COUNTS[:11]}
        out["open_hours"] = _r(self.open_s / 3600, 2)
        out["no_show_rate"] = _rate(self.no_show, self.arrivals)
        out["cancellation_rate"] = _rate(self.cancelled, self.arrivals)
        out["wait_mean_min"] = _min(self.wait.mean_s())
        out["wait_median_min"] = _min(self.wait.percentile_s(50))
        out["wait_p90_min"] = _min(self.wait.percentile_s(90))
        out["service_mean_min"] = _min(self.service.mean_s())
        out["service_p90_min"] = _min(self.service.percentile_s(90))
        out["sl_met"] = self.sl_met
        out["sl_total"] = self.sl_total
        out["service_level"] = _rate(self.sl_met, self.sl_total)
        out["served_per_open_hour"] = _r(self.served / (self.open_s / 3600), 2) \
            if self.open_s else None
        if self.printed_n:
            out["printed_n"] = self.printed_n
            out["printed_mae_min"] = _r(self.printed_abs_s / self.printed_n / 60, 1)
            out["printed_bias_min"] = _r(self.printed_err_s / self.printed_n / 60, 1)
        else:
            out["printed_n"] = 0
            out["printed_mae_min"] = out["printed_bias_min"] = None
        return out


def _r(x, digits):
    return None if x is None else round(x, digits)


def _min(seconds):
    return None if seconds is None else round(seconds / 60, 1)


def _rate(part, whole):
    return round(part / whole, 4) if whole else None
