"""The /api/v1 routes. Thin: validate, authorise, call a command or read the
branch's projection, present."""
from __future__ import annotations

from flask import current_app, jsonify, request

from ..db import repo
from ..engine.errors import NotFound
from ..engine.model import PriorityClass
from ..readmodel import presenters as P
from . import bp
from . import responses as R
from . import schemas as S
from .errors import ApiError
from .registry import openapi_document, route


IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "description": "8 to 80 characters, one per tap: a retry never issues "
                                  "a second ticket",
                   "schema": {"type": "string", "minLength": 8, "maxLength": 80}}


def tabour():
    return current_app.extensions["tabour"]


def _agent_may_operate(principal, number: int) -> None:
    """An agent works the counter they opened; managers and admins any counter."""
    if principal.role != "agent":
        return
    row = tabour().view(principal.branch_id).counter_row(number)
    holder = row.agent_user_id if row else None
    if holder is None or holder == principal.user_id:
        return
    raise ApiError(403, "counter_of_another_agent", counter=number)


def _ticket_json(p, ticket_id: int, done=None, seq: bool = False):
    """A ticket as it is now: from the projection when it is live, else ``done`` (the
    state the command that finished it just committed), else the database. ``seq``: with
    the sequence of the picture it comes from (a counter's action: its console waits for
    its counter's push at or past it instead of asking a snapshot)."""
    t = tabour()
    proj = t.view(p.branch_id)
    ticket = proj.ticket(ticket_id)
    if ticket is None and done is not None and done.id == ticket_id:
        ticket = done  # finished: no longer in memory, and no read to learn what we wrote
    if ticket is None:
        with t.db.read() as conn:
            ticket = repo.get_ticket(conn, p.branch_id, ticket_id)
    if ticket is None:
        raise NotFound("ticket_not_found", ticket=ticket_id)
    view = P.ticket_view(proj, ticket, t.now(), t.estimator)
    if seq:
        view["seq"] = proj.seq
    return jsonify(view)


# --- health, docs, auth --------------------------------------------------------------

@route(bp, "/health", "GET", "Is the server up and its database reachable?", None,
       responses={200: "Healthy", 503: "Database unreachable"},
       out={200: R.HealthOut, 503: {"anyOf": [{"$ref": "#/components/schemas/HealthOut"},
                                             {"$ref": "#/components/schemas/Error"}]}})
def health(_p, _b):
    ok = tabour().database_ok()
    return jsonify({"status": "ok" if ok else "degraded", "database": ok}), 200 if ok else 503


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(bp.url_prefix))


@route(bp, "/auth/token", "POST", "Sign in: exchange a username and password for a bearer "
       "token. Wrong passwords are limited per client address and per account; a browser "
       "that signed in before keeps a device cookie that exempts it from those lockouts",
       None, S.TokenIn, {200: "The token", 401: "Wrong username or password",
                         429: "Too many wrong passwords (Retry-After says how long)"},
       tag="auth", out=R.TokenOut, limited=True)
def token(_p, body: S.TokenIn):
    from ..login_guard import COOKIE, COOKIE_DAYS, COOKIE_PATH
    auth = tabour().auth
    cookie = request.cookies.get(COOKIE)
    device = auth.guard.device_of(cookie, body.username)
    tok, user = auth.login(body.username, body.password, request.remote_addr or "?", device)
    resp = jsonify({"token": tok, "user": user})
    resp.set_cookie(COOKIE, auth.guard.cookie_after_success(cookie, body.username),
                    max_age=COOKIE_DAYS * 86400, path=COOKIE_PATH, httponly=True,
                    secure=request.is_secure, samesite="Strict")
    return resp


# --- services ----------------------------------------------------------------------

@route(bp, "/services", "GET", "Services with waiting counts and current estimates",
       "services:read", out=R.ServicesOut)
def list_services(p, _b):
    t = tabour()
    return jsonify({"services": P.services_view(t.view(p.branch_id), t.now(), t.estimator)})


@route(bp, "/services/<prefix>", "PATCH", "Edit a service (names, target wait, icon, "
       "open or closed, closed today, daily cut-off)", "config:write", S.ServicePatch,
       {200: "The service", 404: "No such service",
        409: "Reopening it would leave it with no counter"}, tag="config", out=R.ServiceOut,
       query=S.BranchQuery)
def patch_service(p, body: S.ServicePatch, prefix: str):
    from .admin_routes import branch_of
    t = tabour()
    b = branch_of(p)
    t.commands.edit_service(b, prefix, body.changes(), p.actor)
    proj = t.view(b)
    return jsonify(P.service_view(proj, proj.service_by_prefix(prefix), t.now(), t.estimator))


# --- tickets -----------------------------------------------------------------------

@route(bp, "/tickets", "POST", "Issue a ticket", "tickets:issue", S.IssueTicketIn,
       {201: "Issued", 200: "Already issued for this idempotency key",
        404: "No such service", 409: "The service is closed, has no open counter or the branch is closed"},
       out=R.TicketOut, headers=[IDEMPOTENCY_KEY])
def issue_ticket(p, body: S.IssueTicketIn):
    if body.priority is True:
        prio = PriorityClass.ELDERLY
    elif body.priority is False:
        prio = PriorityClass.NORMAL
    else:
        prio = PriorityClass(body.priority)
    channel = body.channel or {"kiosk": "kiosk", "agent": "counter"}.get(p.role, "api")
    key = body.idempotency_key or request.headers.get("Idempotency-Key")
    if key is not None and not 8 <= len(key) <= 80:
        raise ApiError(400, "idempotency_key")
    t = tabour()
    issued = t.commands.issue(p.branch_id, body.service, prio, body.language, channel,
                              p.actor, key)
    proj = t.view(p.branch_id)
    if issued.created:
        return jsonify(P.issued_view(proj, issued.ticket, issued.people_ahead,
                                     issued.minutes)), 201
    return _ticket_json(p, issued.ticket.id)


@route(bp, "/tickets/<int:ticket_id>", "GET", "A ticket, with people ahead and estimate",
       "tickets:read", responses={200: "The ticket", 404: "No such ticket"}, out=R.TicketOut)
def get_ticket(p, _b, ticket_id: int):
    return _ticket_json(p, ticket_id)


@route(bp, "/tickets/<int:ticket_id>/events", "GET", "The history of a ticket",
       "counters:read", responses={200: "The events, oldest first", 404: "No such ticket"},
       out=R.TicketEventsOut)
def ticket_history(p, _b, ticket_id: int):
    t = tabour()
    tz = t.view(p.branch_id).branch.timezone
    with t.db.read() as conn:
        if repo.get_ticket(conn, p.branch_id, ticket_id) is None:
            raise NotFound("ticket_not_found", ticket=ticket_id)
        rows = repo.ticket_events(conn, ticket_id)
    return jsonify({"events": [
        {"seq": e.seq, "type": e.type, "at": P.local_iso(e.at, tz), "actor": e.actor,
         "data": e.data} for e in rows]})


@route(bp, "/tickets/<int:ticket_id>/cancel", "POST", "Cancel a ticket", "tickets:cancel",
       S.CancelIn, {200: "Cancelled", 404: "No such ticket", 409: "Not allowed in its state"},
       out=R.TicketOut)
def cancel_ticket(p, body: S.CancelIn, ticket_id: int):
    ticket = tabour().commands.cancel(p.branch_id, ticket_id, p.actor, body.reason)
    return _ticket_json(p, ticket.id, ticket)


@route(bp, "/tickets/<int:ticket_id>/reprint", "POST", "Reprint a visitor's ticket at "
       "reception (marked as a copy; the reprint is audited)", "counters:operate", S.ReprintIn,
       {200: "The new print job", 404: "No such ticket, or it was never printed"},
       tag="kiosk", out=R.ReprintOut)
def reprint_ticket(p, body: S.ReprintIn, ticket_id: int):
    job = tabour().commands.reprint(p.branch_id, p.actor, ticket_id=ticket_id,
                                    printer=body.printer)
    return jsonify({"job": job})


# --- counters ------------------------------------------------------------------------

@route(bp, "/counters", "GET", "Counters with their state and services", "counters:read",
       out=R.CountersOut)
def list_counters(p, _b):
    proj = tabour().view(p.branch_id)
    return jsonify({"counters": [P.counter_view(proj, c) for c in proj.counter_list()]})


def _counter_json(p, number: int, seq: bool = False):
    proj = tabour().view(p.branch_id)
    c = proj.counter_by_number(number)
    if c is None:
        raise NotFound("counter_not_found", counter=number)
    view = P.counter_view(proj, c)
    if seq:
        view["seq"] = proj.seq
    return jsonify(view)


def _counter_action(action: str, summary: str, path: str | None = None):
    def view(p, _b, number: int):
        _agent_may_operate(p, number)
        tabour().commands.counter_action(p.branch_id, number, action, p.actor,
                                         agent_user_id=p.user_id)
        return _counter_json(p, number, seq=True)
    view.__name__ = f"counter_{path or action}"
    route(bp, f"/counters/<int:number>/{path or action}", "POST", summary, "counters:operate",
          S.EmptyIn, {200: "The counter", 404: "No such counter",
                      409: "Not allowed in its state"}, out=R.CounterActionOut)(view)


_counter_action("open", "Open a counter (an agent takes it)")
_counter_action("pause", "Pause a counter for a break")
_counter_action("close", "Close a counter")
_counter_action("open", "Resume after a break", path="resume")


@route(bp, "/counters/<int:number>/call-next", "POST", "Call the next ticket for this counter",
       "counters:operate", S.EmptyIn,
       {200: "The ticket called", 204: "Nobody waits for this counter", 404: "No such counter",
        409: "The counter is closed, paused or still has a ticket"}, out=R.TicketActionOut)
def call_next(p, _b, number: int):
    _agent_may_operate(p, number)
    ticket = tabour().commands.call_next(p.branch_id, number, p.actor)
    if ticket is None:
        return "", 204
    return _ticket_json(p, ticket.id, seq=True)


@route(bp, "/counters/<int:number>/call", "POST", "Call one given waiting ticket to this "
       "counter (an agent picks it from the list)", "counters:operate", S.ReturnIn,
       {200: "The ticket called", 404: "No such counter or ticket",
        409: "The counter is busy or closed, or the ticket is not waiting for it"},
       out=R.TicketActionOut)
def call_ticket(p, body: S.ReturnIn, number: int):
    _agent_may_operate(p, number)
    ticket = tabour().commands.call(p.branch_id, number, body.ticket_id, p.actor)
    return _ticket_json(p, ticket.id, seq=True)


def _ticket_step(name: str, summary: str, schema, call):
    def view(p, body, number: int):
        _agent_may_operate(p, number)
        ticket = call(tabour().commands, p, number, body)
        return _ticket_json(p, ticket.id, ticket, seq=True)
    view.__name__ = f"counter_{name.replace('-', '_')}"
    route(bp, f"/counters/<int:number>/{name}", "POST", summary, "counters:operate", schema,
          {200: "The ticket", 404: "No such counter or ticket",
           409: "Not allowed in the ticket's state"}, out=R.TicketActionOut)(view)


_ticket_step("recall", "Call the current ticket again (counted)", S.TicketRef,
             lambda c, p, n, b: c.recall(p.branch_id, n, p.actor, b.ticket_id))
_ticket_step("start", "The visitor arrived: start serving", S.TicketRef,
             lambda c, p, n, b: c.start(p.branch_id, n, p.actor, b.ticket_id))
_ticket_step("finish", "Finish serving, with an outcome code and an optional note", S.FinishIn,
             lambda c, p, n, b: c.finish(p.branch_id, n, p.actor, b.outcome, b.note, b.ticket_id))
_ticket_step("no-show", "The visitor did not come", S.TicketRef,
             lambda c, p, n, b: c.no_show(p.branch_id, n, p.actor, b.ticket_id))
_ticket_step("transfer", "Transfer the ticket to another service or counter", S.TransferIn,
             lambda c, p, n, b: c.transfer(p.branch_id, n, p.actor, b.service, b.counter,
                                           b.ticket_id))
_ticket_step("park", "Set the ticket aside and free the counter", S.TicketRef,
             lambda c, p, n, b: c.park(p.branch_id, n, p.actor, b.ticket_id))
_ticket_step("return", "Bring a parked ticket back to the front of this counter's queue",
             S.ReturnIn, lambda c, p, n, b: c.return_parked(p.branch_id, n, p.actor, b.ticket_id))


# --- staff and devices -------------------------------------------------------------------

@route(bp, "/users", "POST", "Create a staff account", "users:manage", S.UserIn,
       {201: "Created", 409: "The username is taken"}, tag="admin",
       out=R.UserCreatedOut)
def create_user(p, body: S.UserIn):
    uid = tabour().commands.create_user(p.branch_id, body.username, body.password, body.role,
                                        body.display_name, p.actor, by_role=p.role)
    return jsonify({"id": uid, "username": body.username, "role": body.role}), 201


@route(bp, "/devices", "POST", "Create a device token (kiosk, display, printer agent)",
       "devices:manage", S.DeviceIn, {201: "The token, shown once"}, tag="admin",
       out=R.DeviceTokenOut)
def create_device(p, body: S.DeviceIn):
    made = tabour().commands.create_device(p.branch_id, body.role, body.name, p.actor)
    return jsonify(made), 201


@route(bp, "/devices/<int:token_id>/revoke", "POST", "Revoke a device token",
       "devices:manage", S.EmptyIn, {200: "Revoked", 404: "No such device"}, tag="admin",
       out=R.RevokedOut)
def revoke_device(p, _b, token_id: int):
    tabour().commands.revoke_device(p.branch_id, token_id, p.actor)
    return jsonify({"revoked": token_id})
