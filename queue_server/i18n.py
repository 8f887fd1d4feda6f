"""Languages: Flask-Babel with gettext catalogs, Arabic right to left.

Catalogs live in ``queue_server/translations/<lang>/LC_MESSAGES/messages.po``
(one catalog for the kiosk, displays and staff pages; extract with
``make i18n-extract``). The compiled ``.mo`` files are build output: they are
compiled at setup and again at start when a ``.po`` is newer, so an edited
translation never needs a manual step.
"""
from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request
from flask_babel import Babel, get_locale

log = logging.getLogger("tabour.i18n")

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("ar", "fr", "en")
RTL = {"ar"}


def compile_catalogs(directory: Path = TRANSLATIONS) -> int:
    """Compile every .po that is newer than its .mo. Returns how many were compiled."""
    done = 0
    for po in directory.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        tmp.replace(mo)
        done += 1
    return done


def select_locale() -> str:
    """?lang= first (a kiosk tap), then the cookie the page set, then the browser."""
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang in LANGUAGES:
        return lang
    return request.accept_languages.best_match(LANGUAGES) or "ar"


def direction(lang: str | None = None) -> str:
    return "rtl" if (lang or str(get_locale())) in RTL else "ltr"


def init(app) -> None:
    try:
        compile_catalogs()
    except OSError as exc:  # a read-only install: use what was compiled at setup
        log.warning("could not compile translations: %s", exc)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "ar")
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _lang():
        lang = str(get_locale())
        return {"lang": lang, "dir": direction(lang), "languages": LANGUAGES}
