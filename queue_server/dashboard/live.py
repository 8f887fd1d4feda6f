"""The live dashboard's pushes and the alert watch, off the request path.

Dashboards connect over Socket.IO with the ``dashboard`` view (``dashboard:watch``:
managers and admins). Their snapshot (sockets.py, on every connect) carries
``dashboard``: the live picture (readmodel/dashboard.py), today's figures and the
alert list. Then, for the branches a dashboard of THIS process watches:

- ``dashboard_live`` (a whole picture, coalesced; ``as_of_seq``, not ``seq``: a
  picture is applied whole, never dropped as a fact already seen): after every batch of the branch
  (local or from another process), and every ``LIVE_EVERY_S`` (estimates move with
  the clock);
- ``dashboard_today``: ``reports.today`` (the reports' own figures) recomputed off
  the request path: at once after a quiet spell, then at most every
  max(``TODAY_MIN_GAP_S``, ``TODAY_COST_FACTOR`` x its cost) while events keep
  coming, and every ``TODAY_EVERY_S`` when nothing happens (waits grow past targets);
- ``alert_raised`` / ``alert_cleared`` / ``alert_acknowledged``: facts with their
  ``seq``, emitted to the branch's dashboards room by the process that committed
  them (registered on the fan-out, which emits).

Each process computes only for the branches its own dashboards watch and sends to
those connections, so a national deployment computes nothing for branches nobody
watches, and two processes never send one dashboard the same picture twice.

Alerts (engine/alerts.py decides, commands/alerts.py writes) are evaluated by ONE
process of the deployment: the holder of the ``alerts`` lease, after each batch of
a branch (coalesced) and every ``ALERT_EVERY_S`` (a wait grows, a break lasts,
while nothing happens). ``run_forever`` (started by run.py) holds the lease and
ticks.
"""
from __future__ import annotations

import logging
import threading
import time

from .. import reports, rooms
from ..engine import alerts as rules
from ..readmodel import dashboard as D
from ..readmodel.alerts import ALERT_EVENTS, alert_view

log = logging.getLogger("tabour.dashboard")

LEASE = "alerts"


class DashboardHub:
    LIVE_EVERY_S = 15.0
    TODAY_MIN_GAP_S = 2.0
    TODAY_COST_FACTOR = 10.0
    TODAY_EVERY_S = 60.0
    ALERT_EVERY_S = 5.0
    ALERT_DELAY_S = 0.3  # after a batch: the estimator's forecast catches up first

    def __init__(self, tabour):
        self.t = tabour
        self.coalesce_s = tabour.settings.coalesce_s
        self.alerts_owner = False  # this process holds the alerts lease (run_forever)
        self._lock = threading.Lock()
        self._today: dict[int, tuple[float, dict]] = {}  # branch -> (monotonic, figures)
        self._today_next_ok: dict[int, float] = {}
        self._live_sent: dict[int, float] = {}
        self._watch: dict[int, set[str]] = {}  # branch -> sids of this process's dashboards
        self._pending: dict[str, set] = {"live": set(), "today": set(), "alerts": set()}
        self.stats = {"today": 0, "live": 0, "alert_checks": 0}

    # --- wiring -------------------------------------------------------------------------

    def register(self) -> "DashboardHub":
        self.t.projections.listeners.append(self.on_batch)
        for kind in ALERT_EVENTS:
            self.t.fanout.on(kind, self._alert_fact)
        return self

    def _spawn(self, fn, *args) -> None:
        self.t.socketio.start_background_task(fn, *args)

    def _sleep(self, s: float) -> None:
        self.t.socketio.sleep(s)

    # --- who watches here ------------------------------------------------------------------

    def watchers(self, branch_id: int) -> list[str]:
        """This process's dashboard connections of the branch (those that left are
        dropped here: the socket edge tells who joins, the sessions who is still on)."""
        sids = self._watch.get(branch_id)
        if not sids:
            return []
        sessions = self.t.sessions
        with self._lock:
            for sid in [sid for sid in sids
                        if sessions is None or sessions.get(sid) is None]:
                sids.discard(sid)
            return list(sids)

    def watched(self) -> list[int]:
        return [b for b in list(self._watch) if self.watchers(b)]

    # --- snapshot (sockets.py, GET /api/v1/dashboard) -------------------------------------------

    def snapshot(self, branch_id: int) -> dict:
        """The dashboard's part of a snapshot (call with the projection's lock held):
        the live picture, the alert list and the last computed figures of today."""
        p = self.t.view(branch_id)
        cached = self._today.get(branch_id)
        return {"live": D.live(p, self.t.now(), self.t.estimator),
                "today": cached[1] if cached else None,
                "alerts": D.alerts(p)}

    def connected(self, branch_id: int, sid: str) -> None:
        """A dashboard of the branch joined (sockets.py, after its snapshot): it gets the
        pushes from now on; today's figures follow at once when the kept ones are behind."""
        with self._lock:
            self._watch.setdefault(branch_id, set()).add(sid)
        cached = self._today.get(branch_id)
        if cached is None or cached[1].get("as_of_seq") != self.t.view(branch_id).seq:
            self._request(branch_id, "today")

    # --- after each batch ---------------------------------------------------------------------

    def on_batch(self, branch_id: int, batch, _local: bool) -> None:
        only_alerts = all(e.type in ALERT_EVENTS for _s, e in batch.events)
        if self.alerts_owner and not only_alerts:
            self._request(branch_id, "alerts")
        if self._watch.get(branch_id):  # a set lookup: every batch of every branch comes here
            self._request(branch_id, "live")
            if not only_alerts:
                self._request(branch_id, "today")

    def _request(self, branch_id: int, what: str) -> None:
        with self._lock:
            if branch_id in self._pending[what]:
                return
            self._pending[what].add(branch_id)
        self._spawn(getattr(self, f"_{what}_later"), branch_id)

    def _done(self, what: str, branch_id: int) -> None:
        with self._lock:
            self._pending[what].discard(branch_id)

    def _live_later(self, branch_id: int) -> None:
        self._sleep(self.coalesce_s)
        self._done("live", branch_id)
        try:
            self.push_live(branch_id)
        except Exception:
            log.exception("dashboard picture failed for branch %s", branch_id)

    def _today_later(self, branch_id: int) -> None:
        wait = self._today_next_ok.get(branch_id, 0.0) - time.monotonic()
        if wait > 0:
            self._sleep(wait)
        self._done("today", branch_id)
        if not self.watchers(branch_id):
            return  # its dashboards left meanwhile: nobody to compute for
        started = time.monotonic()
        try:
            self.refresh_today(branch_id)
        except Exception:
            log.exception("today's figures failed for branch %s", branch_id)
        cost = time.monotonic() - started
        self._today_next_ok[branch_id] = time.monotonic() + max(
            self.TODAY_MIN_GAP_S, self.TODAY_COST_FACTOR * cost)

    def _alerts_later(self, branch_id: int) -> None:
        self._sleep(self.ALERT_DELAY_S)
        self._done("alerts", branch_id)
        try:
            self.check_alerts(branch_id)
        except Exception:
            log.exception("alert check failed for branch %s", branch_id)

    # --- pushes --------------------------------------------------------------------------------

    def push_live(self, branch_id: int) -> None:
        sids = self.watchers(branch_id)
        if not sids:
            return
        p = self.t.view(branch_id)
        with self.t.projections.lock(branch_id):
            payload = D.live(p, self.t.now(), self.t.estimator)
        self._live_sent[branch_id] = time.monotonic()
        self.stats["live"] += 1
        for sid in sids:
            self.t.fanout.send_to(sid, "dashboard_live", payload)

    def refresh_today(self, branch_id: int) -> dict:
        """``reports.today`` now (with the sequence it reflects), kept and sent."""
        p = self.t.view(branch_id)
        seq = p.seq
        now = self.t.now()
        with self.t.db.read() as conn:
            figures = reports.today(conn, branch_id, now)
        figures["as_of_seq"] = seq  # not "seq": a picture, applied whole (not a fact)
        self._today[branch_id] = (time.monotonic(), figures)
        self.stats["today"] += 1
        for sid in self.watchers(branch_id):
            self.t.fanout.send_to(sid, "dashboard_today", figures)
        return figures

    # --- facts ----------------------------------------------------------------------------------

    def _alert_fact(self, fo, branch_id: int, seq: int, e) -> None:
        p = self.t.view(branch_id)
        a = p.alerts.by_id.get(e.data.get("alert_id"))
        if a is None:
            return
        fo.emit(e.type, {"seq": seq, "alert": alert_view(a, p.branch.timezone)},
                rooms.audience(branch_id, "dashboards"))

    # --- alerts ---------------------------------------------------------------------------------

    def check_alerts(self, branch_id: int) -> list[tuple[str, str, str]]:
        """Evaluate the branch's alert rules now and raise or clear what they say.
        Returns the decisions carried out: (decision, kind, key)."""
        self.stats["alert_checks"] += 1
        p = self.t.view(branch_id)
        now = self.t.now()
        tz = p.branch.timezone
        todo = []
        with self.t.projections.lock(branch_id):
            for svc, _view, _oldest, r in D.wait_readings(p, now, self.t.estimator):
                if not svc.active and p.alerts.open("wait_target", svc.prefix) is None:
                    continue
                decision = rules.wait_decision(
                    p.alerts.open("wait_target", svc.prefix) is not None, r)
                if decision:
                    todo.append((decision, "wait_target", svc.prefix, {
                        "service": svc.prefix, "service_name": svc.names,
                        "target_min": r.target_min,
                        "longest_wait_min": r.longest_wait_s // 60,
                        "estimate_min": "–" if r.estimate_min is None else r.estimate_min}))
            paused = D.paused_for(p, now)
            limit = p.policy.pause_alert_minutes
            numbers = {c.number for c in p.counter_list()}
            for number in sorted(numbers | {int(k) for k in p.alerts.open_keys("counter_paused")
                                            if k.isdigit()}):
                is_open = p.alerts.open("counter_paused", str(number)) is not None
                decision = rules.pause_decision(is_open, paused.get(number), limit)
                if decision:
                    row = p.counter_row(number)
                    since = row.since if row is not None else None
                    todo.append((decision, "counter_paused", str(number), {
                        "counter": number, "limit_min": limit,
                        "since": since.astimezone(_zone(tz)).strftime("%H:%M") if since else "–"}))
        done = []
        for decision, kind, key, data in todo:
            if decision == rules.RAISE:
                ok = self.t.commands.raise_alert(branch_id, kind, key, data) is not None
            else:
                ok = self.t.commands.clear_alert(branch_id, kind, key, data)
            if ok:
                done.append((decision, kind, key))
        return done

    # --- the clock ------------------------------------------------------------------------------

    def tick(self) -> None:
        """What time alone changes: alerts (lease holder), stale pictures (watchers)."""
        if self.alerts_owner:
            for branch_id in self.t.projections.loaded():
                try:
                    self.check_alerts(branch_id)
                except Exception:
                    log.exception("alert check failed for branch %s", branch_id)
                self._sleep(0)  # the calls go on between two branches (gevent)
        now = time.monotonic()
        for branch_id in self.watched():
            if now - self._live_sent.get(branch_id, 0.0) >= self.LIVE_EVERY_S:
                self._request(branch_id, "live")
            cached = self._today.get(branch_id)
            if cached is None or now - cached[0] >= self.TODAY_EVERY_S:
                self._request(branch_id, "today")

    def run_forever(self) -> None:
        while True:
            self._sleep(self.ALERT_EVERY_S)
            try:
                self.alerts_owner = self.t.leases.hold(LEASE)
            except Exception:  # the database is away: nobody raises meanwhile
                log.exception("alerts lease")
                self.alerts_owner = False
            try:
                self.tick()
            except Exception:
                log.exception("dashboard tick failed")


def _zone(tz: str):
    from zoneinfo import ZoneInfo
    return ZoneInfo(tz)
