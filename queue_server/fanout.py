"""The fan-out: the one module that turns committed engine events into emits.

Service functions hand it the events of a committed transaction; it emits
facts to the rooms that show them, and schedules a coalesced ``queue_changed``
(waiting counts and estimates) per branch so a morning rush of tickets costs a
few summaries a second, not one per ticket. Later stages (print jobs, serial
counter displays, announcements) register here as handlers too.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from . import rooms
from .db import repo
from .engine.model import Event
from .queries import Queries, local_iso, service_view
from .snapshots import counter_queue

log = logging.getLogger("tabour.fanout")

TICKET_CHANGED = {"ticket_started", "ticket_finished", "ticket_no_show", "ticket_recycled",
                  "ticket_transferred", "ticket_parked", "ticket_returned", "ticket_cancelled",
                  "ticket_requeued"}


class FanOut:
    def __init__(self, socketio, queries: Queries, coalesce_s: float = 0.1):
        self.socketio = socketio
        self.queries = queries
        self.coalesce_s = coalesce_s
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._prefixes: dict[int, dict[int, str]] = {}
        self._tz: dict[int, str] = {}
        self.handlers: dict[str, list[Callable]] = {}
        self.on("ticket_issued", FanOut._issued)
        self.on("ticket_called", FanOut._called)
        self.on("ticket_recalled", FanOut._called)
        for kind in TICKET_CHANGED:
            self.on(kind, FanOut._changed)
        for kind in ("counter_opened", "counter_paused", "counter_closed"):
            self.on(kind, FanOut._counter)

    def on(self, event_type: str, handler: Callable) -> None:
        """Register ``handler(fanout, branch_id, seq, event)`` for an event type."""
        self.handlers.setdefault(event_type, []).append(handler)

    # --- the only emits ------------------------------------------------------

    def emit(self, name: str, payload: dict, room: str) -> None:
        self.socketio.emit(name, payload, to=room)

    def send_to(self, sid: str, name: str, payload: dict) -> None:
        self.socketio.emit(name, payload, to=sid)

    # --- publishing ------------------------------------------------------------

    def publish(self, branch_id: int, stored: list[tuple[int, Event]]) -> None:
        if not stored:
            return
        for seq, event in stored:
            for handler in self.handlers.get(event.type, ()):
                try:
                    handler(self, branch_id, seq, event)
                except Exception:  # a display must never break a counter's command
                    log.exception("fan-out handler failed for %s", event.type)
        self.schedule_summary(branch_id)

    def config_changed(self, branch_id: int) -> None:
        self._prefixes.pop(branch_id, None)
        self.schedule_summary(branch_id)

    def schedule_summary(self, branch_id: int) -> None:
        with self._lock:
            if branch_id in self._pending:
                return
            self._pending.add(branch_id)
        self.socketio.start_background_task(self._summary_later, branch_id)

    def _summary_later(self, branch_id: int) -> None:
        self.socketio.sleep(self.coalesce_s)
        with self._lock:
            self._pending.discard(branch_id)
        try:
            self.send_summary(branch_id)
        except Exception:
            log.exception("queue summary failed for branch %s", branch_id)

    def send_summary(self, branch_id: int) -> None:
        with self.queries.db.read() as conn:
            seq = repo.current_seq(conn, branch_id)
            st = self.queries.state(branch_id, conn)
        payload = {"seq": seq, "services": [service_view(s, st) for s in st.services],
                   "counters": [{"number": c.number, "state": c.state.value}
                                for c in st.counters]}
        for name in ("displays", "kiosks", "counters", "dashboards", "phones"):
            self.emit("queue_changed", payload, rooms.audience(branch_id, name))
        for c in st.counters:
            if c.state.value != "closed":
                self.emit("counter_queue", {"seq": seq, **counter_queue(st, c.number)},
                          rooms.counter(branch_id, c.number))

    # --- helpers for handlers -----------------------------------------------------

    def prefix(self, branch_id: int, service_id: int | None) -> str | None:
        if service_id is None:
            return None
        known = self._prefixes.get(branch_id)
        if known is None or service_id not in known:
            st_services = self.queries.services(branch_id)
            known = self._prefixes[branch_id] = {s.id: s.prefix for s in st_services}
            self._tz[branch_id] = self.queries.timezone(branch_id)
        return known.get(service_id)

    def local(self, branch_id: int, dt) -> str:
        if branch_id not in self._tz:
            self._tz[branch_id] = self.queries.timezone(branch_id)
        return local_iso(dt, self._tz[branch_id])

    # --- handlers -----------------------------------------------------------------

    def _issued(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "id": e.ticket_id, "code": e.data["code"],
                   "service": self.prefix(branch_id, e.service_id),
                   "priority": e.data["priority"], "at": self.local(branch_id, e.at)}
        for name in ("kiosks", "counters", "dashboards"):
            self.emit("ticket_issued", payload, rooms.audience(branch_id, name))

    def _called(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "kind": "recalled" if e.type == "ticket_recalled" else "called",
                   "id": e.ticket_id, "code": e.data["code"],
                   "counter": e.data["counter_number"],
                   "service": self.prefix(branch_id, e.service_id),
                   "language": e.data["language"], "at": self.local(branch_id, e.at)}
        for name in ("displays", "counters", "dashboards"):
            self.emit("ticket_called", payload, rooms.audience(branch_id, name))
        self.emit("ticket_called", payload, rooms.ticket(branch_id, e.ticket_id))

    def _changed(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "event": e.type, "id": e.ticket_id, "code": e.data["code"],
                   "counter": e.data.get("counter_number"),
                   "service": self.prefix(branch_id, e.service_id),
                   "at": self.local(branch_id, e.at)}
        if e.type == "ticket_transferred":
            payload["to_counter"] = e.data.get("to_counter_number")
        for name in ("counters", "dashboards", "displays"):
            self.emit("ticket_changed", payload, rooms.audience(branch_id, name))
        self.emit("ticket_changed", payload, rooms.ticket(branch_id, e.ticket_id))

    def _counter(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "counter": e.data["counter_number"], "state": e.data["state"],
                   "at": self.local(branch_id, e.at)}
        for name in ("displays", "counters", "dashboards", "kiosks"):
            self.emit("counter_changed", payload, rooms.audience(branch_id, name))
