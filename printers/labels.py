"""Every fixed string printed on a receipt: its English source, translated in the
product's one set of catalogs (``queue_server/translations``, read by
``printers.catalogs``: Arabic, French, English, Tamazight), like the pages and the
announcements. ``{n}`` is a number, formatted with Western digits as used in Morocco
and Algeria.
"""

from __future__ import annotations

from .catalogs import N_, plural, text

FALLBACK_LANGUAGES = ("fr", "en", "ar")
RTL_LANGUAGES = frozenset({"ar", "ary", "arq", "fa", "he", "ur", "ckb"})

LABELS: dict[str, str] = {
    "your_number": N_("Your number"),
    "people_ahead_line": N_("People ahead of you: {n}"),
    "you_are_next": N_("You are next"),
    "estimated_wait_line": N_("Estimated wait: {minutes}"),
    "wait_for_call": N_("Please wait for your number to be called"),
    "scan_ticket": N_("Scan to follow your turn"),
    # a priority ticket says so, and why (the counter agent sees it at a glance)
    "priority_ticket": N_("PRIORITY TICKET"),
    "priority_elderly": N_("Elderly person"),
    "priority_disabled": N_("Person with a disability"),
    "priority_pregnant": N_("Pregnant woman"),
    "deposit_receipt": N_("Deposit receipt"),
    "tracking_number": N_("Tracking number"),
    "deposited_at_line": N_("Deposited: {at}"),
    "box_line": N_("Drop box: {box}"),
    "documents": N_("Documents declared"),
    # deposited anyway after the kiosk's warning: the receipt says it, and what to bring
    "incomplete": N_("Incomplete dossier"),
    "missing_documents": N_("Missing documents, to bring to the branch:"),
    "next_steps": N_("Next steps"),
    "scan_dossier": N_("Scan to follow your dossier"),
    "copy": N_("COPY"),
    "keep_receipt": N_("Keep this receipt"),
}

# Tamazight (zgh, Tifinagh) is a first draft awaiting a native speaker's review (README,
# "Tamazight"); a label its catalog lacks falls back like any other language's:
# French, English, then Arabic (FALLBACK_LANGUAGES).

FSI, PDI = "\u2068", "\u2069"  # Unicode first-strong isolate and its end


def isolate(value: object) -> str:
    """``value`` as a bidi isolate, for values placed in right-to-left sentences.

    Without it, "2026-11-23" after Arabic letters becomes three Arabic numbers
    separated by neutrals and prints as "23-11-2026" (Unicode bidi rules W2/W4).
    """
    return f"{FSI}{value}{PDI}"


def label(key: str, lang: str, **values: object) -> str:
    """The label ``key`` in ``lang`` (falling back to French, English, Arabic), formatted."""
    source = LABELS[key]
    for candidate in (lang, *FALLBACK_LANGUAGES):
        translated = text(source, candidate)
        if translated is not None:
            if is_rtl_language(candidate):
                values = {name: isolate(value) for name, value in values.items()}
            return translated.format(**values)
    return source.format(**values)


def minutes(n: int, lang: str) -> str:
    """ "15 minutes", "1 minute", "15 دقيقة", "5 دقائق", "دقيقتان": the catalog's plural
    forms (Arabic has six)."""
    for candidate in (lang, *FALLBACK_LANGUAGES):
        form = plural("{n} minute", "{n} minutes", n, candidate)
        if form is not None:
            return form.format(n=n)
    return f"{n} minute" if n == 1 else f"{n} minutes"


def is_rtl_language(lang: str) -> bool:
    return lang.split("-")[0].lower() in RTL_LANGUAGES


def pick(texts: dict[str, str], lang: str) -> str | None:
    """The text for ``lang`` from a data dict (branch or service name), or None."""
    return texts.get(lang) or None
