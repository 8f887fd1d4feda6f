"""Back-office and public status pages. The pages talk to /api/v1 and follow
changes over Socket.IO; nothing here writes."""
from __future__ import annotations

import io

from flask import abort, current_app, jsonify, render_template, request
from flask_babel import force_locale, get_locale, pgettext
from flask_babel import gettext as _

from ..api.errors import error_body, localized
from ..api.kiosk_routes import lookup_client
from ..dossiers import tracking
from ..dossiers.lifecycle import TRANSITIONS, DossierStatus
from ..engine.errors import NotFound
from ..readmodel.dossiers import TooManyGuesses
from . import bp, public


def _d():
    return current_app.extensions["tabour"].dossiers


def status_texts() -> dict:
    """Each status in the visitor's words and what to do next (translated)."""
    return {
        "deposited": [_("Deposited"), _("Your dossier was deposited. An agent will collect it "
                                         "from the box.")],
        "received": [_("Received"), _("The branch has your dossier. Its review starts soon.")],
        "in_review": [_("In review"), _("An agent is reviewing your dossier.")],
        "incomplete": [_("Incomplete"), _("Documents are missing: bring them to the branch. "
                                          "Show your receipt.")],
        "accepted": [_("Accepted"), _("Your claim was accepted. Payment follows.")],
        "paid": [_("Paid"), _("The payment was made.")],
        "closed": [pgettext("dossier status", "Closed"), _("This dossier is closed.")],
        "rejected": [_("Rejected"), _("Your claim was rejected. Ask at a counter if you have "
                                      "questions.")],
    }


def reason_texts() -> dict:
    """Why a dossier is rejected, in the page's language (codes staff choose from; the
    public page shows these words, never staff's own)."""
    from ..dossiers.messages import REJECT_REASONS
    return {code: _(msgid) for code, msgid in REJECT_REASONS.items()}


@bp.get("/")
def index():
    return render_template(
        "backoffice/index.html",
        transitions={a: {"from": sorted(s.value for s in frm), "to": to.value}
                     for a, (frm, to) in TRANSITIONS.items()},
        statuses=[s.value for s in DossierStatus], texts=status_texts(),
        reasons=reason_texts())


def _switch() -> list[dict]:
    from kiosk import switch_languages
    return switch_languages()


@public.get("/d/<value>")
def status_page(value: str):
    """The dossier's page, in the language the visitor chose at the kiosk (or ?lang=)."""
    from kiosk import visitor_language
    try:
        _b, _id, view = _d().public_lookup(value, *lookup_client())
    except TooManyGuesses as exc:
        with force_locale(visitor_language(None)):
            return render_template("backoffice/status_missing.html",
                                   message=localized(exc, str(get_locale()))), 429, \
                {"Retry-After": str(getattr(exc, "retry_after_s", 600))}
    except NotFound:
        with force_locale(visitor_language(None)):
            return render_template("backoffice/status_missing.html",
                                   message=_("There is no dossier with this tracking number: "
                                             "check it on your receipt.")), 404
    with force_locale(visitor_language(view.get("language"))):
        return render_template("backoffice/status.html", dossier=view, texts=status_texts(),
                               reasons=reason_texts(), switch=_switch())


@public.get("/d/<value>.json")
def status_json(value: str):
    try:
        return jsonify(_d().public_lookup(value, *lookup_client())[2])
    except TooManyGuesses as exc:
        return jsonify(error_body(exc)), 429, {"Retry-After": str(getattr(exc, "retry_after_s",
                                                                          600))}
    except NotFound as exc:
        return jsonify(error_body(exc)), 404


@public.get("/d/<value>/qr.svg")
def status_qr(value: str):
    import qrcode
    import qrcode.image.svg
    number = tracking.parse(value)
    if number is None:
        abort(404)
    base = (current_app.extensions["tabour"].printing.public_url
            or request.host_url.rstrip("/"))
    img = qrcode.make(f"{base}/d/{number}", image_factory=qrcode.image.svg.SvgPathImage,
                      box_size=10, border=2)
    out = io.BytesIO()
    img.save(out)
    return current_app.response_class(out.getvalue(), mimetype="image/svg+xml")
