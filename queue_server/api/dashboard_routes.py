"""/api/v1/dashboard: the live dashboard's picture and its alerts, for scripts and for
the page's acknowledgements (the page itself lives on Socket.IO, view "dashboard").

    GET  /dashboard                       the same picture as the socket's snapshot
    GET  /dashboard/alerts?before=&limit= the alert list, older pages from the table
    POST /dashboard/alerts/<id>/acknowledge

A manager or an admin of the branch; ``?branch=<code>`` of another branch is refused.
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from pydantic import Field
from sqlalchemy import select

from ..db import schema as s
from ..readmodel import presenters as P
from ..readmodel.alerts import alert_view, row_dict
from . import bp
from .admin_routes import branch_of
from .errors import ApiError
from . import responses as R
from .registry import route
from .schemas import BranchQuery, EmptyIn


class AlertsQuery(BranchQuery):
    before: int | None = Field(None, ge=1, le=2**62, description="an alert's id: older ones")
    limit: int = Field(50, ge=1, le=200)


def tabour():
    return current_app.extensions["tabour"]


@route(bp, "/dashboard", "GET", "The live dashboard: waiting now, longest waits, estimates, "
       "counters, today's figures (from the reports), the alert list", "dashboard:watch",
       responses={200: "The picture"}, tag="dashboard", out=R.DashboardOut, query=BranchQuery)
def dashboard_picture(p, _b):
    t = tabour()
    b = branch_of(p)
    proj = t.view(b)
    with t.projections.lock(b):
        out = {"seq": proj.seq, "branch": P.branch_view(proj), **t.dashboard.snapshot(b)}
    if out["today"] is None or out["today"].get("as_of_seq") != out["seq"]:
        out["today"] = t.dashboard.refresh_today(b)  # a script asks rarely: compute now
    return jsonify(out)


def _int_arg(name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        v = None
    if v is None or not lo <= v <= hi:
        raise ApiError(400, "bad_number_arg", name=name, low=lo, high=hi)
    return v


@route(bp, "/dashboard/alerts", "GET", "The alert list, newest first (?before=<alert id>, "
       "?limit=1..200)", "dashboard:watch", responses={200: "The alerts"}, tag="dashboard",
       out=R.AlertsOut, query=AlertsQuery)
def dashboard_alerts(p, _b):
    t = tabour()
    b = branch_of(p)
    before = _int_arg("before", None, 1, 2**31 - 1)
    limit = _int_arg("limit", 50, 1, 200)
    A = s.alerts.c
    q = select(s.alerts).where(A.branch_id == b)
    if before is not None:
        q = q.where(A.id < before)
    with t.db.read() as conn:
        rows = [row_dict(r) for r in conn.execute(q.order_by(A.id.desc()).limit(limit))]
    tz = t.view(b).branch.timezone
    return jsonify({"alerts": [alert_view(a, tz) for a in rows]})


@route(bp, "/dashboard/alerts/<int:alert_id>/acknowledge", "POST", "Acknowledge an alert "
       "(open or cleared): who and when are kept", "alerts:manage", EmptyIn,
       {200: "Acknowledged", 404: "No such alert", 409: "Already acknowledged"},
       tag="dashboard", out=R.AlertOut, query=BranchQuery)
def dashboard_acknowledge(p, _b, alert_id: int):
    t = tabour()
    b = branch_of(p)
    t.commands.acknowledge_alert(b, alert_id, p.actor)
    proj = t.view(b)
    a = proj.alerts.by_id.get(alert_id)
    if a is None:  # older than the list kept in memory
        with t.db.read() as conn:
            a = row_dict(conn.execute(select(s.alerts).where(s.alerts.c.id == alert_id)).first())
    return jsonify(alert_view(a, proj.branch.timezone))
