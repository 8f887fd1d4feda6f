"""/api/v1/auth (signing out, one's own password) and /api/v1/admin/sessions (staff
sessions listed and ended by an administrator or a manager).

Sessions and devices are both tokens, but never through the same route: a device is
revoked at ``/devices/<id>/revoke`` (devices only), a session at
``/admin/sessions/<id>/revoke`` (sessions only). Each change is an audited event
(commands/admin.py) and cuts the token's live sockets in every process (fanout._cut).
"""
from __future__ import annotations

from flask import current_app, jsonify
from pydantic import Field
from sqlalchemy import select

from ..db import schema as s
from ..readmodel import presenters as P
from . import bp
from .admin_routes import branch_of
from . import responses as R
from .registry import route
from .schemas import BranchQuery, Strict


def tabour():
    return current_app.extensions["tabour"]


class _Empty(Strict):
    pass


class OwnPasswordIn(Strict):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=8, max_length=200)


@route(bp, "/auth/logout", "POST", "Sign out: the caller's session token is revoked (and "
       "its live sockets cut)", "account:self", _Empty,
       {200: "Signed out"}, tag="auth", out=R.SignedOutOut)
def logout(p, _b):
    tabour().commands.revoke_session(p.branch_id, p.token_id, p.actor, logout=True)
    return jsonify({"signed_out": True})


@route(bp, "/auth/password", "POST", "Change one's own password (the current one first); "
       "the caller's other sessions end, this one stays", "account:self", OwnPasswordIn,
       {200: "Changed", 403: "The current password is not right"}, tag="auth",
       out=R.OwnPasswordOut)
def change_password(p, body: OwnPasswordIn):
    ended = tabour().commands.change_own_password(
        p.branch_id, p.user_id, p.token_id, body.current_password, body.new_password, p.actor)
    return jsonify({"password_changed": True, "sessions_ended": ended})


@route(bp, "/admin/sessions", "GET", "Open staff sessions of the branch (who, since when, "
       "until when); a manager sees agents' sessions", "users:manage", tag="admin",
       out=R.SessionsOut, query=BranchQuery)
def admin_list_sessions(p, _b):
    t = tabour()
    b = branch_of(p)
    T, U = s.tokens.c, s.users.c
    now = t.now()
    with t.db.read() as conn:
        rows = conn.execute(select(T.id, T.created_at, T.expires_at, T.last_seen_at, U.id.label(
            "user_id"), U.username, U.display_name, U.role).join_from(
            s.tokens, s.users, T.user_id == U.id).where(
            T.branch_id == b, T.kind == "session", T.revoked_at.is_(None),
            T.expires_at > now).order_by(U.username, T.id)).all()
    tz = t.view(b).branch.timezone
    out = [{"token_id": r.id, "user_id": r.user_id, "username": r.username,
            "display_name": r.display_name, "role": r.role,
            "created_at": P.local_iso(r.created_at, tz),
            "expires_at": P.local_iso(r.expires_at, tz),
            "yours": r.id == p.token_id}
           for r in rows if p.role == "admin" or r.role == "agent"]
    return jsonify({"sessions": out})


@route(bp, "/admin/sessions/<int:token_id>/revoke", "POST", "End a staff session (its "
       "sockets are cut at once); a device token is not a session", "users:manage", _Empty,
       {200: "Ended", 403: "A manager ending a non-agent's session",
        404: "No such open session"}, tag="admin", out=R.RevokedOut, query=BranchQuery)
def admin_revoke_session(p, _b, token_id: int):
    tabour().commands.revoke_session(branch_of(p), token_id, p.actor, by_role=p.role)
    return jsonify({"revoked": token_id})
