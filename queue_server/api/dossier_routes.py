"""/api/v1 routes of dossier drop-off, the back office and the public status."""
from __future__ import annotations

from datetime import date
from typing import Literal

from flask import current_app, jsonify, request
from pydantic import Field

from ..dossiers.lifecycle import ACTIONS
from ..dossiers.messages import REJECT_REASONS
from ..engine.messages import N_, register
from . import bp
from .errors import ApiError
from .kiosk_routes import base_url, kiosk_of, lookup_client
from . import responses as R
from .registry import route
from .schemas import Id, ReprintIn, Strict, VisitorLang

register({
    "dossier_paging": N_("limit is 1 to 200, and before is a dossier's id (the 'next' of the "
                         "page before)."),
})

Action = Literal["receive", "review", "incomplete", "accept", "pay", "close", "reject"]
assert set(Action.__args__) == set(ACTIONS)


class DossierIn(Strict):
    type: str = Field(min_length=1, max_length=40, description="a dossier type code (GET /dossier-types)")
    insured_number: str = Field(min_length=1, max_length=40)
    national_id: str | None = Field(None, max_length=40)
    documents: list[str] = Field(default_factory=list, max_length=40,
                                 description="codes of the documents the visitor has")
    event_date: date | None = Field(None, description="the date deadlines count from (YYYY-MM-DD)")
    language: VisitorLang = "ar"


class DepositIn(DossierIn):
    idempotency_key: str = Field(min_length=8, max_length=80,
                                 description="one per confirm tap: a retry never deposits twice")
    ticket_id: Id | None = Field(None, description="the ticket being served (a counter deposit)")
    print: bool = Field(True, description="print the deposit receipt (kiosk: its printer)")


RejectReason = Literal[tuple(REJECT_REASONS)]  # type: ignore[valid-type]


class TransitionIn(Strict):
    action: Action
    missing: list[str] | None = Field(None, max_length=40,
                                      description="incomplete: codes of the missing documents")
    reason: RejectReason | None = Field(
        None, description="reject: why, as a code; the visitor reads its text from the "
                          "catalogs in their language (never staff's own words)")
    note: str | None = Field(None, max_length=1000, description="an internal note: staff "
                             "pages only, never the public page")


class DossierListQuery(Strict):
    day: str | None = Field(None, max_length=10, description="today, or YYYY-MM-DD")
    status: str | None = Field(None, max_length=20)
    insured: str | None = Field(None, max_length=40, description="the full insured number")
    limit: int = Field(200, ge=1, le=200)
    before: int | None = Field(None, ge=1, description="the 'next' of the page before")


def _d():
    return current_app.extensions["tabour"].dossiers


@route(bp, "/dossier-types", "GET", "Dossier types with their documents and deadline rules",
       None, tag="dossiers", out=R.DossierTypesOut)
def dossier_types(_p, _b):
    cfg = _d().config
    return jsonify({"types": [
        {"code": t.code, "names": t.names, "icon": t.icon, "box": t.box, "event": t.event,
         "documents": [{"code": d.code, "names": d.names, "required": d.required}
                       for d in t.documents],
         "deadlines": [{"code": r.code, "names": r.names, "within_days": r.days,
                        "within_months": r.months} for r in t.deadlines]}
        for t in cfg.types.values()],
        "identity": {"insured": cfg.insured_scheme, "national": cfg.national_scheme}})


@route(bp, "/dossiers/check", "POST", "Validate a drop-off before confirming: missing "
       "documents and past deadlines (records nothing)", "dossiers:deposit", DossierIn,
       {200: "What is missing or late", 404: "Unknown dossier type",
        409: "A document code the dossier type does not have"}, tag="dossiers",
       out=R.DossierCheckOut)
def check_dossier(p, body: DossierIn):
    return jsonify(_d().check(p.branch_id, body.type, body.insured_number, body.national_id,
                              body.documents, body.event_date))


@route(bp, "/dossiers", "POST", "Deposit a dossier (kiosk or counter); prints the receipt",
       "dossiers:deposit", DepositIn,
       {201: "Deposited", 200: "Already deposited for this idempotency key",
        404: "Unknown dossier type or ticket",
        409: "A document code the dossier type does not have"}, tag="dossiers",
       out=R.DepositOut)
def deposit(p, body: DepositIn):
    t = current_app.extensions["tabour"]
    channel = "kiosk" if p.role == "kiosk" else "counter"
    printer = None
    if body.print:
        printer = kiosk_of(p)["printer"] if p.role == "kiosk" else t.printing.agent_printer
    done = t.commands.deposit(p.branch_id, body.type, body.insured_number, body.national_id,
                              body.documents, body.event_date, body.language, channel, p.actor,
                              body.idempotency_key, body.ticket_id, printer, base_url())
    x = done.dossier
    proj = t.view(p.branch_id)
    from ..readmodel.presenters import printer_view
    printing = {"job": done.printing, "printer": printer_view(proj, printer)} \
        if done.printing else None
    return jsonify({"dossier": _d().summary(x, proj.branch.timezone),
                    "url": f"{base_url()}/d/{x.tracking}",
                    "qr": f"/d/{x.tracking}/qr.svg", "print": printing}), \
        201 if done.created else 200


@route(bp, "/dossiers", "GET", "Dossiers, newest first (?day=today|YYYY-MM-DD, ?status=..., "
       "?insured=<full insured number>, ?limit=1..200, ?before=<id> for the next page), "
       "numbers masked", "dossiers:read", tag="dossiers", out=R.DossierListOut,
       query=DossierListQuery)
def list_dossiers(p, _b):
    limit = request.args.get("limit", type=int, default=200)
    before = request.args.get("before", type=int)
    if not 1 <= limit <= 200 or (before is not None and not 1 <= before < 2**31):
        raise ApiError(400, "dossier_paging")
    rows = _d().listing(p.branch_id, request.args.get("day"), request.args.get("status"),
                        request.args.get("insured") or None, before, limit + 1)
    page = rows[:limit]
    # the cursor of the next (older) page, when there is one
    return jsonify({"dossiers": page, "next": page[-1]["id"] if len(rows) > limit else None})


@route(bp, "/dossiers/counts", "GET", "Counts by type and status, deposited today, age of "
       "open dossiers", "dossiers:counts", tag="dossiers", out=R.DossierCountsOut)
def dossier_counts(p, _b):
    return jsonify(_d().counts(p.branch_id))


@route(bp, "/dossiers/<tracking>", "GET", "Open a dossier (staff; the opening is audited). "
       "The tracking number or the receipt's QR value", "dossiers:read",
       responses={200: "The dossier with its history", 404: "No such dossier"}, tag="dossiers",
       out=R.DossierOpenedOut)
def open_dossier(p, _b, tracking):
    t = current_app.extensions["tabour"]
    return jsonify(t.commands.open_dossier(p.branch_id, tracking, p.actor))


@route(bp, "/dossiers/<tracking>/transitions", "POST", "Move a dossier one step",
       "dossiers:manage", TransitionIn,
       {200: "The dossier after the step", 404: "No such dossier",
        409: "Not allowed from its current status"}, tag="dossiers", out=R.TransitionOut)
def transition(p, body: TransitionIn, tracking):
    t = current_app.extensions["tabour"]
    x = t.commands.dossier_transition(p.branch_id, tracking, body.action, p.actor, body.missing,
                                      body.reason, body.note)
    return jsonify({"dossier": _d().staff_view(x, t.view(p.branch_id).branch.timezone)})


@route(bp, "/dossiers/<tracking>/reprint", "POST", "Reprint a deposit receipt at reception "
       "(marked as a copy; the reprint is audited)", "dossiers:manage", ReprintIn,
       {200: "The new print job", 404: "No such dossier, or its receipt was never printed"},
       tag="dossiers", out=R.ReprintOut)
def reprint_receipt(p, body: ReprintIn, tracking):
    t = current_app.extensions["tabour"]
    with t.db.read() as conn:
        _b, x = _d().find(conn, p.branch_id, tracking)
    return jsonify({"job": t.commands.reprint(p.branch_id, p.actor, dossier_id=x.id,
                                              printer=body.printer)})


@route(bp, "/public/dossiers/<tracking>", "GET", "A dossier's status for its holder: status, "
       "type, dates, missing documents, masked insured number", None,
       responses={200: "The status", 404: "No such dossier",
                  429: "Too many wrong numbers from this device"}, tag="dossiers",
       out=R.PublicDossierOut, limited=True)
def public_dossier(_p, _b, tracking):
    _b2, _id, view = _d().public_lookup(tracking, *lookup_client())
    return jsonify(view)
