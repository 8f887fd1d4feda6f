"""The touchscreen kiosk (/kiosk/) and the visitor's phone page (/t/<ref>).

Pages are rendered by the server in the chosen language (Flask-Babel); the
kiosk's JavaScript talks to /api/v1 with the kiosk's device token (paired once,
kept in localStorage) and follows the queue over Socket.IO (TabourLive).
"""
from __future__ import annotations

import io

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request
from flask_babel import force_locale, gettext as _

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates",
               static_folder="static", static_url_path="/static")
public = Blueprint("kiosk_public", __name__, template_folder="templates")

# each language named in itself: the visitor looks for their own
LANGUAGE_NAMES = {"ar": "العربية", "fr": "Français", "en": "English"}


def _tabour():
    return current_app.extensions["tabour"]


def _config():
    return _tabour().printing


def _branch_languages() -> list[str]:
    ids = _tabour().branch_ids()
    if not ids:
        return list(LANGUAGE_NAMES)
    branch = _tabour().view(ids[0]).branch
    return [lang for lang in branch.languages if lang in LANGUAGE_NAMES] or ["ar"]


@bp.get("/")
def start():
    languages = _branch_languages()
    greetings = []
    for lang in languages:
        with force_locale(lang):
            greetings.append({"lang": lang, "name": LANGUAGE_NAMES[lang],
                              "welcome": _("Welcome"), "choose": _("Choose your language")})
    return render_template("kiosk/start.html", greetings=greetings, cfg=_config())


@bp.get("/services")
def services():
    return render_template("kiosk/services.html", cfg=_config())


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
    img = qrcode.make(f"{base}/t/{ref}", image_factory=qrcode.image.svg.SvgPathImage,
                      box_size=10, border=2)
    out = io.BytesIO()
    img.save(out)
    return current_app.response_class(out.getvalue(), mimetype="image/svg+xml")


@public.get("/t/<ref>")
def phone(ref: str):
    from queue_server.engine.errors import NotFound
    from queue_server.readmodel.public import public_view
    try:
        view = public_view(_tabour(), ref)
    except NotFound:
        return render_template("kiosk/phone_missing.html"), 404
    return render_template("kiosk/phone.html", ticket=view, ref=ref, cfg=_config())


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
