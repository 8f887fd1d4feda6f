"""Figures with their sample counts. A "p99" only from at least 100 independent
samples; below that the maximum is reported instead (and named so)."""
from __future__ import annotations

import statistics

P99_MIN_SAMPLES = 100


def pct(values, p):
    """The p-th percentile, interpolated between the two nearest ranks."""
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(values, digits: int = 2) -> dict:
    """{"median", "p99" (or "max" under 100 samples), "n"}."""
    values = list(values)
    if not values:
        return {"n": 0}
    out = {"median": round(statistics.median(values), digits)}
    if len(values) >= P99_MIN_SAMPLES:
        out["p99"] = round(pct(values, 99), digits)
    else:
        out["max"] = round(max(values), digits)
    out["n"] = len(values)
    return out


def cpu_yardstick() -> dict:
    """How fast this machine's CPU is right now, for reading figures across days: the
    best of 5 timings of a fixed pure-Python loop (``sum(range(10000))``, 200 times), in
    microseconds a loop. Machines of the same kind differ: 2026-11-30 gave 270 us
    (about 2.7x what a typical core of that class gives) and every figure of the bench
    ~4-5x lower than the day before; compare runs by this number first."""
    import timeit
    best = min(timeit.repeat("sum(range(10000))", number=200, repeat=5))
    return {"sum_range_10000_us": round(best / 200 * 1e6, 1), "n": 5}
