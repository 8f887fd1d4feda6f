"""Socket.IO handlers: authenticate, join rooms, answer with snapshots.

Handlers never emit deltas; the fan-out does. A client authenticates on
connect with ``auth={"token": ..., "view": ..., "counter": n}`` and gets a
``snapshot`` right away, then deltas; on every reconnect it gets a new snapshot.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import request
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from display.web import zones

from . import rooms, snapshots
from .db import repo
from .api.errors import describe_validation, error_body
from .auth import AuthError, Principal
from .engine.errors import DomainError
from .queries import ticket_view

log = logging.getLogger("tabour.sockets")

VIEW_PERMISSION = {"display": "display:watch", "kiosk": "kiosk:watch", "counter": "queue:watch",
                   "dashboard": "dashboard:watch", "printer": "printer:jobs"}
DEFAULT_VIEW = {"display": "display", "kiosk": "kiosk", "printer": "printer",
                "agent": "counter", "manager": "dashboard", "admin": "dashboard"}
VIEW_AUDIENCE = {"display": "displays", "kiosk": "kiosks", "counter": "counters",
                 "dashboard": "dashboards", "printer": "printers"}


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WatchCounter(_Msg):
    counter: int = Field(ge=1)


class WatchTicket(_Msg):
    ticket_id: int = Field(ge=1)


class Sync(_Msg):
    pass


@dataclass
class Conn:
    token: str
    principal: Principal
    view: str
    counter: int | None = None
    zone: dict | None = None  # a wall display's zone filter (display/web/zones.py)


class Sessions:
    """sid -> who is connected and what they watch."""

    def __init__(self):
        self._by_sid: dict[str, Conn] = {}
        self._lock = threading.Lock()

    def put(self, sid: str, conn: Conn) -> None:
        with self._lock:
            self._by_sid[sid] = conn

    def get(self, sid: str) -> Conn | None:
        with self._lock:
            return self._by_sid.get(sid)

    def drop(self, sid: str) -> None:
        with self._lock:
            self._by_sid.pop(sid, None)

    def __len__(self) -> int:
        return len(self._by_sid)


def _error(exc) -> dict:
    if isinstance(exc, ValidationError):
        message, problems = describe_validation(exc)
        return {"ok": False, **error_body("invalid_message", message, problems=problems)}
    if isinstance(exc, AuthError):
        return {"ok": False, **error_body("unauthorized" if exc.status == 401 else "forbidden",
                                          exc.message)}
    return {"ok": False, **error_body(exc.code, exc.message)}


def _branch_code(tabour, branch_id: int) -> str:
    with tabour.db.read() as conn:
        branch = repo.load_branch(conn, branch_id)
    return branch.code if branch else ""


def register(socketio, tabour) -> Sessions:
    sessions = Sessions()

    def current(permission: str | None = None) -> Conn:
        conn = sessions.get(request.sid)
        if conn is None:
            raise AuthError("This connection is not signed in: reconnect with a token.", 401)
        principal = tabour.auth.authenticate(conn.token)  # revocations take effect at once
        if permission and not principal.can(permission):
            raise AuthError(f"Your role ({principal.role}) may not do this.", 403)
        conn.principal = principal
        return conn

    @socketio.on("connect")
    def on_connect(auth=None):
        auth = auth if isinstance(auth, dict) else {}
        if auth.get("view") == "dossier" and not auth.get("token"):
            # the visitor's phone follows one dossier by its tracking number; wrong
            # guesses from one address are counted and slowed down
            return tabour.dossiers.public_connect(request.sid, auth.get("dossier"),
                                                  request.remote_addr or "?", tabour.fanout)
        if auth.get("view") == "ticket" and not auth.get("token") and tabour.printjobs:
            # the visitor's phone (QR code): one ticket by its public reference, no token
            return tabour.printjobs.public_connect(request.sid, auth.get("ticket"))
        try:
            principal = tabour.auth.authenticate(auth.get("token"))
        except AuthError as exc:
            raise ConnectionRefusedError(exc.message)
        view = auth.get("view") or DEFAULT_VIEW[principal.role]
        if view not in VIEW_PERMISSION:
            raise ConnectionRefusedError(f"Unknown view {view!r}: use one of "
                                         f"{', '.join(VIEW_PERMISSION)}.")
        if not principal.can(VIEW_PERMISSION[view]):
            raise ConnectionRefusedError(f"A {principal.role} token cannot open the {view} view.")
        counter = auth.get("counter")
        if counter is not None and (view != "counter" or not isinstance(counter, int)):
            raise ConnectionRefusedError("'counter' must be a counter number, with view 'counter'.")
        b = principal.branch_id
        zone = None
        if view == "display":  # re-read at every connect: a new zone needs no restart
            try:
                zone = zones.resolve(tabour.settings.config_path, _branch_code(tabour, b),
                                     auth.get("zone"))
            except zones.ZoneError as exc:
                raise ConnectionRefusedError(str(exc))
        elif auth.get("zone") is not None:
            raise ConnectionRefusedError("'zone' is only for the display view.")
        join_room(rooms.audience(b, VIEW_AUDIENCE[view]))
        if counter is not None:
            join_room(rooms.counter(b, counter))
        sessions.put(request.sid, Conn(auth["token"], principal, view, counter, zone))
        try:
            snap = snapshots.build(tabour.queries, b, view, counter)
        except DomainError as exc:
            raise ConnectionRefusedError(exc.message)
        if view == "display":
            snap = zones.filter_snapshot(snap, zone)
        tabour.fanout.send_to(request.sid, "snapshot", snap)
        if view == "printer" and tabour.printjobs:
            tabour.printjobs.agent_connected(request.sid, principal)  # re-sends unfinished jobs

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        conn = sessions.get(request.sid)
        sessions.drop(request.sid)
        if conn is not None and conn.view == "printer" and tabour.printjobs:
            tabour.printjobs.agent_disconnected(request.sid, conn.principal)

    @socketio.on("sync")
    def on_sync(data=None):
        """A fresh snapshot as the acknowledgement (a client that suspects a gap)."""
        try:
            Sync.model_validate(data or {})
            conn = current(VIEW_PERMISSION[sessions.get(request.sid).view]
                           if sessions.get(request.sid) else None)
            snap = snapshots.build(tabour.queries, conn.principal.branch_id, conn.view,
                                   conn.counter)
            if conn.view == "display":
                snap = zones.filter_snapshot(snap, conn.zone)
            return {"ok": True, "snapshot": snap}
        except (ValidationError, AuthError, DomainError) as exc:
            return _error(exc)

    @socketio.on("watch_counter")
    def on_watch_counter(data=None):
        """A console switches to (or starts watching) a counter."""
        try:
            msg = WatchCounter.model_validate(data if isinstance(data, dict) else {})
            conn = current("queue:watch")
            b = conn.principal.branch_id
            snap = snapshots.build(tabour.queries, b, "counter", msg.counter)
            if conn.counter is not None:
                leave_room(rooms.counter(b, conn.counter))
            join_room(rooms.counter(b, msg.counter))
            conn.counter, conn.view = msg.counter, "counter"
            join_room(rooms.audience(b, "counters"))
            return {"ok": True, "snapshot": snap}
        except (ValidationError, AuthError, DomainError) as exc:
            return _error(exc)

    @socketio.on("watch_ticket")
    def on_watch_ticket(data=None):
        """Follow one ticket (the visitor's phone): its calls and changes."""
        try:
            msg = WatchTicket.model_validate(data if isinstance(data, dict) else {})
            conn = current("tickets:read")
            ticket, st = tabour.queries.ticket(conn.principal.branch_id, msg.ticket_id)
            join_room(rooms.ticket(conn.principal.branch_id, ticket.id))
            return {"ok": True, "ticket": ticket_view(ticket, st)}
        except (ValidationError, AuthError, DomainError) as exc:
            return _error(exc)

    return sessions
