"""Each branch's roll-up: the small summary the supervisors' page shows per branch.

Derived from the branch's projection (waiting per service and its oldest arrival,
counters' states, open alerts: counts and lookups the projection keeps, so a row
costs O(services + counters + alerts), never O(tickets)) plus one figure the
projection does not keep, the tickets served today, counted here as committed
events arrive (``on_batch``, a listener of every applied batch, local or from
another process). The count starts from one SQL count (the first time a branch is
asked for, or when this process missed events: a gap, a rebuilt projection, a new
day) and is then moved by ``ticket_finished`` events; an event at or below the
sequence counted is ignored, so a batch told twice counts once.

"Served" is the reports' own (``reports.today``'s totals.served: tickets of the
branch day finished, status done), so a row equals the branch dashboard's figures.

A wait that grows with the clock is sent as the moment it started and the target
(``waits``): the page counts on from the server's time without polling, and sorts
worst first with the same rule as ``severity``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..db import schema as s
from ..engine.model import CounterState
from . import presenters as P
from .projection import BranchProjection, Committed


@dataclass
class _Served:
    day: str
    count: int
    seq: int  # the branch sequence the count reflects


def severity(row: dict, now: datetime) -> tuple:
    """Worst first: the longest wait against its target (now), then open alerts, then
    the number waiting. A larger tuple is worse."""
    ratio = 0.0
    for w in row["waits"]:
        since = datetime.fromisoformat(w["since"])
        ratio = max(ratio, (now - since).total_seconds() / (60.0 * max(1, w["target_min"])))
    return (round(ratio, 6), row["alerts"], row["waiting"])


def worst_first(rows: list[dict], now: datetime) -> list[dict]:
    """Rows built at ``now`` (their ``worst_ratio`` is severity's first term then)."""
    return sorted(rows, key=lambda r: (-r["worst_ratio"], -r["alerts"], -r["waiting"],
                                       r["branch"]))


USER_EVENTS = frozenset({"user_created", "user_edited", "user_disabled", "user_enabled"})


class Rollups:
    AUDIENCE_S = 10.0  # who may listen is read again at least this often

    def __init__(self, db, projections):
        self.db = db
        self.projections = projections
        self._audience: tuple[float, bool, frozenset] | None = None
        self._served: dict[int, _Served] = {}
        self._meta: dict[int, tuple[str | None, dict]] = {}  # branch -> (region, its names)
        self._lock = threading.Lock()
        self.stats = {"recounts": 0, "rows": 0}
        projections.listeners.append(self.on_batch)

    # --- kept as events arrive ---------------------------------------------------------------

    def on_batch(self, branch_id: int, batch: Committed, _local: bool) -> None:
        if any(e.type in USER_EVENTS for _s, e in batch.events):
            self._audience = None  # a supervisor may have come or gone
        with self._lock:
            st = self._served.get(branch_id)
            if st is None or not batch.events:
                return
            if batch.first_seq > st.seq + 1:  # missed some: count again when asked
                self._served.pop(branch_id, None)
                return
            days = {t.id: t.day for t in batch.tickets}
            for seq, e in batch.events:
                if seq <= st.seq:
                    continue
                if e.type == "ticket_finished" and days.get(e.ticket_id, st.day) == st.day:
                    st.count += 1
                st.seq = seq

    def _recount(self, branch_id: int, day: str) -> _Served:
        """One statement (one snapshot): the branch's sequence and the tickets of ``day``
        served up to it."""
        T = s.tickets.c
        served = select(func.count()).select_from(s.tickets).where(
            T.branch_id == branch_id, T.day == day, T.status == "done").scalar_subquery()
        seq = select(s.branches.c.event_seq).where(
            s.branches.c.id == branch_id).scalar_subquery()
        with self.db.read() as conn:
            row = conn.execute(select(seq, served)).first()
        self.stats["recounts"] += 1
        return _Served(day, int(row[1] or 0), int(row[0] or 0))

    def served(self, p: BranchProjection) -> int:
        b = p.branch.id
        with self._lock:
            st = self._served.get(b)
        if st is None or st.day != p.day or st.seq < p.seq:
            st = self._recount(b, p.day)
            with self._lock:
                self._served[b] = st
        return st.count

    def _region(self, branch_id: int) -> str | None:
        meta = self._meta.get(branch_id)
        if meta is None:
            with self.db.read() as conn:
                region = conn.execute(select(s.branches.c.region).where(
                    s.branches.c.id == branch_id)).scalar()
            meta = self._meta[branch_id] = (region, {})
        return meta[0]

    def region_of(self, branch_id: int) -> str | None:
        return self._region(branch_id)

    # --- who may listen ------------------------------------------------------------------------

    def audience(self) -> tuple[bool, frozenset]:
        """(is there any supervisor account, the branch ids a scope names by code): the
        fan-out sends nothing when nobody could listen (a deployment without supervisors
        pays nothing), and a branch's own room only when a scope names it. Read again
        after a user event and at least every ``AUDIENCE_S``."""
        now = time.monotonic()
        got = self._audience
        if got is None or now - got[0] > self.AUDIENCE_S:
            U, B = s.users.c, s.branches.c
            with self.db.read() as conn:
                scopes = [r[0] for r in conn.execute(select(U.scope).where(
                    U.role == "supervisor", U.active == True))]  # noqa: E712
                codes = {c for sc in scopes if isinstance(sc, dict)
                         for c in sc.get("branches") or ()}
                ids = frozenset(r[0] for r in conn.execute(
                    select(B.id).where(B.code.in_(codes)))) if codes else frozenset()
            got = self._audience = (now, bool(scopes), ids)
        return got[1], got[2]

    def forget_audience(self) -> None:
        """A supervisor connected here: read who listens again at the next batch."""
        self._audience = None

    # --- a row -------------------------------------------------------------------------------

    def row(self, branch_id: int, now: datetime) -> dict:
        """The branch's roll-up now (takes the projection's lock)."""
        p = self.projections.get(branch_id)
        with self.projections.lock(branch_id):
            return self.row_of(p, now)

    def row_of(self, p: BranchProjection, now: datetime) -> dict:
        tz = p.branch.timezone
        waiting = 0
        waits = []
        longest = 0
        ratio = 0.0
        for svc in p.services:
            n = p.index.waiting(svc.id)
            waiting += n
            oldest = p.index.oldest(svc.id) if n else None
            if oldest is not None:
                age = (now - oldest).total_seconds()
                longest = max(longest, int(age))  # as the dashboard's longest_wait_s
                ratio = max(ratio, age / (60.0 * max(1, svc.target_wait_minutes)))
                waits.append({"service": svc.prefix, "since": P.local_iso(oldest, tz),
                              "target_min": svc.target_wait_minutes})
        counters = list(p.counters.values())
        self.stats["rows"] += 1
        row = {
            "branch": p.branch.code, "names": p.branch.names,
            "region": self._region(p.branch.id), "day": p.day, "as_of_seq": p.seq,
            "waiting": waiting, "waits": waits, "longest_wait_s": max(0, longest),
            "counters_open": sum(1 for r in counters
                                 if r.counter.state is not CounterState.CLOSED),
            "counters": len(counters),
            "served": self.served(p),
            "alerts": len([a for a in p.alerts.by_id.values() if a["cleared_at"] is None]),
        }
        row["worst_ratio"] = round(ratio, 6)  # = severity(row, now)[0]
        return row


# the fields that move only with events (what the fan-out compares before sending a row)
STABLE = ("waiting", "waits", "counters_open", "counters", "served", "alerts", "day", "names",
          "region")


def changed(old: dict | None, new: dict) -> bool:
    return old is None or any(old.get(k) != new.get(k) for k in STABLE)
