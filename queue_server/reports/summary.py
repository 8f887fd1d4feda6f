"""Daily summaries (``report_days``): one row per closed branch day, dimension and key.

A closed day never changes (every ticket of it is final and the day is over),
so its figures are computed once from the raw rows and kept: counts and sums
(exact means and rates over any range), one-minute histograms (percentiles over
long ranges) and the sorted durations themselves (exact percentiles up to
``EXACT_DAYS`` days). ``version`` is the summary format: rows of another
version are recomputed lazily.

Writers: ``close_day`` (the day rollover calls it) and the lazy backfill of a
report that meets a closed day without its row. Both write the same rows; the
backfill computes in a read transaction and writes a few days per short write
transaction, so it never holds SQLite's write lock for long.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Text, and_, bindparam, cast, delete, func, insert, null, select
from sqlalchemy.exc import IntegrityError

from ..db import schema as s
from .facts import YIELD_EVERY, DayFigures, pause
from .figures import Dist, Stats, add_hist

log = logging.getLogger("tabour.reports")

VERSION = 1
R = s.report_days
R_COUNTS = ("arrivals", "called", "served", "no_show", "cancelled", "cancelled_at_close",
            "transferred", "calls", "marked_no_show", "transfers_out", "open_s", "sl_met",
            "sl_total", "printed_n", "printed_err_s", "printed_abs_s")


def rows_of(fig: DayFigures, branch_id: int, now: datetime) -> list[dict]:
    rows = []
    for (dim, key), st in sorted(fig.stats.items()):
        row = {"branch_id": branch_id, "day": fig.day, "dim": dim, "key": key,
               "version": VERSION, "computed_at": now,
               "wait_n": st.wait.n, "wait_sum_s": st.wait.total,
               "service_n": st.service.n, "service_sum_s": st.service.total,
               # SQL NULL, not a JSON null, when there is nothing
               "wait_hist": st.wait.hist or null(), "service_hist": st.service.hist or null(),
               "wait_values": sorted(st.wait.values) if st.wait.n else null(),
               "service_values": sorted(st.service.values) if st.service.n else null(),
               "target_min": fig.targets.get(int(key)) if dim == "service" else None}
        for name in R_COUNTS:
            row[name] = getattr(st, name)
        rows.append(row)
    return rows


def store(conn, branch_id: int, figs: list[DayFigures], now: datetime) -> int:
    """Replace the summaries of these (closed) days. Returns the rows written."""
    days = [f.day for f in figs if f.closed]
    if not days:
        return 0
    rows = [r for f in figs if f.closed for r in rows_of(f, branch_id, now)]
    _replace(conn, branch_id, days, rows)
    return len(rows)


def _replace(conn, branch_id: int, days: list[str], rows: list[dict]) -> None:
    conn.execute(delete(R).where(R.c.branch_id == branch_id, R.c.day.in_(days)))
    if rows:
        conn.execute(insert(R), rows)


def store_in_own_transactions(db, branch_id: int, figs: list[DayFigures], now: datetime,
                              days_per_transaction: int = 1) -> None:
    closed = [f for f in figs if f.closed]
    for i in range(0, len(closed), days_per_transaction):
        pause()
        chunk = closed[i:i + days_per_transaction]
        rows = [r for f in chunk for r in rows_of(f, branch_id, now)]  # before the lock
        pause()
        try:
            with db.write() as conn:
                _replace(conn, branch_id, [f.day for f in chunk], rows)
        except IntegrityError:
            # another process summarised the same days at the same moment: same rows
            log.info("summaries of branch %s written by someone else meanwhile", branch_id)


_Q_PRESENT = (select(R.c.day).where(R.c.branch_id == bindparam("b"), R.c.day >= bindparam("f"),
                                    R.c.day <= bindparam("t"), R.c.dim == "all",
                                    R.c.key == "", R.c.version == VERSION))


def summarized_days(conn, branch_id: int, day_from: str, day_to: str) -> set[str]:
    return {r[0] for r in conn.execute(_Q_PRESENT, {"b": branch_id, "f": day_from, "t": day_to})}


PERIOD_DIMS = ("all", "service")
HOURLY_DIMS = ("hour", "hour_service", "counter_hour")
_RANGE = and_(R.c.branch_id == bindparam("b"), R.c.day >= bindparam("f"),
              R.c.day <= bindparam("t"), R.c.version == VERSION)
_SUMS = [R.c[n] for n in R_COUNTS] + [R.c.wait_n, R.c.wait_sum_s, R.c.service_n,
                                      R.c.service_sum_s]
_TEXT = {c: cast(R.c[c], Text) for c in ("wait_hist", "service_hist", "wait_values",
                                                 "service_values")}


def _q_days(exact: bool, hourly: bool):
    """Whole rows of the dimensions a period needs, one per day."""
    cols = [R.c.day, R.c.dim, R.c.key, R.c.target_min, *_SUMS,
            _TEXT["wait_hist"], _TEXT["service_hist"]]
    if exact:
        cols += [_TEXT["wait_values"], _TEXT["service_values"]]
    dims = PERIOD_DIMS + (("hour", "hour_service") if hourly else ())
    return select(*cols).where(_RANGE, R.c.dim.in_(dims))


_Q_SUMS = (select(R.c.dim, R.c.key, *[func.sum(c) for c in _SUMS])
           .where(_RANGE, R.c.dim.notin_(PERIOD_DIMS + HOURLY_DIMS))
           .group_by(R.c.dim, R.c.key))


def _q_dists(exact: bool):
    cols = [R.c.dim, R.c.key, _TEXT["wait_hist"], _TEXT["service_hist"]]
    if exact:
        cols += [_TEXT["wait_values"], _TEXT["service_values"]]
    return select(*cols).where(_RANGE, R.c.dim.notin_(PERIOD_DIMS + HOURLY_DIMS))


_Q_DAYS = {(e, h): _q_days(e, h) for e in (True, False) for h in (True, False)}
_Q_DISTS = {e: _q_dists(e) for e in (True, False)}
_N = len(R_COUNTS)


def _stats(sums, wait_hist, service_hist, wait_values, service_values, exact) -> Stats:
    st = Stats()
    for name, v in zip(R_COUNTS, sums):
        setattr(st, name, int(v or 0))
    wn, ws, sn, ss = (int(v or 0) for v in sums[_N:_N + 4])
    st.wait = Dist(wn, ws, _loads(wait_hist), _loads(wait_values) if exact else None)
    st.service = Dist(sn, ss, _loads(service_hist), _loads(service_values) if exact else None)
    return st


def _loads(text) -> list:
    return (json.loads(text) or []) if text else []


@dataclass
class Loaded:
    """Summaries of a range: whole Stats per day for the dimensions periods need
    (all, service; hour and hour x service for the hour grain), and the range's
    totals of every other dimension (summed by the database; histograms merged here)."""

    days: dict        # day -> DayFigures
    range: dict       # (dim, key) -> Stats over the range, other dimensions


def load(conn, branch_id: int, day_from: str, day_to: str, exact: bool,
         hourly: bool) -> Loaded:
    params = {"b": branch_id, "f": day_from, "t": day_to}
    days: dict[str, DayFigures] = {}
    n = 4 + _N + 4
    for i, r in enumerate(conn.execute(_Q_DAYS[(exact, hourly)], params)):
        if i % YIELD_EVERY == 0:
            pause()
        day, dim, key, target = r[0], r[1], r[2], r[3]
        fig = days.get(day)
        if fig is None:
            fig = days[day] = DayFigures(day, {}, True, {})
        fig.stats[(dim, key)] = _stats(r[4:n], r[n], r[n + 1], r[n + 2] if exact else None,
                                       r[n + 3] if exact else None, exact)
        if dim == "service" and target is not None:
            fig.targets[int(key)] = target
    rng: dict[tuple, Stats] = {}
    for r in conn.execute(_Q_SUMS, params):
        rng[(r[0], r[1])] = _stats(r[2:], None, None, None, None, exact)
    for i, r in enumerate(conn.execute(_Q_DISTS[exact], params)):
        if i % (YIELD_EVERY * 4) == 0:
            pause()
        st = rng.get((r[0], r[1]))
        if st is None:
            continue
        if r[2]:
            add_hist(st.wait.hist, _loads(r[2]))
        if r[3]:
            add_hist(st.service.hist, _loads(r[3]))
        if exact:
            if r[4]:
                st.wait.values.extend(_loads(r[4]))
            if r[5]:
                st.service.values.extend(_loads(r[5]))
    return Loaded(days, rng)


def chart_aggregates(conn, branch_id: int, day_from: str, day_to: str) -> dict:
    """What the charts need from summarised days, summed by the database:
    hour x service arrivals and waits, arrivals per day and hour (weekday heat map),
    counter open seconds per hour."""
    where = and_(R.c.branch_id == branch_id, R.c.day >= day_from, R.c.day <= day_to,
                 R.c.version == VERSION)  # a few small queries: built per call
    hour_service = {}
    for key, arrivals, wn, ws in conn.execute(
            select(R.c.key, func.sum(R.c.arrivals), func.sum(R.c.wait_n),
                   func.sum(R.c.wait_sum_s))
            .where(where, R.c.dim == "hour_service").group_by(R.c.key)):
        hour_service[key] = [int(arrivals), int(wn), int(ws)]
    day_hour = defaultdict(int)
    for day, key, arrivals in conn.execute(
            select(R.c.day, R.c.key, R.c.arrivals).where(where, R.c.dim == "hour")):
        day_hour[(day, key)] += arrivals
    counter_hour = defaultdict(int)
    for day, key, open_s in conn.execute(
            select(R.c.day, R.c.key, R.c.open_s).where(where, R.c.dim == "counter_hour")):
        counter_hour[(day, key)] += open_s
    return {"hour_service": hour_service, "day_hour": dict(day_hour),
            "counter_hour": dict(counter_hour)}


def chart_aggregates_of(figs) -> dict:
    """The same aggregates from computed (open) days."""
    hour_service: dict = {}
    day_hour = defaultdict(int)
    counter_hour = defaultdict(int)
    for fig in figs:
        for (dim, key), st in fig.stats.items():
            if dim == "hour_service":
                acc = hour_service.setdefault(key, [0, 0, 0])
                acc[0] += st.arrivals
                acc[1] += st.wait.n
                acc[2] += st.wait.total
            elif dim == "hour":
                day_hour[(fig.day, key)] += st.arrivals
            elif dim == "counter_hour":
                counter_hour[(fig.day, key)] += st.open_s
    return {"hour_service": hour_service, "day_hour": dict(day_hour),
            "counter_hour": dict(counter_hour)}


def weekday(day: str) -> int:
    return date.fromisoformat(day).weekday()
