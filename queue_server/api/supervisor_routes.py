"""/api/v1/supervisor: every branch of a supervisor's scope as a roll-up row, worst first
(the same rows as the supervisors' page's socket snapshot, view "supervisor").

A supervisor only (``supervisor:watch``): a manager or an admin watches their own
branch's dashboard. A branch's details: GET /api/v1/dashboard?branch=<code> (refused
with 403 ``out_of_scope`` outside the scope).
"""
from __future__ import annotations

from flask import current_app, jsonify

from ..supervisor.view import supervisor_snapshot
from . import bp
from . import responses as R
from .registry import route


@route(bp, "/supervisor", "GET", "The branches of the supervisor's scope, worst first: "
       "waiting, longest waits against their targets, open counters, served today, open "
       "alerts", "supervisor:watch", responses={200: "The rows"}, tag="dashboard",
       out=R.SupervisorOut)
def supervisor_rows(p, _b):
    snap = supervisor_snapshot(current_app.extensions["tabour"], p)
    snap.pop("_rooms", None)
    return jsonify(snap)
