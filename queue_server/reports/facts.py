"""From tickets and events to per-day figures: the one place a report reads raw rows.

``compute_days`` reads the tickets of a range of branch days and the events of
those tickets (through the indexes on ``tickets(branch_id, day)`` and
``events(branch_id, type, at)``), and returns, for each day, a ``Stats`` per
(dimension, key). The daily summaries, today's dashboard figures and the
reports all come out of it, so they agree to the unit.

Attribution (the cohort convention): every figure about a ticket belongs to
the branch day it was issued on (``tickets.day``) and, for hours, to the local
clock hour of its issue in the branch's time zone; its calls, finish and
transfers count for that day even if they happen after midnight.

- A ticket is counted in the service it was ISSUED to (the queue the visitor
  joined): the service of its first call, or of the ticket when never called.
  A transferred ticket stays there; the transfer itself is reported in the
  ``transfer`` table (from service > to service, with the wait after the
  transfer: from the transfer to the next call). That second wait is NOT part
  of the ticket's wait.
- wait = first call - issue (``ticket_called`` events: a transferred, recycled
  or returned ticket is called again; only the first call counts).
- service time = finish - start of the ticket (the start/finish pair that ended
  it; a transfer resets the start). Counted for the counter and agent that
  finished it.
- counters and agents: calls = every ``ticket_called`` (re-calls after a
  transfer or recycle too), marked_no_show = no-show presses (a recycled no-show
  too), transfers_out = transfers made there, served = tickets finished there.
  An agent is the display name their session carried when they acted (the
  event's actor, ``user:<name>``).
- open_s = seconds a counter was open (open or serving, not paused or closed),
  cut at the branch day's edges and, for today, at now.
"""
from __future__ import annotations

import time as time_module
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from operator import attrgetter
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, text

from ..db import schema as s
from ..engine import numbering
from .figures import Stats, printed_error, service_level_outcome

LIVE = ("waiting", "called", "serving", "parked")
YIELD_EVERY = 300  # rows between two pauses (see pause())


def pause() -> None:
    """Let other requests run. The server runs under gevent with ``time`` patched
    (run.py), so a long report or export (seconds of CPU) must yield now and then or
    every call, display and kiosk of the branch would wait for it. Elsewhere a no-op."""
    time_module.sleep(0)
TICKET_EVENTS = ("ticket_called", "ticket_finished", "ticket_no_show", "ticket_recycled",
                 "ticket_transferred", "ticket_cancelled")
COUNTER_EVENTS = ("counter_opened", "counter_paused", "counter_closed")
CLOSE_ACTOR = "system:rollover"

# dimensions of a day's figures
COHORT_DIMS = ("all", "service", "channel", "priority", "outcome", "hour", "hour_service")
WORK_DIMS = ("counter", "agent", "transfer")
HOURLY_DIMS = ("hour", "hour_service", "counter_hour")


def day_window(day: str, tz: ZoneInfo, rollover_hour: int) -> tuple[datetime, datetime]:
    """The UTC instants a branch day runs between: [day at rollover, next day at rollover)."""
    d = date.fromisoformat(day)
    start = datetime.combine(d, time(rollover_hour), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(d + timedelta(days=1), time(rollover_hour), tzinfo=tz) \
        .astimezone(timezone.utc)
    return start, end


def days_between(day_from: str, day_to: str) -> list[str]:
    a, b = date.fromisoformat(day_from), date.fromisoformat(day_to)
    return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def branch_today(branch, now: datetime) -> str:
    return numbering.branch_day(now, branch.timezone, branch.policy.rollover_hour)


@dataclass
class DayFigures:
    """One branch day: Stats per (dim, key); ``closed`` when no ticket of it is live
    and the day is over (only then is it stored as a summary)."""

    day: str
    stats: dict
    closed: bool
    targets: dict  # service id -> target minutes used
    workers: dict = field(default_factory=dict, repr=False, compare=False)

    def get(self, dim: str, key: str = "") -> Stats:
        st = self.stats.get((dim, key))
        if st is None:
            st = self.stats[(dim, key)] = Stats()
        return st


_T = s.tickets.c
_Q_TICKETS = (select(_T.id, _T.day, _T.service_id, _T.status, _T.priority, _T.channel,
                     _T.issued_at, _T.started_at, _T.finished_at, _T.outcome,
                     _T.transfer_count, _T.printed_wait_minutes)
              .where(_T.branch_id == bindparam("b"), _T.day >= bindparam("f"),
                     _T.day <= bindparam("t")))
_E = s.events.c
_Q_EVENTS = (select(_E.seq, _E.ticket_id, _E.type, _E.at, _E.actor, _E.counter_id,
                    _E.service_id)
             .where(_E.branch_id == bindparam("b"), _E.type.in_(TICKET_EVENTS),
                    _E.at >= bindparam("start"), _E.at < bindparam("end")))
_Q_EVENTS_OF = (select(_E.seq, _E.ticket_id, _E.type, _E.at, _E.actor, _E.counter_id,
                       _E.service_id)
                .where(_E.ticket_id.in_(bindparam("ids", expanding=True)),
                       _E.type.in_(TICKET_EVENTS)))
# the predicate of ix_events_counter_at, written out literally: SQLite uses a partial
# index only when the query repeats its WHERE term (bound parameters would not match)
_COUNTER_TYPE = text("events.type IN ('counter_opened', 'counter_paused', 'counter_closed')")
_Q_COUNTER_EVENTS = (select(_E.seq, _E.type, _E.at, _E.counter_id)
                     .where(_E.branch_id == bindparam("b"), _COUNTER_TYPE,
                            _E.at >= bindparam("start"), _E.at < bindparam("end")))
_Q_COUNTER_BEFORE = (select(_E.type)
                     .where(_E.branch_id == bindparam("b"), _E.counter_id == bindparam("c"),
                            _COUNTER_TYPE, _E.at < bindparam("start"))
                     .order_by(_E.at.desc(), _E.seq.desc()).limit(1))
_Q_COUNTER_IDS = select(s.counters.c.id).where(s.counters.c.branch_id == bindparam("b"))


def compute_days(conn, branch, services: list, day_from: str, day_to: str,
                 now: datetime, exact: bool = True, hourly: bool = True) -> dict[str, DayFigures]:
    """Figures of every branch day in [day_from, day_to] from the raw rows. ``hourly``:
    also the hour and hour x service rows (reports, summaries; today's dashboard skips
    them)."""
    tz = ZoneInfo(branch.timezone)
    rollover = branch.policy.rollover_hour
    start, _ = day_window(day_from, tz, rollover)
    _, end = day_window(day_to, tz, rollover)
    today = branch_today(branch, now)
    targets = {sv.id: sv.target_wait_minutes for sv in services}

    tickets = conn.execute(_Q_TICKETS, {"b": branch.id, "f": day_from, "t": day_to}).all()
    pause()
    ids = {t.id for t in tickets}
    by_ticket: dict[int, list] = defaultdict(list)
    for i, e in enumerate(conn.execute(_Q_EVENTS, {"b": branch.id, "start": start,
                                                   "end": min(end, now)})):
        if i % (YIELD_EVERY * 4) == 0:
            pause()
        if e.ticket_id in ids:
            by_ticket[e.ticket_id].append(e)
    pause()
    _complete_histories(conn, tickets, by_ticket)

    out = {d: DayFigures(d, {}, d < today, dict(targets)) for d in days_between(day_from, day_to)}
    for d in out.values():
        d.get("all")  # every day has its row, even without a ticket
    cohorts: dict[str, dict] = {d: {} for d in out}
    for i, t in enumerate(tickets):
        if i % YIELD_EVERY == 0:
            pause()
        day = out[t.day]
        if t.status in LIVE:
            day.closed = False
        evs = by_ticket.get(t.id)
        if evs and len(evs) > 1:
            evs.sort(key=_by_seq)
        _add_ticket(day, cohorts[t.day], t, evs or (), targets, tz, now, hourly)
    for d, cohort in cohorts.items():
        _fold(out[d], cohort)
    _add_counters(conn, branch, out, tz, rollover, start, end, now)
    if not exact:
        for d in out.values():
            for st in d.stats.values():
                st.wait.values = st.service.values = None
    return out


def _complete_histories(conn, tickets, by_ticket) -> None:
    """A ticket whose events fall outside the range's window (kept overnight and called
    days later) gets its history by ticket id instead. Rare: read only those."""
    missing = []
    for i, t in enumerate(tickets):
        if i % (YIELD_EVERY * 4) == 0:
            pause()
        evs = by_ticket.get(t.id, ())
        types = {e.type for e in evs}
        needs_call = t.status in ("called", "serving", "done", "no_show") or t.transfer_count
        if ((needs_call and "ticket_called" not in types)
                or (t.status == "done" and "ticket_finished" not in types)
                or (t.status == "no_show" and "ticket_no_show" not in types)
                or (t.status == "cancelled" and "ticket_cancelled" not in types)):
            missing.append(t.id)
    for i in range(0, len(missing), 500):
        chunk = missing[i:i + 500]
        for tid in chunk:
            by_ticket[tid] = []
        for e in conn.execute(_Q_EVENTS_OF, {"ids": chunk}):
            by_ticket[e.ticket_id].append(e)


_by_seq = attrgetter("seq")


def _seconds(a: datetime, b: datetime) -> int:
    return int((b - a).total_seconds())


def agent_key(actor: str) -> str:
    """An agent by the display name in the event's actor (``user:<name>``); 120
    characters at most, like ``report_days.key``."""
    return (actor[5:] if actor.startswith("user:") else actor)[:120]


@dataclass(frozen=True)
class TicketTimes:
    """The durations of one ticket, by the conventions in the module doc."""

    first_call: object | None   # its first ticket_called event
    service_id: int             # the service it was issued to
    wait_s: int | None          # first call - issue
    unserved_s: int | None      # never called: issue -> cancellation, or -> now if waiting
    service_s: int | None       # finish - start (done tickets)


def ticket_times(t, events, now: datetime) -> TicketTimes:
    first_call = None
    for e in events:
        if e.type == "ticket_called":
            first_call = e
            break
    if first_call is not None:
        service_id, wait_s, unserved_s = first_call.service_id, \
            int((first_call.at - t.issued_at).total_seconds()), None
    else:
        service_id, wait_s, unserved_s = t.service_id, None, None
        if t.status == "cancelled" and t.finished_at is not None:
            unserved_s = int((t.finished_at - t.issued_at).total_seconds())
        elif t.status == "waiting":
            unserved_s = int((now - t.issued_at).total_seconds())
    service_s = None
    if t.status == "done" and t.started_at is not None and t.finished_at is not None:
        service_s = int((t.finished_at - t.started_at).total_seconds())
    return TicketTimes(first_call, service_id, wait_s, unserved_s, service_s)


# what a ticket contributes to each of its cohort rows (summed per row by _fold)
_CALLED, _WAIT, _STATUS, _SERVICE, _AT_CLOSE, _TRANSFERRED, _MET, _COUNTED, _PRINTED = range(9)


def _add_ticket(day: DayFigures, cohort: dict, t, events: list, targets: dict, tz, now,
                hourly: bool) -> None:
    tt = ticket_times(t, events, now)
    service_id, wait_s, service_s = tt.service_id, tt.wait_s, tt.service_s
    met, counted = service_level_outcome(wait_s, tt.unserved_s, targets.get(service_id))
    at_close = t.status == "cancelled" and any(
        e.type == "ticket_cancelled" and e.actor == CLOSE_ACTOR for e in events)
    printed = None
    if t.printed_wait_minutes is not None and wait_s is not None:
        printed = printed_error(wait_s, t.printed_wait_minutes)
    record = (wait_s is not None, wait_s, t.status, service_s, at_close,
              bool(t.transfer_count), met, counted, printed)
    sid = str(service_id)
    keys = [("all", ""), ("service", sid), ("channel", t.channel), ("priority", t.priority)]
    if hourly:
        hour = f"{t.issued_at.astimezone(tz).hour:02d}"
        keys += [("hour", hour), ("hour_service", f"{hour}:{sid}")]
    if t.status == "done" and t.outcome:
        keys.append(("outcome", t.outcome))
    for key in keys:
        recs = cohort.get(key)
        if recs is None:
            recs = cohort[key] = []
        recs.append(record)

    # the work: counters, agents, transfers
    last_service = service_id
    pending_transfer = None  # (Stats of the route, at)
    for e in events:
        kind = e.type
        if kind == "ticket_called":
            if pending_transfer is not None:
                pending_transfer[0].wait.add(_seconds(pending_transfer[1], e.at))
                pending_transfer = None
            last_service = e.service_id
            for st in _workers(day, e):
                st.calls += 1
        elif kind == "ticket_finished":
            for st in _workers(day, e):
                st.served += 1
                if service_s is not None:
                    st.service.add(service_s)
        elif kind in ("ticket_no_show", "ticket_recycled"):
            for st in _workers(day, e):
                st.marked_no_show += 1
        elif kind == "ticket_transferred":
            for st in _workers(day, e):
                st.transfers_out += 1
            route = day.get("transfer", f"{last_service}>{e.service_id}")
            route.transfers_out += 1
            pending_transfer = (route, e.at)
            last_service = e.service_id


def _fold(day: DayFigures, cohort: dict) -> None:
    """The cohort rows of a day from its tickets' records, a row at a time."""
    for key, recs in cohort.items():
        pause()
        st = day.get(*key)
        st.arrivals += len(recs)
        statuses = Counter(r[_STATUS] for r in recs)
        st.served += statuses["done"]
        st.no_show += statuses["no_show"]
        st.cancelled += statuses["cancelled"]
        st.open += sum(statuses[x] for x in LIVE)
        st.cancelled_at_close += sum(r[_AT_CLOSE] for r in recs)
        st.transferred += sum(r[_TRANSFERRED] for r in recs)
        st.sl_met += sum(r[_MET] for r in recs)
        st.sl_total += sum(r[_COUNTED] for r in recs)
        waits = [r[_WAIT] for r in recs if r[_CALLED]]
        st.called += len(waits)
        st.wait.extend(waits)
        st.service.extend([r[_SERVICE] for r in recs if r[_SERVICE] is not None])
        for err in (r[_PRINTED] for r in recs if r[_PRINTED] is not None):
            st.add_printed(err)


def _workers(day: DayFigures, e) -> tuple:
    """The counter's and the agent's rows an event counts for (cached per day)."""
    ck = (e.counter_id, e.actor)
    got = day.workers.get(ck)
    if got is None:
        got = []
        if e.counter_id is not None:
            got.append(day.get("counter", str(e.counter_id)))
        if e.actor:
            got.append(day.get("agent", agent_key(e.actor)))
        got = day.workers[ck] = tuple(got)
    return got


def _add_counters(conn, branch, out: dict, tz, rollover, start, end, now) -> None:
    """Open time of each counter, per branch day and per local hour."""
    end = min(end, now)
    if end <= start:
        return
    counter_ids = [r[0] for r in conn.execute(_Q_COUNTER_IDS, {"b": branch.id})]
    open_since: dict[int, datetime | None] = {}
    for cid in counter_ids:
        before = conn.execute(_Q_COUNTER_BEFORE, {"b": branch.id, "c": cid,
                                                  "start": start}).scalar()
        open_since[cid] = start if before == "counter_opened" else None
    rows = sorted(conn.execute(_Q_COUNTER_EVENTS, {"b": branch.id, "start": start,
                                                   "end": end}),
                  key=lambda r: r.seq)
    intervals = []
    for r in rows:
        since = open_since.get(r.counter_id)
        if r.type == "counter_opened":
            if since is None:
                open_since[r.counter_id] = r.at
        elif since is not None:
            intervals.append((r.counter_id, since, r.at))
            open_since[r.counter_id] = None
    for cid, since in open_since.items():
        if since is not None:
            intervals.append((cid, since, end))
    for cid, a, b in intervals:
        _spread(out, cid, a, b, tz, branch.policy.rollover_hour)


def _spread(out: dict, cid: int, a: datetime, b: datetime, tz, rollover: int) -> None:
    """Add the interval [a, b) to the days and local hours it covers."""
    cur = a
    while cur < b:
        local = cur.astimezone(tz)
        into_hour = local.minute * 60 + local.second + local.microsecond / 1e6
        nxt = min(b, cur + timedelta(seconds=3600 - into_hour))
        secs = (nxt - cur).total_seconds()
        day = numbering.branch_day(cur, tz.key, rollover)
        fig = out.get(day)
        if fig is not None:
            whole = int(round(secs))
            fig.get("counter", str(cid)).open_s += whole
            fig.get("counter_hour", f"{local.hour:02d}").open_s += whole
        cur = nxt


# --- the ticket list (exports) -------------------------------------------------------

_Q_TICKET_LIST = (select(_T.id, _T.day, _T.code, _T.service_id, _T.status, _T.priority,
                         _T.channel, _T.language, _T.issued_at, _T.started_at,
                         _T.finished_at, _T.outcome, _T.transfer_count, _T.recall_count,
                         _T.counter_id, _T.printed_wait_minutes, _T.printed_people_ahead)
                  .where(_T.branch_id == bindparam("b"), _T.day >= bindparam("f"),
                         _T.day <= bindparam("t"))
                  .order_by(_T.day, _T.issued_at, _T.id))


def ticket_list(db, branch, services: list, counters: dict, day_from: str, day_to: str,
                now: datetime, chunk_days: int = 31):
    """One dict per ticket of the range, in issue order, with the same wait and service
    time the figures use. Read 31 days at a time (a year streams in bounded memory).
    No note, no username (see export.py)."""
    tz = ZoneInfo(branch.timezone)
    prefix = {sv.id: sv.prefix for sv in services}
    days = days_between(day_from, day_to)
    for i in range(0, len(days), chunk_days):
        f, t = days[i], days[min(i + chunk_days, len(days)) - 1]
        start, _ = day_window(f, tz, branch.policy.rollover_hour)
        _, end = day_window(t, tz, branch.policy.rollover_hour)
        with db.read() as conn:
            tickets = conn.execute(_Q_TICKET_LIST, {"b": branch.id, "f": f, "t": t}).all()
            ids = {x.id for x in tickets}
            by_ticket: dict[int, list] = defaultdict(list)
            for e in conn.execute(_Q_EVENTS, {"b": branch.id, "start": start,
                                              "end": min(end, now)}):
                if e.ticket_id in ids:
                    by_ticket[e.ticket_id].append(e)
            _complete_histories(conn, tickets, by_ticket)
        for i, x in enumerate(tickets):
            if i % YIELD_EVERY == 0:
                pause()
            yield _ticket_row(x, sorted(by_ticket.get(x.id, ()), key=lambda e: e.seq),
                              prefix, counters, tz, now)


def _ticket_row(x, events: list, prefix: dict, counters: dict, tz, now) -> dict:
    tt = ticket_times(x, events, now)
    first_call, service_id, wait_s, service_s = tt.first_call, tt.service_id, tt.wait_s, \
        tt.service_s
    finish = next((e for e in events if e.type == "ticket_finished"), None)
    counter_id = finish.counter_id if finish is not None else x.counter_id
    printed_error_s = None
    if x.printed_wait_minutes is not None and wait_s is not None:
        printed_error_s = printed_error(wait_s, x.printed_wait_minutes)

    def local(at):
        return at.astimezone(tz) if at is not None else None
    return {
        "day": x.day, "code": x.code, "service": prefix.get(service_id, str(service_id)),
        "final_service": prefix.get(x.service_id, str(x.service_id)),
        "priority": x.priority, "channel": x.channel, "language": x.language,
        "status": x.status, "outcome": x.outcome,
        "issued_at": local(x.issued_at),
        "first_called_at": local(first_call.at) if first_call is not None else None,
        "started_at": local(x.started_at), "finished_at": local(x.finished_at),
        "wait_s": wait_s, "service_s": service_s,
        "counter": counters.get(counter_id, (None,))[0] if counter_id is not None else None,
        "agent": agent_key(finish.actor) if finish is not None else None,
        "transfer_count": x.transfer_count, "recall_count": x.recall_count,
        "printed_wait_minutes": x.printed_wait_minutes,
        "printed_people_ahead": x.printed_people_ahead,
        "printed_error_s": printed_error_s,
    }
