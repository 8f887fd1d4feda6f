"""The touchscreen kiosk (/kiosk/) and the visitor's phone page (/t/<ref>).

The kiosk is ONE page that never leaves itself: language, services, ticket, dossier
drop-off and lookup are screens of /kiosk/ switched in place, with every string of the
branch's languages in the page (data, not code). A tap during a server outage, the idle
timer, "Back": none of them navigates, so Chromium's "This site can't be reached" never
replaces the kiosk; the page comes back by itself when the server does. /kiosk/services
and /kiosk/dossier/ open the same page on that screen.

The JavaScript talks to /api/v1 with the kiosk's device token (paired once, kept in
localStorage) and follows the queue over Socket.IO (TabourLive).
"""
from __future__ import annotations

import io

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request
from flask_babel import force_locale

from queue_server.i18n import NAMES, direction

from .strings import kiosk_strings

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates",
               static_folder="static", static_url_path="/static")
public = Blueprint("kiosk_public", __name__, template_folder="templates")

LANGUAGE_NAMES = NAMES  # each language named in itself: the visitor looks for their own


def _tabour():
    return current_app.extensions["tabour"]


def _config():
    return _tabour().printing


def _branch_languages() -> list[str]:
    ids = _tabour().branch_ids()
    if not ids:
        return ["ar", "fr", "en"]
    branch = _tabour().view(ids[0]).branch
    return [lang for lang in branch.languages if lang in LANGUAGE_NAMES] or ["ar"]


def render_kiosk(screen: str):
    """The kiosk page, opening on ``screen`` (start, services, dossier) in ?lang=."""
    from queue_server.backoffice.views import status_texts
    languages = _branch_languages()
    strings, dossier = {}, {}
    for lang in languages:
        with force_locale(lang):
            strings[lang] = kiosk_strings()
            dossier[lang] = status_texts()
    asked = request.args.get("lang")
    lang = asked if asked in languages else languages[0]
    cfg = _config()
    data = {"languages": [{"lang": x, "name": LANGUAGE_NAMES[x], "dir": direction(x)}
                          for x in languages],
            "lang": lang, "screen": screen, "idleSeconds": cfg.idle_seconds, "digits": cfg.digits,
            "strings": strings, "statusTexts": dossier}
    return render_template("kiosk/app.html", data=data, T=strings[lang], lang=lang,
                           dir=direction(lang), languages_shown=data["languages"])


@bp.get("/")
def start():
    return render_kiosk("start")


@bp.get("/services")
def services():
    return render_kiosk("services")


@bp.get("/qr/<ref>.svg")
def qr(ref: str):
    import qrcode
    import qrcode.image.svg
    from queue_server.engine.errors import NotFound
    from queue_server.readmodel.public import public_ticket
    try:
        public_ticket(_tabour(), ref)
    except NotFound:
        abort(404)
    base = _config().public_url or request.host_url.rstrip("/")
    lang = request.args.get("lang")
    query = f"?lang={lang}" if lang in LANGUAGE_NAMES else ""  # the ticket's language
    img = qrcode.make(f"{base}/t/{ref}{query}", image_factory=qrcode.image.svg.SvgPathImage,
                      box_size=10, border=2)
    out = io.BytesIO()
    img.save(out)
    return current_app.response_class(out.getvalue(), mimetype="image/svg+xml")


def visitor_language(own: str | None) -> str:
    from queue_server.i18n import visitor_language as pick
    return pick(own, _branch_languages())


def switch_languages() -> list[dict]:
    return [{"lang": x, "name": LANGUAGE_NAMES[x], "dir": direction(x)}
            for x in _branch_languages()]


@public.get("/t/<ref>")
def phone(ref: str):
    from queue_server.engine.errors import NotFound
    from queue_server.readmodel.public import public_view
    try:
        view = public_view(_tabour(), ref)
    except NotFound:
        with force_locale(visitor_language(None)):
            return render_template("kiosk/phone_missing.html"), 404
    with force_locale(visitor_language(view.get("language"))):
        return render_template("kiosk/phone.html", ticket=view, ref=ref, cfg=_config(),
                               switch=switch_languages())


@public.get("/t/<ref>.json")
def phone_json(ref: str):
    from queue_server.api.errors import error_body
    from queue_server.engine.errors import NotFound
    from queue_server.readmodel.public import public_view
    try:
        return jsonify(public_view(_tabour(), ref))
    except NotFound as exc:
        return jsonify(error_body(exc)), 404


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(public)
    from .dossier_flow import bp as dossier_bp  # dossier drop-off (issue 5)
    app.register_blueprint(dossier_bp)
