"""The wall display page (/display/), its announcement audio and the announcement replay.

A TV in Chromium kiosk mode opens ``/display/?zone=hall#token=<display device token>``
(the token is kept in the page's localStorage and removed from the address bar; a
fragment never reaches server logs). Launch Chromium with
``--kiosk --autoplay-policy=no-user-gesture-required`` so announcements play without
a tap. See display/web/README.md.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file
from flask_babel import force_locale, gettext

from queue_server.announcements import LATE_S
from queue_server.auth import AuthError

bp = Blueprint("display", __name__, url_prefix="/display", template_folder="templates",
               static_folder="static", static_url_path="/static")

AUDIO_NAME = re.compile(r"^call-[0-9a-f]{32}\.wav$")
LABEL_LANGUAGES = ("ar", "fr", "en", "zgh")  # Tamazight: an optional display language


def _labels() -> dict:
    """Every display label in every language: the page shows two (or three) at once."""
    out = {}
    for lang in LABEL_LANGUAGES:
        with force_locale(lang):
            out[lang] = {
                "ticket": gettext("Ticket"),
                "counter": gettext("Counter"),
                "now_calling": gettext("Now calling"),
                "previous_calls": gettext("Previous calls"),
                "waiting": gettext("Waiting"),
                "estimate": gettext("Estimated wait"),
                "minutes": gettext("min"),
                "recall": gettext("Recall"),
                "transferred": gettext("Transferred"),
                "closed": gettext("Closed"),
                "reconnecting": gettext("Reconnecting…"),
                "no_calls": gettext("Welcome"),
                "calls_here": gettext("The numbers called appear here."),
                "refused": gettext("This display cannot connect"),
                "enable_sound": gettext("Tap to enable sound"),
                "pair_title": gettext("Pair this display"),
                "pair_typed": gettext("Type the pairing code of this display."),
                "pair_how": gettext("No code yet? On the branch's server, run this command "
                                    "(a code is valid 15 minutes), or use the code printed "
                                    "when the server started:"),
                "pairing_code": gettext("Pairing code"),
                "pair": gettext("Pair"),
                "bad_code": gettext("This pairing code is not valid. Check it and try again."),
                "unpaired": gettext("This display is no longer paired: type a new pairing "
                                    "code."),
            }
    return out


def _tabour():
    return current_app.extensions["tabour"]


def _display_languages() -> list[str]:
    ids = _tabour().branch_ids()
    langs = list(_tabour().view(ids[0]).branch.display_languages) if ids else []
    return [x for x in langs if x in LABEL_LANGUAGES][:3] or ["ar", "fr"]


@bp.get("/")
def page():
    from queue_server.i18n import direction
    langs = _display_languages()
    return render_template("display/index.html", data={
        "labels": _labels(), "languages": langs,
        "dirs": {x: direction(x) for x in LABEL_LANGUAGES}},
        first=langs[0], first_dir=direction(langs[0]))


@bp.get("/audio/<name>")
def audio(name: str):
    """An announcement WAV. The name is a content hash of what it says; the audio holds
    no personal data (a ticket code, a counter number). The URL also says what it says
    (``?branch=&code=&counter=&langs=``): a process that did not make it (several
    processes behind nginx, each with its own folder) makes the same one, and serves it
    only if its name is the one asked for."""
    if not AUDIO_NAME.match(name):
        abort(404)
    announcer = _tabour().announcer
    path = announcer.audio_path(name)
    if not path.is_file():
        said = _what_is_said(request.args)
        path = announcer.audio_for(name, *said) if said is not None else None
        if path is None:
            abort(404)
    return send_file(path, mimetype="audio/wav", max_age=86400, conditional=True)


CALL_CODE = re.compile(r"^[A-Za-z0-9-]{1,16}$")
LANG_CODE = re.compile(r"^[a-z]{2,3}$")


def _what_is_said(args) -> tuple[int, str, int, list[str]] | None:
    """(branch, code, counter, languages) from an audio URL's query, or None when it does
    not name a call that could be announced (nothing is made for it)."""
    branch, code = args.get("branch", ""), args.get("code", "")
    counter, langs = args.get("counter", ""), args.get("langs", "")
    wanted = langs.split(",") if langs else []
    # a language without a voice (Tamazight) is said as the chime: still a call's audio
    if not branch.isdigit() or not CALL_CODE.match(code) or not counter.isdigit() \
            or not 0 < int(counter) < 10_000 or not 0 < len(wanted) <= 3 \
            or not all(LANG_CODE.match(lang) for lang in wanted):
        return None
    return int(branch), code, int(counter), wanted


@bp.get("/announcements")
def announcements():
    """Announcements of the last ``LATE_S`` seconds after ``after`` (a display that was
    offline, a server that restarted): each call is announced once, late rather than
    never, and a display plays each seq once (display.js)."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    from queue_server.api.errors import error_body
    try:
        principal = _tabour().auth.authenticate(token)
        if not principal.can("display:watch"):
            raise AuthError("role_forbidden", 403, role=principal.role,
                            permission="display:watch")
    except AuthError as exc:
        return jsonify(error_body(exc)), exc.status
    after = request.args.get("after", type=int, default=0)
    from . import zones
    t = _tabour()
    # the branch's zones live in the database (edited at /admin/); unknown: no filter
    zone = t.view(principal.branch_id).branch.zones.get(request.args.get("zone") or "")
    # calls whose process died before their audio: announced now, late rather than never
    t.announcer.catch_up(principal.branch_id)
    return jsonify({"announcements": [
        a for a in t.announcer.recent(principal.branch_id, after, fresh_s=LATE_S)
        if zones.shows_call(zone, a.get("service"), a.get("counter"))]})
