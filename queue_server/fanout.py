"""The fan-out: the one module that emits.

It listens to the read model: after each batch is applied it

- for a batch this process committed: emits each event's facts to the rooms that
  show them, sends the batch's print jobs (outbox rows) to their printer's
  agents, and schedules a coalesced ``queue_changed`` summary built from the
  projection, so a morning rush costs a few summaries a second, not one per ticket;
- for any batch (this process's or another's, through the message queue): runs
  the handlers that serve this process's own connections or devices (the phones
  following a ticket here, a serial display whose port this process owns, the
  ``counter_queue`` of each counter whose console is connected here).

Room names come from ``rooms``. Wall displays of a zone get only what their zone
shows (the server filters; the page copies no rule).

A payload that goes to several rooms is emitted ONCE to the list of rooms:
python-socketio encodes the packet once per emit (not per client) and sends it to
each connection in any of the rooms once; five emits of one call encoded (and
walked for binary parts) five times.

This is also the one module that imports Socket.IO (an architecture contract in
pyproject.toml): the app factory asks it for the server, the socket handlers for
joining rooms and refusing a connection.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager, nullcontext
from typing import Callable

from flask_socketio import ConnectionRefusedError as Refused  # noqa: F401  (the edges raise it)
from flask_socketio import SocketIO, join_room, leave_room
from socketio import Manager, RedisManager
from socketio.packet import Packet

from display.web import zones as zone_rules

from . import rooms
from .engine.model import Event
from .readmodel import presenters
from .readmodel.projection import Committed

log = logging.getLogger("tabour.fanout")

TICKET_CHANGED = {"ticket_started", "ticket_finished", "ticket_no_show", "ticket_recycled",
                  "ticket_transferred", "ticket_parked", "ticket_returned", "ticket_cancelled",
                  "ticket_requeued"}
COUNTER_EVENTS = ("counter_opened", "counter_paused", "counter_closed")
# events that end tokens: their sockets are cut in every process
CUTS = ("device_revoked", "session_revoked", "user_disabled", "user_password_changed")

Handler = Callable[["FanOut", int, int, Event], None]


# Socket.IO's client managers, made to skip rooms nobody here is in.
#
# python-socketio's manager builds and encodes a packet for every emit it handles,
# before it looks who is in the room. With several processes behind the message
# queue, every process handles every emit of every process: measured in
# bench-national (150 branches, 3 processes), the summaries' emits received from
# the others (a branch's 36 counters each get their queue, most with no console
# open anywhere, and in any one process only a third of the rooms have members) were
# ~30 % of a loaded server's CPU. Here a process first checks whether the room (or
# any of a list of rooms) has a member connected to it, and only then encodes.
#
# Our payloads never hold bytes, so the packets are plain JSON (``JsonPacket``): the
# library's walk of every payload looking for binary parts (~9 % of the same
# profile) is skipped (a payload with bytes in it would make the JSON encoder
# raise: loudly, never sent wrong).

class JsonPacket(Packet):
    """Socket.IO packets without binary attachments (none of our events has any)."""
    uses_binary_events = False


def has_members(manager: Manager, namespace: str | None, room) -> bool:
    """Whether ``room`` (a name, a list of names, or None: everyone) has a member
    connected to this process."""
    ns = manager.rooms.get(namespace or "/", {})
    if room is None:
        return bool(ns)
    names = (room,) if isinstance(room, str) else room
    return any(ns.get(r) for r in names)


class LocalManager(Manager):
    """One process, no message queue."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None,
             to=None, **kwargs):
        room = to or room
        if callback is None and not has_members(self, namespace, room):
            return
        return super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                            callback=callback, **kwargs)


class QueueManager(RedisManager):
    """Several processes over Redis: every emit is published (other processes may
    hold the room's members); each process delivers only what its own clients are
    in.

    Emits made inside ``bundle()`` (one greenlet's burst: a batch's facts, a branch's
    summary and its counters' queues) go to Redis as ONE message, in order, instead
    of one PUBLISH (a round trip) each: measured in bench-national, a summary's ~40
    publishes were ~20 % of a loaded server's samples, and each was another message
    for every other process to read. Every process runs this code; an older process
    reading a bundle logs a handler error and drops it (upgrade all processes
    together, as the README says)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._held = threading.local()  # greenlet-local under gevent's monkey-patching

    def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None,
             to=None, **kwargs):
        """PubSubManager.emit without its walk of every payload for binary parts (our
        packets have none: JsonPacket); ~6 % of a loaded server's samples went there."""
        room = to or room
        if kwargs.get("ignore_queue") or callback is not None:
            return super().emit(event, data, namespace=namespace, room=room,
                                skip_sid=skip_sid, callback=callback, **kwargs)
        message = {"method": "emit", "event": event,
                   "data": list(data) if isinstance(data, tuple) else [data],
                   "binary": False, "namespace": namespace or "/", "room": room,
                   "skip_sid": skip_sid, "callback": None, "host_id": self.host_id}
        self._handle_emit(message)  # this process's members
        self._publish(message)  # the other processes'
        return None

    @contextmanager
    def bundle(self):
        if getattr(self._held, "messages", None) is not None:
            yield  # nested: the outer bundle publishes
            return
        self._held.messages = []
        try:
            yield
        finally:
            self._flush()
            self._held.messages = None

    def _flush(self) -> None:
        messages = self._held.messages
        if not messages:
            return
        self._held.messages = []
        if len(messages) == 1:
            # its host_id, taken off while it was held, back on: without it this
            # process, reading its own message back from Redis, delivered it again to its
            # members (every display on the committing process heard a call twice)
            RedisManager._publish(self, {**messages[0], "host_id": self.host_id})
        else:
            RedisManager._publish(self, {"method": "emit", "bundle": messages,
                                         "host_id": self.host_id})

    def _publish(self, data):
        held = getattr(self._held, "messages", None)
        if held is None:
            return super()._publish(data)
        if data.get("method") == "emit" and data.get("callback") is None:
            data.pop("host_id", None)  # the bundle carries it once
            held.append(data)
            return None
        self._flush()  # anything else keeps its place after the emits before it
        return super()._publish(data)

    def _handle_emit(self, message):
        bundle = message.get("bundle")
        if bundle is not None:
            for one in bundle:
                try:
                    self._handle_emit(one)
                except Exception:  # one bad item never drops the rest
                    log.exception("emit from the message queue failed")
            return None
        if message.get("callback") is None and not has_members(
                self, message.get("namespace"), message.get("room")):
            return None
        return super()._handle_emit(message)


def make_socketio(app, settings) -> SocketIO:
    """The Socket.IO server, with the deployment's message queue when it has one
    (the managers above: rooms nobody here is in cost nothing; plain JSON packets)."""
    queue = settings.message_queue
    if queue and queue.startswith("redis"):
        manager = QueueManager(queue, channel=settings.channel)
    elif queue:
        manager = None  # another queue kind: Flask-SocketIO's own choice
    else:
        manager = LocalManager()
    extra = {"client_manager": manager} if manager is not None else {}
    return SocketIO(
        app, async_mode=settings.async_mode, message_queue=queue,
        serializer=JsonPacket, **extra,
        channel=settings.channel, logger=False, engineio_logger=False,
        # a socket whose pong the server has not read within ping_timeout is closed at the
        # next send (engineio.Socket.send): with 10 s, a loaded process (its reads late by
        # seconds) closed its own healthy sockets, ~1,200 of 1,200 in 40 s at 5x in
        # bench-national, and each came back for a snapshot, which loaded it more; 20 s
        # (Socket.IO's default) closed 2. A silently dead client is noticed within 30 s.
        ping_interval=10, ping_timeout=20,
        max_http_buffer_size=64 * 1024,  # the largest event is a printer's report (~2 KB)
    )


def join(room: str) -> None:
    """The current connection joins ``room`` (inside a socket handler)."""
    join_room(room)


def leave(room: str) -> None:
    leave_room(room)


class FanOut:
    def __init__(self, socketio, projections, estimator, clock, coalesce_s: float = 0.1):
        self.socketio = socketio
        self.projections = projections
        self.estimator = estimator
        self.clock = clock
        self.coalesce_s = coalesce_s
        self._pending: set[int] = set()
        self._pending_watch: set[int] = set()
        self._pending_queues: set[int] = set()
        self._lock = threading.Lock()
        self.handlers: dict[str, list[Handler]] = {}
        self.everywhere: dict[str, list[Handler]] = {}
        # phones following a ticket on THIS process: branch -> sid -> [ticket id, last sent]
        self.watchers: dict[int, dict[str, list]] = {}
        # supervisors (issue 13): each branch's roll-up (readmodel/rollup.py), sent per
        # region, coalesced; set by the app factory
        self.rollups = None
        self._sup_dirty: dict[str | None, set[int]] = {}
        self._sup_pending: set[str | None] = set()
        self.stats = {"supervisor_emits": 0, "supervisor_rows": 0, "counter_queues": 0}
        self.on("ticket_issued", FanOut._issued)
        self.on("ticket_called", FanOut._called)
        self.on("ticket_recalled", FanOut._called)
        for kind in TICKET_CHANGED:
            self.on(kind, FanOut._changed)
        for kind in COUNTER_EVENTS:
            self.on(kind, FanOut._counter)
        self.on("printer_changed", FanOut._printer)
        self.on("print_job_updated", FanOut._job)
        # a revoked token, a disabled account, a changed password, a logout: every process
        # cuts the sockets it holds for them (a batch from another process comes over the
        # message queue), so a revoked display stops receiving calls within a second
        for kind in CUTS:
            self.on(kind, FanOut._cut, everywhere=True)
        self.connections = None  # sockets.Sessions of this process (set by sockets.register)
        projections.listeners.append(self.on_batch)

    def on(self, event_type: str, handler: Handler, everywhere: bool = False) -> None:
        """Register ``handler(fanout, branch_id, seq, event)``. By default it runs in the
        process that committed the event; ``everywhere`` runs it in every process."""
        (self.everywhere if everywhere else self.handlers).setdefault(event_type, []).append(
            handler)

    # --- the only emits ------------------------------------------------------------------

    def emit(self, name: str, payload: dict, room: str | list[str]) -> None:
        """To one room, or once to a list of rooms (encoded once; a connection in two
        of them gets it once)."""
        self.socketio.emit(name, payload, to=room)

    def bundle(self):
        """Emits made inside go to the other processes as one message (QueueManager)."""
        manager = getattr(getattr(self.socketio, "server", None), "manager", None)
        bundle = getattr(manager, "bundle", None)
        return bundle() if bundle is not None else nullcontext()

    def send_to(self, sid: str, name: str, payload: dict) -> None:
        """To one connection: when it is connected to this process (a snapshot to the
        socket that asked, a phone followed here) nothing goes through the message queue
        (every other process would read it to find nobody)."""
        manager = getattr(self.socketio.server, "manager", None)
        if manager is not None and has_members(manager, "/", sid):
            self.socketio.emit(name, payload, to=sid, ignore_queue=True)
        else:
            self.socketio.emit(name, payload, to=sid)

    def to_displays(self, branch_id: int, name: str, payload: dict, service: str | None = None,
                    counter: int | None = None, also: tuple = ()) -> None:
        """Whole-branch displays, and each zone's displays when the zone shows it (a
        call: its service and counter; a counter's change: that counter); ``also``:
        more rooms that get the same payload, in the same emit."""
        self.emit(name, payload, self.display_rooms(branch_id, service, counter) + list(also))

    def display_rooms(self, branch_id: int, service: str | None, counter: int | None) -> list:
        out = [rooms.audience(branch_id, "displays")]
        for zone in self._zones(branch_id).values():
            shown = zone_rules.shows_call(zone, service, counter) if service is not None \
                else zone_rules.shows_counter(zone, counter)
            if shown:
                out.append(rooms.zone(branch_id, zone["name"]))
        return out

    def _zones(self, branch_id: int) -> dict:
        try:
            return self.projections.get(branch_id).branch.zones
        except Exception:
            log.exception("display zones unreadable")
            return {}

    def disconnect(self, sid: str) -> None:
        """Cut one connection of THIS process (its disconnect handler runs)."""
        self.socketio.server.disconnect(sid, namespace="/", ignore_queue=True)

    def _cut(self, branch_id: int, seq: int, e: Event) -> None:
        """The sockets of this process that a token-ending event names: its token(s),
        or every token of its user but the one it keeps (a password changed by its
        owner keeps the session that changed it)."""
        if self.connections is None:
            return
        d = e.data
        tokens = set(d.get("token_ids") or ())
        if d.get("token_id") is not None:
            tokens.add(d["token_id"])
        user = d.get("user_id") if e.type in ("user_disabled", "user_password_changed") \
            else None
        keep = d.get("kept_token_id")
        for sid, conn in self.connections.items():
            pr = conn.principal
            if pr.token_id == keep:
                continue
            if pr.token_id in tokens or (user is not None and pr.user_id == user):
                try:
                    self.disconnect(sid)
                except Exception:
                    log.exception("could not disconnect %s", sid)

    # --- batches ---------------------------------------------------------------------------

    def on_batch(self, branch_id: int, batch: Committed, local: bool) -> None:
        with self.bundle():
            self._on_batch(branch_id, batch, local)

    def _on_batch(self, branch_id: int, batch: Committed, local: bool) -> None:
        for seq, event in batch.events:
            for handler in self.everywhere.get(event.type, ()):
                self._run(handler, branch_id, seq, event)
            if local:
                for handler in self.handlers.get(event.type, ()):
                    self._run(handler, branch_id, seq, event)
        if local:
            for job in batch.jobs:
                self.emit("print_job", job, rooms.printer(branch_id, job["printer"]))
            self.schedule_summary(branch_id)
            if self.rollups is not None:
                self.schedule_rollup(branch_id)
        if batch.events and self._consoles_here(branch_id):
            self._schedule(self._pending_queues, branch_id, self._coalesced,
                           self._pending_queues, self.send_counter_queues, "counter queues")
        if self.watchers.get(branch_id):
            self._schedule(self._pending_watch, branch_id, self._positions_later)

    def _run(self, handler, branch_id, seq, event) -> None:
        try:
            handler(self, branch_id, seq, event)
        except Exception:  # a display must never break a counter's command
            log.exception("fan-out handler failed for %s", event.type)

    def schedule_summary(self, branch_id: int) -> None:
        self._schedule(self._pending, branch_id, self._coalesced, self._pending,
                       self.send_summary, "queue summary")

    def _schedule(self, pending: set, branch_id: int, task, *args) -> None:
        with self._lock:
            if branch_id in pending:
                return
            pending.add(branch_id)
        self.socketio.start_background_task(task, *args, branch_id)

    def _coalesced(self, pending: set, send, what: str, branch_id: int) -> None:
        """``send(branch_id)`` once for the batches of the last ``coalesce_s``."""
        self.socketio.sleep(self.coalesce_s)
        with self._lock:
            pending.discard(branch_id)
        try:
            send(branch_id)
        except Exception:
            log.exception("%s failed for branch %s", what, branch_id)

    def send_summary(self, branch_id: int) -> None:
        now = self.clock()
        p = self.projections.get(branch_id)
        with self.projections.lock(branch_id):
            payload = presenters.summary(p, now, self.estimator)
        with self.bundle():
            self.emit("queue_changed", payload, [rooms.audience(branch_id, name) for name in (
                "displays", "kiosks", "counters", "dashboards")])
            for zone in self._zones(branch_id).values():
                self.emit("queue_changed", zone_rules.filter_summary(payload, zone),
                          rooms.zone(branch_id, zone["name"]))

    # --- each counter's own queue: by the process its console is connected to --------------
    #
    # A console watches its counter's queue (``counter_queue``). The process that
    # committed a batch used to build the queue of every open counter of the branch and
    # publish each one: in bench-national 36 counters a branch, six of them with a
    # console, each queue read again by every other process to find nobody there. Now
    # every process, after any batch of a branch (its own or another's, through the
    # message queue), builds the queues of the counters whose consoles are connected to
    # IT, and sends them to those consoles only (nothing goes through Redis).

    def _consoles_here(self, branch_id: int) -> bool:
        manager = self.socketio.server.manager
        return has_members(manager, "/", rooms.audience(branch_id, "counters"))

    def send_counter_queues(self, branch_id: int) -> int:
        """The queue of each counter of the branch whose room has a member connected to
        this process, to that room, from this process only. Returns how many. A closed
        counter's console gets its queue too: the push is what a console shows after its
        own actions (console.js asks no snapshot), closing and opening included."""
        manager = self.socketio.server.manager
        ns = manager.rooms.get("/", {})
        now = self.clock()
        p = self.projections.get(branch_id)
        with self.projections.lock(branch_id):
            queues = [(c.number, presenters.counter_queue(p, c.number, now, self.estimator))
                      for c in p.counter_list() if ns.get(rooms.counter(branch_id, c.number))]
            seq = p.seq
        for number, queue in queues:
            self.socketio.emit("counter_queue", {"seq": seq, **queue},
                               to=rooms.counter(branch_id, number), ignore_queue=True)
        self.stats["counter_queues"] += len(queues)
        return len(queues)

    # --- supervisors: roll-ups per region ------------------------------------------------------

    SUPERVISOR_EVERY_S = 0.25  # at most 4 sends a second per region, whatever the load

    def schedule_rollup(self, branch_id: int) -> None:
        """A batch committed here changed the branch: its roll-up row goes to the
        supervisors of its region (and those naming the branch) within
        ``SUPERVISOR_EVERY_S``, with the other rows of the region that changed meanwhile.
        The process that committed sends (as the summaries): each change is sent once."""
        try:
            if not self.rollups.audience()[0]:
                return  # no supervisor in this deployment: nothing to send
            region = self.rollups.region_of(branch_id)
        except Exception:
            log.exception("region of branch %s unreadable", branch_id)
            return
        with self._lock:
            self._sup_dirty.setdefault(region, set()).add(branch_id)
            if region in self._sup_pending:
                return
            self._sup_pending.add(region)
        self.socketio.start_background_task(self._rollups_later, region)

    def _rollups_later(self, region: str | None) -> None:
        self.socketio.sleep(self.SUPERVISOR_EVERY_S)
        with self._lock:
            self._sup_pending.discard(region)
            dirty = sorted(self._sup_dirty.pop(region, ()))
        try:
            self.send_rollups(region, dirty)
        except Exception:
            log.exception("supervisors' rows failed for region %s", region)

    def send_rollups(self, region: str | None, branch_ids) -> list[tuple[int, dict]]:
        """The rows of ``branch_ids`` (one region) now, to its supervisors' rooms. O(rows)."""
        now = self.clock()
        rows = [(b, self.rollups.row(b, now)) for b in branch_ids]
        if not rows:
            return rows
        at = presenters.local_iso(now, "UTC")
        listed = self.rollups.audience()[1]  # branches a scope names by code
        with self.bundle():
            self.emit("supervisor_rows", {"now": at, "rows": [r for _b, r in rows]},
                      rooms.region(region))
            for b, row in rows:
                if b in listed:
                    self.emit("supervisor_rows", {"now": at, "rows": [row]},
                              rooms.supervised(b))
        self.stats["supervisor_emits"] += 1
        self.stats["supervisor_rows"] += len(rows)
        return rows

    # --- after the message queue was down -----------------------------------------------------

    RESYNC_AFTER_S = (1.0, 5.0, 15.0, 45.0)

    def resync_soon(self) -> None:
        """The message queue (Redis) was down: emits made meanwhile by other processes
        never reached the clients connected here, and theirs missed ours. Ask every
        client of the deployment to fetch a fresh snapshot, a few times (each server
        process's Socket.IO listener comes back on its own backoff); clients take one
        per few seconds."""
        self.socketio.start_background_task(self._resync_later)

    def _resync_later(self) -> None:
        waited = 0.0
        for at in self.RESYNC_AFTER_S:
            self.socketio.sleep(at - waited)
            waited = at
            try:
                for branch_id in self.projections.loaded():
                    payload = {"reason": "message_queue"}
                    self.emit("resync", payload, [
                        *(rooms.audience(branch_id, name) for name in (
                            "displays", "kiosks", "counters", "dashboards")),
                        rooms.supervised(branch_id),
                        *(rooms.zone(branch_id, z["name"])
                          for z in self._zones(branch_id).values())])
                    for sid in list(self.watchers.get(branch_id, {})):
                        self.send_to(sid, "resync", payload)
                if self.rollups is not None:  # supervisors: every region's room once
                    regions = {self.rollups.region_of(b) for b in self.projections.loaded()}
                    for region in regions:
                        self.emit("resync", {"reason": "message_queue"}, rooms.region(region))
            except Exception:
                log.exception("resync after a message-queue outage failed")

    # --- phones following a ticket on this process ------------------------------------------

    def watch(self, branch_id: int, sid: str, ticket_id: int, sent: dict | None) -> None:
        with self._lock:
            self.watchers.setdefault(branch_id, {})[sid] = [ticket_id, sent]

    def unwatch(self, sid: str) -> None:
        with self._lock:
            for by_sid in self.watchers.values():
                by_sid.pop(sid, None)

    def _positions_later(self, branch_id: int) -> None:
        self.socketio.sleep(self.coalesce_s)
        with self._lock:
            self._pending_watch.discard(branch_id)
            watching = list(self.watchers.get(branch_id, {}).items())
        if not watching:
            return
        now = self.clock()
        p = self.projections.get(branch_id)
        out = []
        with self.projections.lock(branch_id):
            for sid, entry in watching:
                t = p.ticket(entry[0])
                if t is None:
                    continue  # finished: its last change went to its ticket room
                pos = presenters.position(p, t, now, self.estimator)
                if pos != entry[1]:
                    entry[1] = pos
                    out.append((sid, {"seq": p.seq, **pos}))
        for sid, payload in out:
            self.send_to(sid, "ticket_position", payload)

    # --- facts ------------------------------------------------------------------------------

    def _p(self, branch_id: int):
        return self.projections.get(branch_id)

    def prefix(self, branch_id: int, service_id: int | None) -> str | None:
        svc = self._p(branch_id).service(service_id) if service_id is not None else None
        return svc.prefix if svc else None

    def local(self, branch_id: int, dt) -> str:
        return presenters.local_iso(dt, self._p(branch_id).branch.timezone)

    def _issued(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "id": e.ticket_id, "code": e.data["code"],
                   "service": self.prefix(branch_id, e.service_id),
                   "priority": e.data["priority"], "at": self.local(branch_id, e.at)}
        # to the dashboards only: no page of a kiosk or a counter reads it (a kiosk has its
        # own ticket in its answer, a console its counter's queue in counter_queue), and
        # it was 7 websocket frames an issue in a branch of 6 consoles (bench-national)
        self.emit("ticket_issued", payload, self._audiences(branch_id, "dashboards"))

    @staticmethod
    def _audiences(branch_id: int, *names: str) -> list[str]:
        return [rooms.audience(branch_id, name) for name in names]

    @staticmethod
    def _consoles(branch_id: int, *numbers) -> list[str]:
        """The rooms of the consoles of these counters (a console acts on a fact of its
        own counter only: console.js resyncs then). A fact of counter 3 went to every
        console of the branch before: 6 frames where 1 is read."""
        return [rooms.counter(branch_id, n) for n in dict.fromkeys(numbers) if n is not None]

    def _called(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "kind": "recalled" if e.type == "ticket_recalled" else "called",
                   "id": e.ticket_id, "code": e.data["code"],
                   "counter": e.data["counter_number"],
                   "service": self.prefix(branch_id, e.service_id),
                   "language": e.data["language"], "at": self.local(branch_id, e.at)}
        self.to_displays(branch_id, "ticket_called", payload, payload["service"],
                         payload["counter"], also=(
                             *self._audiences(branch_id, "dashboards"),
                             *self._consoles(branch_id, payload["counter"]),
                             rooms.ticket(branch_id, e.ticket_id)))

    def _changed(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "event": e.type, "id": e.ticket_id, "code": e.data["code"],
                   "counter": e.data.get("counter_number"),
                   "service": self.prefix(branch_id, e.service_id),
                   "at": self.local(branch_id, e.at)}
        if e.type == "ticket_transferred":
            payload["to_counter"] = e.data.get("to_counter_number")
        self.to_displays(branch_id, "ticket_changed", payload, payload["service"],
                         payload["counter"], also=(
                             *self._audiences(branch_id, "dashboards"),
                             *self._consoles(branch_id, payload["counter"],
                                             payload.get("to_counter")),
                             rooms.ticket(branch_id, e.ticket_id)))

    def _counter(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, "counter": e.data["counter_number"], "state": e.data["state"],
                   "at": self.local(branch_id, e.at)}
        # not to the kiosks: their services' open or closed state comes in queue_changed
        self.to_displays(branch_id, "counter_changed", payload, None, payload["counter"],
                         also=(*self._audiences(branch_id, "dashboards"),
                               *self._consoles(branch_id, payload["counter"])))

    def _printer(self, branch_id: int, seq: int, e: Event) -> None:
        payload = {"seq": seq, **presenters.printer_view(self._p(branch_id), e.data["printer"])}
        self.emit("printer_changed", payload, self._audiences(branch_id, "kiosks", "counters",
                                                              "dashboards"))

    def _job(self, branch_id: int, seq: int, e: Event) -> None:
        d = e.data
        payload = {"seq": seq, "job_id": d["job_id"], "printer": d["printer"],
                   "ticket_id": e.ticket_id, "status": d["status"], "attempts": d["attempts"],
                   "error": d["error"]}
        self.emit("print_job_changed", payload, self._audiences(branch_id, "kiosks",
                                                                "dashboards"))
