"""Socket.IO handlers: authenticate, join rooms, answer with snapshots.

Handlers never emit deltas; the fan-out does. A client authenticates on connect
with ``auth={"token": ..., "view": ..., "counter": n, "zone": ..., "lang": ...}``
and gets a ``snapshot`` right away, then deltas; on every reconnect a new
snapshot. Visitors' phones connect without a token to follow one ticket
(``view: "ticket"``, its public reference) or one dossier (``view: "dossier"``,
its tracking number). Refusals carry a code, parameters and a message in the
connection's language.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from display.web import zones

from . import rooms
from .fanout import Refused as ConnectionRefusedError
from .fanout import join as join_room
from .fanout import leave as leave_room
from .api.errors import ApiError, error_body, validation_error
from .auth import AuthError, Principal
from .db import repo
from .db import schema as s
from .engine.errors import DomainError, NotFound
from .engine.messages import N_, register as register_messages
from .i18n import LANGUAGES  # the visitors' languages (Tamazight included)
from .readmodel import presenters as P
from .readmodel import zones as display_zones
from .readmodel.public import public_ticket, public_view
from .supervisor.view import supervisor_snapshot

log = logging.getLogger("tabour.sockets")

VIEW_PERMISSION = {"display": "display:watch", "kiosk": "kiosk:watch", "counter": "queue:watch",
                   "dashboard": "dashboard:watch", "printer": "printer:jobs",
                   "supervisor": "supervisor:watch"}
DEFAULT_VIEW = {"display": "display", "kiosk": "kiosk", "printer": "printer",
                "agent": "counter", "manager": "dashboard", "admin": "dashboard",
                "supervisor": "supervisor"}
VIEW_AUDIENCE = {"display": "displays", "kiosk": "kiosks", "counter": "counters",
                 "dashboard": "dashboards", "printer": "printers"}

register_messages({
    "unknown_view": N_("Unknown view '%(view)s': use one of %(choices)s."),
    "counter_needs_view": N_("'counter' must be a counter number, with view 'counter'."),
    "zone_only_display": N_("'zone' is only for the display view."),
    "branch_only_dashboard": N_("'branch' (a branch code) is only for the dashboard view."),
})


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WatchCounter(_Msg):
    counter: int = Field(ge=1, le=100_000)


class WatchTicket(_Msg):
    ticket_id: int = Field(ge=1, le=2**31 - 1)  # the database's INTEGER


class Sync(_Msg):
    pass


@dataclass
class Conn:
    token: str
    principal: Principal
    view: str
    counter: int | None = None
    zone: dict | None = None  # a wall display's zone filter (display/web/zones.py)
    lang: str = "en"
    branch: int | None = None  # the branch watched, when not the principal's own (a
    #                            supervisor's dashboard of a branch in its scope)

    @property
    def branch_id(self) -> int:
        return self.branch if self.branch is not None else self.principal.branch_id


class Sessions:
    """sid -> who is connected and what they watch (this process)."""

    def __init__(self):
        self._by_sid: dict[str, Conn] = {}
        self._lock = threading.Lock()

    def put(self, sid: str, conn: Conn) -> None:
        with self._lock:
            self._by_sid[sid] = conn

    def get(self, sid: str) -> Conn | None:
        with self._lock:
            return self._by_sid.get(sid)

    def drop(self, sid: str) -> Conn | None:
        with self._lock:
            return self._by_sid.pop(sid, None)

    def items(self) -> list[tuple[str, Conn]]:
        with self._lock:
            return list(self._by_sid.items())

    def __len__(self) -> int:
        return len(self._by_sid)


def _lang(auth: dict) -> str:
    lang = auth.get("lang")
    return lang if lang in LANGUAGES else "en"


def error(exc, lang: str = "en") -> dict:
    """An acknowledgement that refuses: the code, its parameters, the message."""
    if isinstance(exc, ValidationError):
        exc = validation_error(exc, "invalid_message")
    return {"ok": False, **error_body(exc, lang)}


def refuse(exc: DomainError, lang: str) -> ConnectionRefusedError:
    """A refused connection: ``err.message`` is readable, ``err.data`` has the code."""
    body = error_body(exc, lang)["error"]
    return ConnectionRefusedError(body["message"], {"code": body["code"],
                                                    "params": body["params"]})


def register(socketio, tabour) -> Sessions:
    sessions = Sessions()
    tabour.fanout.connections = sessions  # revocations cut these sockets (fanout._cut)

    def current(permission: str | None = None) -> Conn:
        conn = sessions.get(request.sid)
        if conn is None:
            raise AuthError("not_signed_in", 401)
        principal = tabour.auth.authenticate(conn.token)  # revocations take effect at once
        if permission and not principal.can(permission):
            raise AuthError("role_forbidden", 403, role=principal.role, permission=permission)
        if conn.branch is not None:  # still in its scope (a user edited meanwhile)
            tabour.auth.require_branch(principal, _branch_row(tabour, conn.branch),
                                       "out_of_scope")
        conn.principal = principal
        return conn

    def snapshot(conn: Conn) -> dict:
        if conn.view == "supervisor":
            return supervisor_snapshot(tabour, conn.principal)
        b = conn.branch_id
        p = tabour.view(b)
        with tabour.projections.lock(b):
            snap = P.snapshot(p, conn.view, tabour.now(), tabour.estimator, conn.counter)
        if conn.view == "counter" and conn.counter is not None and snap.get("queue") is None:
            raise NotFound("counter_not_found", counter=conn.counter)
        if conn.view == "display":
            snap = zones.filter_snapshot(snap, conn.zone)
        if conn.view == "dashboard" and tabour.dashboard is not None:
            with tabour.projections.lock(b):
                snap["dashboard"] = tabour.dashboard.snapshot(b)
            # a supervisor watches read-only: the page offers no acknowledgement
            snap["dashboard"]["readonly"] = not conn.principal.can("alerts:manage")
        return snap

    @socketio.on("connect")
    def on_connect(auth=None):
        auth = auth if isinstance(auth, dict) else {}
        lang = _lang(auth)
        if auth.get("view") == "dossier" and not auth.get("token"):
            return _dossier_phone(tabour, auth, lang)
        if auth.get("view") == "ticket" and not auth.get("token"):
            return _ticket_phone(tabour, auth, lang)
        try:
            principal = tabour.auth.authenticate(auth.get("token"))
            view = auth.get("view") or DEFAULT_VIEW[principal.role]
            if view not in VIEW_PERMISSION:
                raise ApiError(400, "unknown_view", view=str(view)[:40],
                               choices=list(VIEW_PERMISSION))
            if not principal.can(VIEW_PERMISSION[view]):
                raise AuthError("view_forbidden", 403, role=principal.role, view=view)
            counter = auth.get("counter")
            if counter is not None and (view != "counter" or type(counter) is not int):
                raise ApiError(400, "counter_needs_view")
            b = principal.branch_id
            branch = None
            if auth.get("branch") is not None:  # a dashboard of another branch: a supervisor's
                if view != "dashboard":
                    raise ApiError(400, "branch_only_dashboard")
                row = _branch_by_code(tabour, auth.get("branch"))
                tabour.auth.require_branch(principal, row, "other_branch_admin")
                branch = b = row.id
            elif view == "dashboard":
                tabour.auth.own_branch(principal)  # a supervisor's account branch: in scope?
            zone = None
            if view == "display":  # the projection's zones: a new zone needs no restart
                zone = display_zones.resolve(tabour.view(b).branch, auth.get("zone"))
            elif auth.get("zone") is not None:
                raise ApiError(400, "zone_only_display")
            conn = Conn(auth["token"], principal, view, counter, zone, lang, branch)
            # in the rooms BEFORE the snapshot is read: a fact committed meanwhile (by
            # another process, through Redis) reaches this client, before the snapshot
            # or within it, never in neither (the page keeps facts newer than the
            # snapshot that came first; one joined after missed them, seen in CI)
            if view != "supervisor":
                join_room(rooms.zone(b, zone["name"]) if zone is not None
                          else rooms.audience(b, VIEW_AUDIENCE[view]))
                if counter is not None:
                    join_room(rooms.counter(b, counter))
            snap = snapshot(conn)
        except DomainError as exc:
            raise refuse(exc, lang)  # refused: python-socketio drops the sid's rooms
        if view == "supervisor":  # its rooms are its scope's branches, read with it
            for room in snap.pop("_rooms"):
                join_room(room)
        sessions.put(request.sid, conn)
        tabour.fanout.send_to(request.sid, "snapshot", snap)
        if view == "dashboard" and tabour.dashboard is not None:
            tabour.dashboard.connected(b, request.sid)  # pushes; today's figures if behind
        if principal.kind == "device":
            _seen(tabour, principal)
        if view == "printer":
            from .printer_agents import agent_connected
            agent_connected(tabour, request.sid, principal)

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        conn = sessions.drop(request.sid)
        tabour.fanout.unwatch(request.sid)
        if conn is not None and conn.principal.kind == "device":
            _seen(tabour, conn.principal)
        if conn is not None and conn.view == "printer":
            from .printer_agents import agent_disconnected
            agent_disconnected(tabour, request.sid, conn.principal)

    @socketio.on("sync")
    def on_sync(data=None):
        """A fresh snapshot as the acknowledgement (a client that suspects a gap)."""
        lang = "en"
        try:
            Sync.model_validate(data if data is not None else {})
            known = sessions.get(request.sid)
            lang = known.lang if known else lang
            conn = current(VIEW_PERMISSION[known.view] if known else None)
            snap = snapshot(conn)
            snap.pop("_rooms", None)
            return {"ok": True, "snapshot": snap}
        except (ValidationError, DomainError) as exc:
            return error(exc, lang)

    @socketio.on("watch_counter")
    def on_watch_counter(data=None):
        """A console switches to (or starts watching) a counter."""
        known = sessions.get(request.sid)
        lang = known.lang if known else "en"
        try:
            msg = WatchCounter.model_validate(data if isinstance(data, dict) else {})
            conn = current("queue:watch")
            b = conn.principal.branch_id
            before = (conn.counter, conn.view)
            conn.counter, conn.view = msg.counter, "counter"
            # in the new counter's rooms before its snapshot is read (as on connect)
            join_room(rooms.counter(b, msg.counter))
            join_room(rooms.audience(b, "counters"))
            try:
                snap = snapshot(conn)
            except DomainError:
                conn.counter, conn.view = before
                if before[0] != msg.counter:
                    leave_room(rooms.counter(b, msg.counter))
                if VIEW_AUDIENCE.get(before[1]) != "counters":
                    leave_room(rooms.audience(b, "counters"))
                raise
            if before[0] is not None and before[0] != msg.counter:
                leave_room(rooms.counter(b, before[0]))
            return {"ok": True, "snapshot": snap}
        except (ValidationError, DomainError) as exc:
            return error(exc, lang)

    @socketio.on("watch_ticket")
    def on_watch_ticket(data=None):
        """Follow one ticket: its calls and changes."""
        known = sessions.get(request.sid)
        lang = known.lang if known else "en"
        try:
            msg = WatchTicket.model_validate(data if isinstance(data, dict) else {})
            conn = current("tickets:read")
            b = conn.principal.branch_id
            p = tabour.view(b)
            ticket = p.ticket(msg.ticket_id)
            if ticket is None:
                with tabour.db.read() as c:
                    ticket = repo.get_ticket(c, b, msg.ticket_id)
            if ticket is None:
                raise NotFound("ticket_not_found", ticket=msg.ticket_id)
            join_room(rooms.ticket(b, ticket.id))
            return {"ok": True, "ticket": P.ticket_view(p, ticket, tabour.now(),
                                                        tabour.estimator)}
        except (ValidationError, DomainError) as exc:
            return error(exc, lang)

    return sessions


# --- supervisors ------------------------------------------------------------------------

def _branch_by_code(tabour, code):
    if not isinstance(code, str) or not 1 <= len(code) <= 40:
        raise ApiError(400, "unknown_branch", branch=str(code)[:40])
    B = s.branches.c
    with tabour.db.read() as c:
        row = c.execute(select(B.id, B.code, B.region).where(B.code == code)).first()
    if row is None:
        raise ApiError(400, "unknown_branch", branch=code)
    return row


def _branch_row(tabour, branch_id: int):
    B = s.branches.c
    with tabour.db.read() as c:
        return c.execute(select(B.id, B.code, B.region).where(B.id == branch_id)).first()


def _seen(tabour, principal) -> None:
    try:
        tabour.auth.seen(principal.token_id)
    except Exception:  # a device's "last seen" never fails its connection
        log.exception("could not note device %s as seen", principal.token_id)


# --- visitors' phones ----------------------------------------------------------------

def _ticket_phone(tabour, auth: dict, lang: str) -> None:
    try:
        b, ticket = public_ticket(tabour, str(auth.get("ticket") or ""))
        view = public_view(tabour, str(auth.get("ticket")))
    except DomainError as exc:
        raise refuse(exc, lang)
    join_room(rooms.ticket(b, ticket.id))  # its calls and changes; its place comes by sid
    tabour.fanout.watch(b, request.sid, ticket.id,
                        {k: view[k] for k in ("status", "people_ahead", "estimated_wait_minutes")})
    tabour.fanout.send_to(request.sid, "snapshot", {"view": "ticket", "ticket": view})


def _dossier_phone(tabour, auth: dict, lang: str) -> None:
    """The visitor's phone follows one dossier by its tracking number; wrong guesses
    from one address are counted and slowed down."""
    try:
        branch_id, dossier_id, view = tabour.dossiers.public_lookup(
            str(auth.get("dossier") or ""), f"address:{request.remote_addr or '?'}")
    except DomainError as exc:
        raise refuse(exc, lang)
    join_room(rooms.dossier(branch_id, dossier_id))
    tabour.fanout.send_to(request.sid, "snapshot", {"view": "dossier", "dossier": view})
