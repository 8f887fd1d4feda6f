"""The product's gettext catalogs, read without Flask.

One catalog per language (``queue_server/translations/<lang>/LC_MESSAGES/messages.po``)
covers the pages, the error messages, the receipts' labels and the announcements'
phrases. The printer agent and the announcer run outside any request (the agent often
in a process of its own), so they read the ``.po`` files here directly: nothing to
compile first, and an edited translation is picked up at the next start.

``text(msgid, lang)`` is the translation, or None when that catalog lacks it (the
caller decides what to fall back to); ``plural(singular, plural, n, lang)`` chooses
the form with the catalog's own ``Plural-Forms`` rule (Arabic has six).
"""
from __future__ import annotations

import functools
import gettext
import logging
from pathlib import Path

from babel.messages.pofile import read_po

log = logging.getLogger("tabour.catalogs")

TRANSLATIONS = Path(__file__).resolve().parents[1] / "queue_server" / "translations"


def N_(source: str) -> str:
    """Mark an English source string for extraction (``make i18n-extract`` uses -k N_)."""
    return source


class Catalog:
    def __init__(self, lang: str, messages: dict, plural_expr: str):
        self.lang = lang
        self._messages = messages
        self._plural = gettext.c2py(plural_expr)

    def text(self, msgid: str) -> str | None:
        found = self._messages.get(msgid)
        return found if isinstance(found, str) and found else None

    def plural(self, singular: str, plural: str, n: int) -> str | None:
        forms = self._messages.get((singular, plural))
        if not forms:
            return None
        index = self._plural(n)
        return forms[index] if index < len(forms) and forms[index] else None


@functools.lru_cache(maxsize=16)
def catalog(lang: str) -> Catalog | None:
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    try:
        with path.open("rb") as f:
            po = read_po(f, locale=lang)
    except (OSError, ValueError) as exc:
        log.warning("no catalog for %r (%s): its strings fall back", lang, exc)
        return None
    messages: dict = {}
    for m in po:
        if not m.id or m.fuzzy:
            continue
        if isinstance(m.id, (list, tuple)):
            forms = tuple(m.string) if isinstance(m.string, (list, tuple)) else ()
            if any(forms):
                messages[tuple(m.id[:2])] = forms
        elif m.string:
            messages[m.id] = m.string
    return Catalog(lang, messages, po.plural_expr)


def text(msgid: str, lang: str) -> str | None:
    c = catalog(lang)
    return c.text(msgid) if c else None


def plural(singular: str, plural_: str, n: int, lang: str) -> str | None:
    c = catalog(lang)
    return c.plural(singular, plural_, n) if c else None
