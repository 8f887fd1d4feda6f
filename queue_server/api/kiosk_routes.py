"""/api/v1 routes of kiosks and printers: pairing, kiosk tickets, printer states."""
from __future__ import annotations

from typing import Literal

from flask import current_app, jsonify, request
from pydantic import Field

from ..engine.model import PriorityClass
from ..queries import service_view, ticket_view
from . import bp
from .errors import ApiError
from .registry import route
from .schemas import Lang, Strict


class PairingCodeIn(Strict):
    kiosk_name: str = Field(min_length=1, max_length=120)
    printer: str | None = Field(None, min_length=1, max_length=120,
                                description="the printer's name (its agent's device token "
                                            "name); default: the branch's default printer")


class PairIn(Strict):
    code: str = Field(min_length=4, max_length=20, description="the code shown to the admin")


class KioskTicketIn(Strict):
    service: str = Field(min_length=1, max_length=3)
    priority: Literal["none", "elderly", "disabled", "pregnant"] = "none"
    language: Lang = "ar"
    idempotency_key: str = Field(min_length=8, max_length=80,
                                 description="one per tap: a retry never issues a second ticket")


def tabour():
    return current_app.extensions["tabour"]


def base_url() -> str:
    configured = tabour().printjobs.config.public_url
    return configured or request.host_url.rstrip("/")


@route(bp, "/kiosk/pairing-codes", "POST", "Make a short code a kiosk types once to pair",
       "devices:manage", PairingCodeIn, {201: "The code (shown once) and when it expires"},
       tag="kiosk")
def create_pairing_code(p, body: PairingCodeIn):
    code = tabour().printjobs.create_pairing_code(p.branch_id, body.kiosk_name, body.printer)
    return jsonify(code), 201


@route(bp, "/kiosk/pair", "POST", "A kiosk trades a pairing code for its device token", None,
       PairIn, {200: "The kiosk's device token", 404: "Wrong, used or expired code",
                429: "Too many wrong codes"}, tag="kiosk")
def pair(_p, body: PairIn):
    return jsonify(tabour().printjobs.pair(body.code))


@route(bp, "/kiosks", "GET", "Paired kiosks (revoke one with POST /devices/{token_id}/revoke)",
       "devices:manage", tag="kiosk")
def list_kiosks(p, _b):
    return jsonify({"kiosks": tabour().printjobs.kiosks(p.branch_id)})


@route(bp, "/kiosk/me", "GET", "This kiosk: its name, its printer and the printer's state",
       "kiosk:watch", tag="kiosk")
def kiosk_me(p, _b):
    pj = tabour().printjobs
    kiosk = pj.kiosk_of(p)
    return jsonify(kiosk | {"printer_state": pj.printer_state(p.branch_id, kiosk["printer"])})


@route(bp, "/kiosk/tickets", "POST", "Issue a ticket at a kiosk and print it",
       "tickets:issue", KioskTicketIn,
       {201: "Issued (printing follows)", 200: "Already issued for this idempotency key",
        409: "The service is closed or has no open counter"}, tag="kiosk")
def kiosk_ticket(p, body: KioskTicketIn):
    t = tabour()
    earlier = None
    st = t.queries.state(p.branch_id)
    svc = next((sv for sv in st.services if sv.prefix == body.service), None)
    if svc is not None and not service_view(svc, st)["open"]:
        # a retry of a tap that did issue (the service closed since) still gets its ticket
        from ..db import repo
        with t.db.read() as conn:
            earlier = repo.ticket_by_key(conn, p.branch_id, body.idempotency_key)
        if earlier is None:
            name = svc.names.get(body.language) or svc.prefix
            raise ApiError(409, "service_closed", f"{name} is closed right now (no counter is "
                           "open for it): choose another service or ask at reception.",
                           service=svc.prefix)
    prio = PriorityClass.NORMAL if body.priority == "none" else PriorityClass(body.priority)
    issued = t.commands.issue(p.branch_id, body.service, prio, body.language, "kiosk",
                              p.actor, body.idempotency_key)
    kiosk = t.printjobs.kiosk_of(p)
    printing = t.printjobs.ticket_job(p.branch_id, issued.ticket, kiosk["printer"], base_url())
    _, st = t.queries.ticket(p.branch_id, issued.ticket.id)
    ref = printing["public_ref"]
    return jsonify({"ticket": ticket_view(issued.ticket, st), "public_ref": ref,
                    "url": f"{base_url()}/t/{ref}", "qr": f"/kiosk/qr/{ref}.svg",
                    "print": printing["job"], "printer": printing["printer"],
                    "service_names": svc.names if svc else {}}), \
        201 if issued.created else 200


@route(bp, "/printers", "GET", "Printers with their state and unfinished jobs",
       "counters:read", tag="kiosk")
def list_printers(p, _b):
    return jsonify({"printers": tabour().printjobs.printers(p.branch_id)})


@route(bp, "/print-jobs", "GET", "Recent print jobs (?status=pending|printed|failed)",
       "counters:read", tag="kiosk")
def list_print_jobs(p, _b):
    status = request.args.get("status")
    if status not in (None, "pending", "printed", "failed"):
        raise ApiError(400, "bad_request", "status is one of pending, printed, failed.")
    return jsonify({"jobs": tabour().printjobs.jobs(p.branch_id, status)})
