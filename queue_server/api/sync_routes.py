"""/api/v1 routes of sites that work offline (README "Sites that work offline").

At the centre, for a site's credential (a device of role ``site``, its own branch only):
``GET /sync/state``, ``POST /sync/batches``, ``GET /sync/down``; for its admins:
``POST /sites`` (register a branch as a site), ``GET /sites``.
At the site, for its staff: ``GET /site/status``, ``POST /site/sync`` (the /admin/ button),
``POST /dossiers/<tracking>/documents`` (documents brought after the deposit).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, g, jsonify, request
from pydantic import Field

from ..auth import AuthError
from ..db import repo
from ..engine.messages import N_, register
from ..readmodel import sync as sync_read
from . import bp
from .errors import ApiError
from . import responses as R
from .registry import bearer_token, route
from .schemas import Strict

register({
    "site_only": N_("Only a site's credential (a device of role 'site') may do this."),
    "not_a_site": N_("This server is not a site: it has no centre to sync with "
                     "(run.py site-join)."),
    "sync_failed": N_("The sync stopped: %(reason)s"),
    "sync_after": N_("after is a sequence number (0 or more)."),
    "centre_unreachable": N_("The centre is unreachable: the day stays here and is sent at "
                             "the next sync."),
})


class BatchIn(Strict):
    site_now: datetime = Field(description="the site's clock when it sent the batch")
    checksum: str = Field(min_length=64, max_length=64,
                          description="SHA-256 of the payload's canonical JSON")
    payload: dict


class SiteIn(Strict):
    branch: str = Field(min_length=1, max_length=40, description="the site's branch code")
    name: str = Field("site", min_length=1, max_length=120)


class DocumentsIn(Strict):
    documents: list[str] = Field(min_length=1, max_length=40)


class SyncDownQuery(Strict):
    after: int = Field(0, ge=0, description="the centre's sequence the site has")


def _t():
    return current_app.extensions["tabour"]


def _site(permission: str):
    """The site's principal; a revoked site is told it was revoked (403), not 'unknown'."""
    t = _t()
    token = bearer_token()
    try:
        p = t.auth.authenticate(token)
    except AuthError as exc:
        row = t.auth.revoked_device(token) if exc.code == "token_invalid" else None
        if row is not None and row.role == "site":
            raise AuthError("site_revoked", 403) from None
        raise
    if p.role != "site" or not p.can(permission):
        raise AuthError("site_only", 403)
    g.principal = p
    return p


def _code(branch_id: int) -> str:
    with _t().db.read() as conn:
        return repo.load_branch(conn, branch_id).code


@route(bp, "/sync/state", "GET", "A site asks what the centre has of it (its last "
       "acknowledged sequence)", None,
       responses={200: "What the centre has", 401: "No site credential", 403: "Not a site's credential, or a revoked site",
        404: "The site is not registered"}, tag="sites", out=R.SyncStateOut, bearer=True)
def sync_state(_p, _b):
    p = _site("sync:pull")
    site = sync_read.site_of(_t().db, p.branch_id)
    if site is None:
        raise ApiError(404, "site_not_registered", branch=_code(p.branch_id))
    with _t().db.read() as conn:
        cursor = repo.current_seq(conn, p.branch_id)
    return jsonify({"branch": _code(p.branch_id), "acked_seq": site.acked_seq,
                    "cursor": cursor, "centre_now": _t().clock().isoformat()})


@route(bp, "/sync/batches", "POST", "A site sends a batch of its events (idempotent on the "
       "site's sequence; refused on a gap, a bad checksum, another branch)", None,
       BatchIn, {200: "Applied, or already applied (duplicate)", 400: "Bad checksum or shape",
                 401: "No site credential",
                 403: "Another branch, or a revoked site", 409: "A gap: send from acked + 1"},
       tag="sites", out=R.SyncBatchOut, bearer=True)
def sync_batch(_p, body: BatchIn):
    p = _site("sync:push")
    own = _code(p.branch_id)
    branch = body.payload.get("branch")
    if body.site_now.tzinfo is None:
        raise ApiError(400, "sync_malformed", problem="site_now needs its time zone")
    if not isinstance(branch, str) or not branch:
        raise ApiError(400, "sync_malformed", problem="payload.branch (the site's code) is "
                                                      "missing")
    if branch != own:
        raise AuthError("sync_other_branch", 403, own=own, branch=branch)
    answer = _t().commands.apply_batch(p.branch_id, body.site_now, body.checksum,
                                       body.payload)
    from ..sites import clock_warning
    warning = clock_warning(answer["clock_skew_s"])
    return jsonify(answer | {"warnings": [warning] if warning else []})


@route(bp, "/sync/down", "GET", "A site pulls its configuration, its staff and the centre's "
       "decisions on its dossiers (?after=<the centre's sequence it has>)", None,
       responses={200: "What changed", 401: "No site credential", 403: "Not a site's credential, or a revoked site", 404: "The site is not registered"},
       tag="sites", out=R.SyncDownOut, query=SyncDownQuery, bearer=True)
def sync_down(_p, _b):
    p = _site("sync:pull")
    after = request.args.get("after", type=int, default=0)
    if after is None or after < 0:
        raise ApiError(400, "sync_after")
    if sync_read.site_of(_t().db, p.branch_id) is None:
        raise ApiError(404, "site_not_registered", branch=_code(p.branch_id))
    out = sync_read.down(_t().db, p.branch_id, after)
    _t().commands.note_pull(p.branch_id)
    return jsonify(out)


@route(bp, "/sites", "POST", "Register a branch as a site that works offline: its tag and "
       "its credential (shown once; registering again revokes the old one)",
       "devices:manage", SiteIn, {201: "The site's credential", 404: "No such branch"},
       tag="sites", out=R.SiteCredentialOut)
def register_site(p, body: SiteIn):
    with _t().db.read() as conn:
        b = repo.branch_by_code(conn, body.branch)
    if b is None:
        raise ApiError(404, "branch_not_found", branch=body.branch)
    if p.branch_id != b.id and p.role != "admin":
        raise AuthError("role_forbidden", 403, role=p.role, permission="devices:manage")
    made = _t().commands.register_site(b.id, body.name, p.actor)
    return jsonify({"branch": b.code, **made}), 201


@route(bp, "/sites/<code>/revoke", "POST", "Revoke a site's credential: its batches are "
       "refused until it is registered again", "devices:manage",
       responses={200: "Revoked", 404: "No such site"}, tag="sites", out=R.SiteRevokedOut)
def revoke_site(p, _b, code):
    with _t().db.read() as conn:
        b = repo.branch_by_code(conn, code)
    site = sync_read.site_of(_t().db, b.id) if b is not None else None
    if site is None or site.token_id is None:
        raise ApiError(404, "site_not_registered", branch=code)
    if p.branch_id != b.id and p.role != "admin":
        raise AuthError("role_forbidden", 403, role=p.role, permission="devices:manage")
    _t().commands.revoke_device(b.id, site.token_id, p.actor)
    return jsonify({"revoked": site.token_id, "branch": code})


def _site_branch(p, code):
    with _t().db.read() as conn:
        b = repo.branch_by_code(conn, code)
    if b is None or sync_read.site_of(_t().db, b.id) is None:
        raise ApiError(404, "site_not_registered", branch=code)
    if p.branch_id != b.id and p.role != "admin":
        raise AuthError("role_forbidden", 403, role=p.role, permission="devices:manage")
    return b


@route(bp, "/sites/<code>/devices", "GET", "A site's own devices, as its last sync listed "
       "them", "devices:manage", responses={200: "The devices", 404: "No such site"},
       tag="sites",
       out=R.SiteDevicesOut)
def site_devices(p, _b, code):
    return jsonify({"devices": sync_read.devices_of(_t().db, _site_branch(p, code).id)})


@route(bp, "/sites/<code>/devices/<int:site_token_id>/revoke", "POST", "Revoke one of a "
       "site's devices: done at the site's next sync", "devices:manage",
       responses={200: "Asked", 404: "No such site or device"}, tag="sites",
       out=R.SiteDeviceAskedOut)
def revoke_site_device(p, _b, code, site_token_id: int):
    b = _site_branch(p, code)
    _t().commands.revoke_site_device(b.id, site_token_id, p.actor)
    return jsonify({"asked": site_token_id, "branch": code})


@route(bp, "/sites", "GET", "The sites: what each sent, when, its clock", "devices:manage",
       tag="sites", out=R.SitesOut)
def list_sites(_p, _b):
    return jsonify({"sites": sync_read.sites_overview(_t().db)})


def _link():
    link = getattr(_t(), "site", None)
    if link is None:
        raise ApiError(404, "not_a_site")
    return link


@route(bp, "/site/status", "GET", "At a site: when it last synced and what is pending "
       "({\"site\": false} on a server that is not a site)", "admin:read", tag="sites",
       out=R.SiteStatusOut)
def site_status(_p, _b):
    link = getattr(_t(), "site", None)
    if link is None:
        return jsonify({"site": False})
    return jsonify({"site": True, **link.status()})


@route(bp, "/site/sync", "POST", "At a site: sync with the centre now", "config:write",
       responses={200: "Synced", 404: "This server is not a site", 409: "The sync stopped",
        502: "The centre is unreachable"}, tag="sites", out=R.SiteSyncOut)
def site_sync(_p, _b):
    from ..sites import SyncFailed
    link = _link()
    try:
        result = link.sync()
    except SyncFailed as exc:
        if exc.code == "centre_unreachable":
            raise ApiError(502, "centre_unreachable") from None
        raise ApiError(409, "sync_failed", reason=str(exc)) from None
    return jsonify({"result": result, "status": {"site": True, **link.status()}})


@route(bp, "/dossiers/<tracking>/documents", "POST", "Documents a visitor brought after the "
       "deposit (the status stays the centre's; the centre sees them at the next sync)",
       "dossiers:manage", DocumentsIn, {200: "What is still missing", 404: "No such dossier",
                                        409: "A document code the dossier type does not have"},
       tag="dossiers", out=R.DocumentsBroughtOut)
def documents_brought(p, body: DocumentsIn, tracking):
    return jsonify(_t().commands.bring_documents(p.branch_id, tracking, body.documents,
                                                 p.actor))
