"""/api/v1/admin: what the administration pages read and change.

Every change is a command (commands/admin.py): an audited event of the branch that
applies live. Permissions: ``admin:read`` and ``config:write`` (services, counters,
display zones, hours, policy) and ``users:manage`` for managers and admins (a
manager manages agents only); ``devices:manage`` (pairing, display links, device
tokens) for admins. Everything is within the caller's branch: ``?branch=<code>`` of
another branch is refused (403), an unknown code is a 400.
"""
from __future__ import annotations

from typing import Annotated, Literal

from flask import current_app, jsonify, request
from pydantic import Field
from sqlalchemy import select

from ..db import repo
from ..db import schema as s
from ..engine.messages import N_, register
from ..readmodel import presenters as P
from . import bp
from .errors import ApiError
from . import responses as R
from .registry import route
from .schemas import BranchQuery, Strict

register({
    "other_branch_admin": N_("You may act on your own branch only; '%(branch)s' is another "
                             "branch. Ask that branch's manager or administrator."),
    "bad_number_arg": N_("'%(name)s' must be a whole number from %(low)s to %(high)s."),
    "supervisor_needs_scope": N_("A supervisor needs a scope: 'scope' with regions, branches "
                                 "or national (one of them)."),
    "scope_only_supervisor": N_("Only a supervisor has a scope: remove 'scope' or choose the "
                                "supervisor role."),
    "unknown_region": N_("There is no region '%(region)s': regions are listed in the branch "
                         "configuration ([regions] in config/branches.toml)."),
})

# events an administration page changed (the history tab); none carries a secret
ADMIN_EVENTS = ("service_edited", "counter_configured", "branch_edited", "user_created",
                "user_disabled", "user_enabled", "user_password_changed", "device_created",
                "device_revoked", "device_paired", "pairing_code_created",
                "session_revoked", "personal_data_purged",
                "alert_acknowledged")
PREFIX = r"^[A-Za-z0-9]{1,3}$"
ZONE_NAME = r"^[A-Za-z0-9_-]{1,40}$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class HistoryQuery(BranchQuery):
    limit: int = Field(50, ge=1, le=200)


def tabour():
    return current_app.extensions["tabour"]


def branch_of(principal) -> int:
    """The branch a request acts on: the caller's own (``?branch=`` may only name it; a
    supervisor's, any branch of its scope: they hold read permissions only)."""
    code = request.args.get("branch")
    if code is None or code == "":
        return tabour().auth.own_branch(principal)
    with tabour().db.read() as conn:
        branch = repo.branch_by_code(conn, code[:40])
    if branch is None:
        raise ApiError(400, "unknown_branch", branch=code[:40])
    tabour().auth.require_branch(principal, branch, "other_branch_admin")  # supervisors: scope
    return branch.id


# --- what the page shows ------------------------------------------------------------------

def _may(p) -> dict:
    return {"config": p.can("config:write"), "users": p.can("users:manage"),
            "devices": p.can("devices:manage"),
            "roles": ["agent", "manager", "admin", "supervisor"] if p.role == "admin"
            else ["agent"],
            # a supervisor's scope names these (an admin creates supervisors)
            "regions": tabour().auth.regions() if p.role == "admin" else {}}


@route(bp, "/admin/overview", "GET", "The branch as the administration pages show it: "
       "services, counters, display zones, hours, policy, and what the caller may change",
       "admin:read", tag="admin", out=R.AdminOverviewOut, query=BranchQuery)
def admin_overview(p, _b):
    t = tabour()
    b = branch_of(p)
    proj = t.view(b)
    with t.projections.lock(b):
        services = []
        for sv in proj.services:
            services.append({
                "prefix": sv.prefix, "names": sv.names, "icon": sv.icon,
                "target_wait_minutes": sv.target_wait_minutes, "active": sv.active,
                "closed_today": sv.closed_day == proj.day, "cutoff": sv.cutoff,
                "counters": [c.number for c in proj.counter_list() if c.serves(sv.id)]})
        counters = [{**P.counter_view(proj, c), "agent": None} for c in proj.counter_list()]
    return jsonify({
        "branch": P.branch_view(proj), "may": _may(p), "services": services,
        "counters": counters, "zones": list(proj.branch.zones.values()),
        "schedule": proj.branch.schedule.to_data(),
        "policy": {"pause_alert_minutes": proj.policy.pause_alert_minutes}})


@route(bp, "/admin/history", "GET", "Administrative changes, newest first: who, when, what "
       "before and after (?limit=1..200)", "admin:read", tag="admin", out=R.HistoryOut,
       query=HistoryQuery)
def admin_history(p, _b):
    from .dashboard_routes import _int_arg
    t = tabour()
    b = branch_of(p)
    limit = _int_arg("limit", 50, 1, 200)
    E = s.events.c
    with t.db.read() as conn:
        rows = conn.execute(select(E.seq, E.type, E.at, E.actor, E.data).where(
            E.branch_id == b, E.type.in_(ADMIN_EVENTS)).order_by(E.seq.desc()).limit(limit))
        tz = t.view(b).branch.timezone
        out = [{"seq": r.seq, "type": r.type, "at": P.local_iso(r.at, tz),
                "actor": r.actor.partition(":")[2] or r.actor, "data": r.data} for r in rows]
    return jsonify({"history": out})


# --- services, counters, zones, hours, policy ---------------------------------------------

class CounterIn(Strict):
    services: list[str] = Field(max_length=20, description="prefixes, in the order served")
    name: str | None = Field(None, min_length=1, max_length=80)


@route(bp, "/admin/counters/<int:number>", "PUT", "The services a counter serves, in "
       "order (and its name); refused if an active service would have no counter",
       "config:write", CounterIn, {200: "The counter", 404: "No such counter",
                                   409: "A service would have no counter"}, tag="admin",
       out=R.CounterOut, query=BranchQuery)
def admin_put_counter(p, body: CounterIn, number: int):
    t = tabour()
    b = branch_of(p)
    t.commands.configure_counter(b, number, body.services, body.name, p.actor)
    proj = t.view(b)
    return jsonify(P.counter_view(proj, proj.counter_by_number(number)))


class ZoneIn(Strict):
    name: str = Field(pattern=ZONE_NAME, description="letters, digits, - and _")
    services: list[str] = Field(default_factory=list, max_length=50)
    counters: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(default_factory=list,
                                                                    max_length=200)


class ZonesIn(Strict):
    zones: list[ZoneIn] = Field(max_length=50)


@route(bp, "/admin/display-zones", "PUT", "The wall display zones (a display opens "
       "/display/?zone=<name>): what each shows", "config:write", ZonesIn,
       {200: "The zones", 409: "A zone names a service or counter that does not exist"},
       tag="admin", out=R.ZonesOut, query=BranchQuery)
def admin_put_zones(p, body: ZonesIn):
    t = tabour()
    b = branch_of(p)
    t.commands.set_display_zones(b, [z.model_dump() for z in body.zones], p.actor)
    return jsonify({"zones": list(t.view(b).branch.zones.values())})


Interval = tuple[str, str]


class SpecialIn(Strict):
    from_: str = Field(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")
    to: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    closed: bool = False
    hours: list[Interval] = Field(default_factory=list, max_length=6)
    note: str = Field("", max_length=80)


class ScheduleIn(Strict):
    weekly: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                 list[Interval]] | None = Field(
        None, description="opening intervals per weekday, e.g. {\"mon\": [[\"08:30\", "
                          "\"16:30\"]]}; a day left out is closed; null: no hours set")
    special: list[SpecialIn] = Field(default_factory=list, max_length=400)


@route(bp, "/admin/schedule", "PUT", "Opening hours per weekday, closed days and special "
       "hours (Ramadan, an antenna open two days a week)", "config:write", ScheduleIn,
       {200: "The schedule", 400: "Times or dates that do not make sense"}, tag="admin",
       out=R.ScheduleOut, query=BranchQuery)
def admin_put_schedule(p, body: ScheduleIn):
    t = tabour()
    b = branch_of(p)
    data = body.model_dump(by_alias=True)
    t.commands.set_schedule(b, data, p.actor)
    return jsonify(t.view(b).branch.schedule.to_data())


class PolicyIn(Strict):
    pause_alert_minutes: int = Field(ge=1, le=480, description="a break longer than this "
                                     "raises an alert")


@route(bp, "/admin/policy", "PATCH", "Branch policy values the dashboard's alerts use",
       "config:write", PolicyIn, tag="admin", out=R.PolicyOut, query=BranchQuery)
def admin_patch_policy(p, body: PolicyIn):
    t = tabour()
    b = branch_of(p)
    t.commands.edit_policy(b, body.model_dump(), p.actor)
    return jsonify({"pause_alert_minutes": t.view(b).policy.pause_alert_minutes})


# --- users -----------------------------------------------------------------------------------

class ScopeIn(Strict):
    """A supervisor's scope: one of regions, branches (codes) or national."""
    regions: list[str] | None = Field(None, min_length=1, max_length=100)
    branches: list[str] | None = Field(None, min_length=1, max_length=1000)
    national: bool = False


class AdminUserIn(Strict):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Literal["agent", "manager", "admin", "supervisor"]
    display_name: str = Field("", max_length=120)
    scope: ScopeIn | None = Field(None, description="a supervisor's: regions, branch codes, "
                                                    "or national (an admin creates them)")


def _scope(body: "AdminUserIn"):
    """The supervisor's scope, checked against the regions and branches that exist."""
    from ..auth import Scope
    if body.role != "supervisor":
        if body.scope is not None:
            raise ApiError(400, "scope_only_supervisor")
        return None
    sc = body.scope
    kinds = sum(bool(x) for x in (sc.regions, sc.branches, sc.national)) if sc else 0
    if kinds != 1:
        raise ApiError(400, "supervisor_needs_scope")
    with tabour().db.read() as conn:
        regions = {r[0] for r in conn.execute(select(s.regions.c.code))}
        codes = {r[0] for r in conn.execute(select(s.branches.c.code))}
    for code in sc.regions or ():
        if code not in regions:
            raise ApiError(400, "unknown_region", region=code[:40])
    for code in sc.branches or ():
        if code not in codes:
            raise ApiError(400, "unknown_branch", branch=code[:40])
    return Scope(sc.national, frozenset(sc.regions or ()), frozenset(sc.branches or ()))


class PasswordIn(Strict):
    password: str = Field(min_length=8, max_length=200)


@route(bp, "/admin/users", "GET", "Staff accounts of the branch", "users:manage", tag="admin",
       out=R.AdminUsersOut, query=BranchQuery)
def admin_list_users(p, _b):
    t = tabour()
    b = branch_of(p)
    U = s.users.c
    with t.db.read() as conn:
        rows = conn.execute(select(U.id, U.username, U.display_name, U.role, U.active,
                                   U.created_at).where(U.branch_id == b).order_by(U.username))
        tz = t.view(b).branch.timezone
        users = [{"id": r.id, "username": r.username, "display_name": r.display_name,
                  "role": r.role, "active": bool(r.active),
                  "created_at": P.local_iso(r.created_at, tz),
                  "may_manage": p.role == "admin" or r.role == "agent",
                  "yourself": r.id == p.user_id} for r in rows]
    return jsonify({"users": users})


@route(bp, "/admin/users", "POST", "Create a staff account (a manager creates agents)",
       "users:manage", AdminUserIn, {201: "Created", 403: "A manager creating a manager",
                                     409: "The username is taken"}, tag="admin",
       out=R.UserCreatedOut, query=BranchQuery)
def admin_create_user(p, body: AdminUserIn):
    t = tabour()
    b = branch_of(p)
    scope = _scope(body)
    uid = t.commands.create_user(b, body.username, body.password, body.role,
                                 body.display_name, p.actor, by_role=p.role, scope=scope)
    out = {"id": uid, "username": body.username, "role": body.role}
    if scope is not None:
        out["scope"] = scope.data()
    return jsonify(out), 201


@route(bp, "/admin/users/<int:user_id>/password", "POST", "Set a new password (the "
       "user's sessions end)", "users:manage", PasswordIn,
       {200: "Changed", 404: "No such user"}, tag="admin", out=R.PasswordChangedOut,
       query=BranchQuery)
def admin_reset_password(p, body: PasswordIn, user_id: int):
    tabour().commands.reset_password(branch_of(p), user_id, body.password, p.actor,
                                     by_role=p.role)
    return jsonify({"id": user_id, "password_changed": True})


def _user_state(active: bool):
    def view(p, _b, user_id: int):
        tabour().commands.set_user_active(branch_of(p), user_id, active, p.actor,
                                          by_role=p.role)
        return jsonify({"id": user_id, "active": active})
    view.__name__ = "admin_enable_user" if active else "admin_disable_user"
    route(bp, f"/admin/users/<int:user_id>/{'enable' if active else 'disable'}", "POST",
          "Enable an account" if active else "Disable an account (its sessions end at once)",
          "users:manage", _Empty, {200: "Done", 404: "No such user",
                                   409: "Already in that state"}, tag="admin",
          out=R.UserStateOut, query=BranchQuery)(view)


class _Empty(Strict):
    pass


_user_state(False)
_user_state(True)


# --- devices ---------------------------------------------------------------------------------

@route(bp, "/admin/devices", "GET", "Kiosks, displays and printer agents: last seen, "
       "connected now, printer state", "devices:manage", tag="admin",
       out=R.AdminDevicesOut, query=BranchQuery)
def admin_list_devices(p, _b):
    t = tabour()
    b = branch_of(p)
    T = s.tokens.c
    with t.db.read() as conn:
        rows = conn.execute(select(T.id, T.role, T.name, T.created_at, T.revoked_at,
                                   T.last_seen_at).where(T.branch_id == b, T.kind == "device")
                            .order_by(T.revoked_at.is_not(None), T.role, T.id)).all()
        printers = dict(conn.execute(select(s.kiosks.c.token_id, s.kiosks.c.printer).where(
            s.kiosks.c.branch_id == b)).all())
    connected = {c.principal.token_id for _sid, c in (t.sessions.items() if t.sessions else ())}
    proj = t.view(b)
    tz = proj.branch.timezone
    out = []
    for r in rows:
        printer = r.name if r.role == "printer" else printers.get(r.id)
        out.append({"token_id": r.id, "role": r.role, "name": r.name,
                    "created_at": P.local_iso(r.created_at, tz),
                    "revoked": r.revoked_at is not None,
                    "last_seen_at": P.local_iso(r.last_seen_at, tz),
                    "connected": r.id in connected and r.revoked_at is None,
                    "printer": P.printer_view(proj, printer) if printer else None})
    return jsonify({"devices": out})


class DisplayLinkIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    zone: str | None = Field(None, pattern=ZONE_NAME)


@route(bp, "/admin/display-links", "POST", "A wall display's token and the address to open "
       "on the TV (shown once)", "devices:manage", DisplayLinkIn,
       {201: "The link", 404: "No such display zone"}, tag="admin",
       out=R.DisplayLinkOut, query=BranchQuery)
def admin_display_link(p, body: DisplayLinkIn):
    from ..readmodel import zones
    t = tabour()
    b = branch_of(p)
    zones.resolve(t.view(b).branch, body.zone)  # an unknown zone: refused, nothing made
    made = t.commands.create_device(b, "display", body.name, p.actor)
    query = f"?zone={body.zone}" if body.zone else ""
    base = (t.printing.public_url or request.host_url).rstrip("/")
    return jsonify({**made, "zone": body.zone,
                    "url": f"{base}/display/{query}#token={made['token']}"}), 201
