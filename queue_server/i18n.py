"""Languages: Flask-Babel with gettext catalogs, Arabic right to left.

Catalogs live in ``queue_server/translations/<lang>/LC_MESSAGES/messages.po``
(one catalog for the kiosk, displays and staff pages; extract with
``make i18n-extract``). The compiled ``.mo`` files are build output: they are
compiled at setup and again at start when a ``.po`` is newer, so an edited
translation never needs a manual step.

Visitors' pages (kiosk, phone pages, wall displays, receipts) offer every language
below; staff pages offer ``STAFF_LANGUAGES``. Standard Moroccan Tamazight (``zgh``,
Tifinagh) translates the visitors' strings; what it lacks falls back to the language in
``FALLBACK`` (Arabic), never to the English of the source. The list stays open: a
language is a catalog, a name, a direction and a fallback (Algeria's Tamazight in Latin
script, ``kab`` or ``tzm-Latn``, is a later step).
"""
from __future__ import annotations

import logging
from pathlib import Path

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request
from flask_babel import Babel, Domain, get_locale

log = logging.getLogger("tabour.i18n")

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("ar", "fr", "en", "zgh")  # every catalog (visitors' pages)
STAFF_LANGUAGES = ("ar", "fr", "en")  # staff pages: every string translated
RTL = {"ar"}
# each language named in itself: a visitor looks for their own
NAMES = {"ar": "العربية", "fr": "Français", "en": "English", "zgh": "ⵜⴰⵎⴰⵣⵉⵖⵜ"}
# what a catalog that lacks a string falls back to (instead of the English source)
FALLBACK = {"zgh": "ar"}


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
    return request.accept_languages.best_match(STAFF_LANGUAGES) or "ar"


def visitor_language(own: str | None, offered=("ar",)) -> str:
    """A visitor's page (a ticket's or a dossier's, opened from its QR code) speaks ?lang=
    (the page's switch, the QR link), else the language the visitor chose at the kiosk:
    never the phone's browser, which may not be theirs."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    if own in LANGUAGES:
        return own
    return next(iter(offered), "ar")


def direction(lang: str | None = None) -> str:
    return "rtl" if (lang or str(get_locale())) in RTL else "ltr"


class _FallbackDomain(Domain):
    """A catalog that lacks a string answers with its fallback language's, not English."""

    def get_translations(self):
        translations = super().get_translations()
        lang = str(get_locale())
        if lang in FALLBACK and not getattr(translations, "_tabour_fallback", False):
            for dirname in self.translation_directories:
                translations.add_fallback(support.Translations.load(
                    dirname, [FALLBACK[lang]], self.domain[0]))
            translations._tabour_fallback = True
        return translations


def init(app) -> None:
    try:
        compile_catalogs()
    except OSError as exc:  # a read-only install: use what was compiled at setup
        log.warning("could not compile translations: %s", exc)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "ar")
    babel = Babel(app, locale_selector=select_locale)
    babel.__dict__["domain_instance"] = _FallbackDomain()

    @app.context_processor
    def _lang():
        lang = str(get_locale())
        return {"lang": lang, "dir": direction(lang), "languages": STAFF_LANGUAGES,
                "language_names": NAMES}
