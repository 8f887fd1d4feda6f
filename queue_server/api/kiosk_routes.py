"""/api/v1 routes of kiosks, wall displays and printers: pairing (a kiosk or a display types
a one-time code), kiosk tickets, printer states."""
from __future__ import annotations

from typing import Literal

from flask import current_app, jsonify, request
from pydantic import Field
from sqlalchemy import select

from ..auth import AuthError
from ..commands import PrintTarget
from ..db import schema as s
from ..engine.model import PriorityClass
from ..readmodel import presenters as P
from . import bp
from .errors import ApiError
from . import responses as R
from .registry import route
from .schemas import BranchQuery, Strict, VisitorLang

JOB_STATUSES = ("pending", "queued", "retrying", "waiting_paper", "printed",
                "printed_unconfirmed", "failed", "refused", "not_taken")


class PairingCodeIn(Strict):
    kiosk_name: str = Field(min_length=1, max_length=120)
    printer: str | None = Field(None, min_length=1, max_length=120,
                                description="the printer's name (its agent's device token "
                                            "name); default: the branch's default printer")


class PairIn(Strict):
    code: str = Field(min_length=4, max_length=20, description="the code shown to the admin")


class DisplayPairingCodeIn(Strict):
    display_name: str = Field(min_length=1, max_length=120, description="e.g. 'Hall TV'")


class KioskTicketIn(Strict):
    service: str = Field(min_length=1, max_length=3)
    priority: Literal["none", "elderly", "disabled", "pregnant"] = "none"
    language: VisitorLang = "ar"
    idempotency_key: str = Field(min_length=8, max_length=80,
                                 description="one per tap: a retry never issues a second ticket")


class PrintJobsQuery(Strict):
    status: Literal[JOB_STATUSES] | None = Field(None, description="only the jobs in this status")


def tabour():
    return current_app.extensions["tabour"]


def base_url() -> str:
    return tabour().printing.public_url or request.host_url.rstrip("/")


def client_address() -> str:
    """The client's address: the peer's, or the one the trusted proxies name
    (``TABOUR_TRUSTED_PROXIES``: ProxyFix has set it for HTTP and Socket.IO alike)."""
    return request.remote_addr or "?"


def lookup_client() -> tuple[str, object]:
    """Who a public dossier lookup counts against, and with which limiter: a kiosk
    (its device token) on its own, anyone else by address. Guesses typed on one kiosk
    or from one phone never lock the others out."""
    from .registry import bearer_token
    t = tabour()
    token = bearer_token()
    if token:
        try:
            principal = t.auth.authenticate(token)
        except AuthError:  # a revoked kiosk looks up like anyone, by its address
            principal = None
        if principal is not None and principal.role == "kiosk":
            return f"kiosk:{principal.token_id}", t.limiters["tracking_kiosk"]
    return f"address:{client_address()}", t.limiters["tracking"]


def kiosk_of(principal) -> dict:
    """The kiosk behind a kiosk token: its name and the printer of its tickets (a
    pairing never changes: remembered per process)."""
    t = tabour()
    known = t.kiosks.get(principal.token_id)
    if known is not None:
        return known
    with t.db.read() as conn:
        row = conn.execute(select(s.kiosks.c.name, s.kiosks.c.printer).where(
            s.kiosks.c.token_id == principal.token_id)).first()
    if row is not None:
        kiosk = {"name": row.name, "printer": row.printer}
        if len(t.kiosks) > 10_000:
            t.kiosks.clear()
        t.kiosks[principal.token_id] = kiosk
        return kiosk
    # a kiosk token made with POST /devices prints on the branch's default printer
    return {"name": principal.name, "printer": t.printing.agent_printer}


@route(bp, "/kiosk/pairing-codes", "POST", "Make a short code a kiosk types once to pair",
       "devices:manage", PairingCodeIn, {201: "The code (shown once) and when it expires"},
       tag="kiosk", out=R.PairingCodeOut, query=BranchQuery)
def create_pairing_code(p, body: PairingCodeIn):
    from .admin_routes import branch_of
    t = tabour()
    b = branch_of(p)  # /admin/ pairs kiosks of the caller's branch only
    made = t.commands.create_pairing_code(b, body.kiosk_name, body.printer, p.actor)
    tz = t.view(b).branch.timezone
    return jsonify(made | {"expires_at": P.local_iso(made["expires_at"], tz)}), 201


@route(bp, "/kiosk/pair", "POST", "A kiosk trades a pairing code for its device token", None,
       PairIn, {200: "The kiosk's device token", 404: "Wrong, used or expired code",
                429: "Too many wrong codes from this device"}, tag="kiosk",
       out=R.PairedOut, limited=True)
def pair(_p, body: PairIn):
    return jsonify(tabour().commands.pair(body.code, client_address()))


@route(bp, "/display/pairing-codes", "POST", "Make a short code a wall display types once "
       "to pair (15 minutes)", "devices:manage", DisplayPairingCodeIn,
       {201: "The code (shown once) and when it expires"}, tag="kiosk",
       out=R.PairingCodeOut)
def create_display_pairing_code(p, body: DisplayPairingCodeIn):
    t = tabour()
    made = t.commands.create_pairing_code(p.branch_id, body.display_name, None, p.actor,
                                          role="display")
    tz = t.view(p.branch_id).branch.timezone
    return jsonify(made | {"expires_at": P.local_iso(made["expires_at"], tz)}), 201


@route(bp, "/display/pair", "POST", "A wall display trades a pairing code for its device "
       "token", None, PairIn, {200: "The display's device token",
                               404: "Wrong, used or expired code",
                               429: "Too many wrong codes from this device"}, tag="kiosk",
       out=R.PairedOut, limited=True)
def pair_display(_p, body: PairIn):
    return jsonify(tabour().commands.pair(body.code, client_address(), role="display"))


@route(bp, "/kiosks", "GET", "Paired kiosks (revoke one with POST /devices/{token_id}/revoke)",
       "devices:manage", tag="kiosk", out=R.KiosksOut)
def list_kiosks(p, _b):
    with tabour().db.read() as conn:
        rows = conn.execute(
            select(s.kiosks, s.tokens.c.revoked_at)
            .join(s.tokens, s.tokens.c.id == s.kiosks.c.token_id)
            .where(s.kiosks.c.branch_id == p.branch_id).order_by(s.kiosks.c.token_id))
        kiosks = [{"token_id": r.token_id, "name": r.name, "printer": r.printer,
                   "revoked": r.revoked_at is not None} for r in rows]
    return jsonify({"kiosks": kiosks})


@route(bp, "/kiosk/me", "GET", "This kiosk: its name, its printer and the printer's state",
       "kiosk:watch", tag="kiosk", out=R.KioskMeOut)
def kiosk_me(p, _b):
    kiosk = kiosk_of(p)
    proj = tabour().view(p.branch_id)
    return jsonify(kiosk | {"printer_state": P.printer_view(proj, kiosk["printer"])})


@route(bp, "/kiosk/tickets", "POST", "Issue a ticket at a kiosk and print it",
       "tickets:issue", KioskTicketIn,
       {201: "Issued (printing follows)", 200: "Already issued for this idempotency key",
        404: "No such service", 409: "The service is closed or has no open counter"},
       tag="kiosk",
       out=R.KioskTicketOut)
def kiosk_ticket(p, body: KioskTicketIn):
    t = tabour()
    prio = PriorityClass.NORMAL if body.priority == "none" else PriorityClass(body.priority)
    kiosk = kiosk_of(p)
    issued = t.commands.issue(p.branch_id, body.service, prio, body.language, "kiosk", p.actor,
                              body.idempotency_key,
                              print_to=PrintTarget(kiosk["printer"], base_url()))
    proj = t.view(p.branch_id)
    svc = proj.service(issued.ticket.service_id)
    if issued.created:
        ticket = P.issued_view(proj, issued.ticket, issued.people_ahead, issued.minutes)
    else:
        live = proj.ticket(issued.ticket.id) or issued.ticket
        ticket = P.ticket_view(proj, live, t.now(), t.estimator)
    printing = issued.printing or {}
    ref = printing.get("public_ref")
    return jsonify({"ticket": ticket, "public_ref": ref,
                    # the phone page opens in the ticket's language (the QR carries it)
                    "url": f"{base_url()}/t/{ref}?lang={ticket['language']}" if ref else None,
                    "qr": f"/kiosk/qr/{ref}.svg?lang={ticket['language']}" if ref else None,
                    "print": printing.get("job"),
                    "printer": P.printer_view(proj, kiosk["printer"]),
                    "service_names": svc.names if svc else {}}), \
        201 if issued.created else 200


@route(bp, "/printers", "GET", "Printers with their state and unfinished jobs",
       "counters:read", tag="kiosk", out=R.PrintersOut)
def list_printers(p, _b):
    proj = tabour().view(p.branch_id)
    with tabour().db.read() as conn:
        pending: dict = {}
        for (name,) in conn.execute(select(s.print_jobs.c.printer).where(
                s.print_jobs.c.branch_id == p.branch_id, s.print_jobs.c.status == "pending")):
            pending[name] = pending.get(name, 0) + 1
    return jsonify({"printers": [P.printer_view(proj, name) | {"pending_jobs":
                                                                pending.get(name, 0)}
                                 for name in sorted(proj.printers)]})


@route(bp, "/print-jobs", "GET", "Recent print jobs (?status=pending|queued|retrying|"
       "waiting_paper|printed|printed_unconfirmed|failed|refused|not_taken)",
       "counters:read", tag="kiosk", out=R.JobsOut, query=PrintJobsQuery)
def list_print_jobs(p, _b):
    from ..commands.printing import job_view
    status = request.args.get("status")
    if status not in (None, *JOB_STATUSES):
        raise ApiError(400, "job_status_filter", choices=JOB_STATUSES)
    q = select(s.print_jobs).where(s.print_jobs.c.branch_id == p.branch_id)
    if status:
        q = q.where(s.print_jobs.c.status == status)
    with tabour().db.read() as conn:
        rows = conn.execute(q.order_by(s.print_jobs.c.id.desc()).limit(100)).mappings()
        jobs = [job_view(r) for r in rows]
    return jsonify({"jobs": jobs})
