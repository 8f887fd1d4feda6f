"""Every fixed string printed on a receipt, in Arabic, French, English and Tamazight.

One place on purpose: when the product moves strings to gettext catalogs, this
dict is what moves. ``{n}`` is a number, formatted with Western digits as used
in Morocco and Algeria.
"""

from __future__ import annotations

FALLBACK_LANGUAGES = ("fr", "en", "ar")
RTL_LANGUAGES = frozenset({"ar", "ary", "arq", "fa", "he", "ur", "ckb"})

LABELS: dict[str, dict[str, str]] = {
    "your_number": {"ar": "رقمك", "fr": "Votre numéro", "en": "Your number",
                    "zgh": "ⴰⵎⴹⴰⵏ ⵏⵏⴽ"},
    "people_ahead_line": {
        "ar": "عدد الأشخاص قبلك: {n}",
        "fr": "Personnes avant vous : {n}",
        "en": "People ahead of you: {n}",
        "zgh": "ⵎⵉⴷⴷⵏ ⴷⴰⵜ ⵉⴽ: {n}",
    },
    "you_are_next": {"ar": "أنت التالي", "fr": "Vous êtes le prochain", "en": "You are next",
                     "zgh": "ⴽⵢⵢⵉ ⴰⵢ ⴷ ⵓⴹⴼⵉⵔ"},
    "estimated_wait_line": {
        "ar": "مدة الانتظار المتوقعة: {minutes}",
        "fr": "Attente estimée : {minutes}",
        "en": "Estimated wait: {minutes}",
        "zgh": "ⴰⴽⵓⴷ ⵏ ⵓⵔⴰⵊⵓ: {minutes}",
    },
    "minutes": {"ar": "دقيقة", "fr": "minutes", "en": "minutes", "zgh": "ⵜⵓⵙⴷⵉⴷⵉⵏ"},
    "minute": {"ar": "دقيقة واحدة", "fr": "minute", "en": "minute", "zgh": "ⵜⵓⵙⴷⵉⴷⵜ"},
    "minutes_few": {"ar": "دقائق", "fr": "minutes", "en": "minutes"},  # Arabic 3..10
    "minutes_two": {"ar": "دقيقتان", "fr": "minutes", "en": "minutes"},
    "wait_for_call": {
        "ar": "يرجى الانتظار حتى يُنادى على رقمك",
        "fr": "Attendez l'appel de votre numéro",
        "en": "Please wait for your number to be called",
        "zgh": "ⵔⴰⵊⵓ ⴰⵔ ⴷ ⵉⵜⵜⵓⵖⵔⴰ ⵓⵎⴹⴰⵏ ⵏⵏⴽ",
    },
    "scan_ticket": {
        "ar": "امسح الرمز لمتابعة دورك",
        "fr": "Scannez pour suivre votre tour",
        "en": "Scan to follow your turn",
        "zgh": "ⵙⴽⴰⵏⵉ ⴰⴷ ⵜⴹⴼⵕⴷ ⴰⵏⵡⴰⵍ ⵏⵏⴽ",
    },
    # a priority ticket says so, and why (the counter agent sees it at a glance)
    "priority_ticket": {"ar": "تذكرة ذات أولوية", "fr": "TICKET PRIORITAIRE",
                        "en": "PRIORITY TICKET", "zgh": "ⴰⵎⴹⴰⵏ ⴰⵣⵡⴰⵔ"},
    "priority_elderly": {"ar": "شخص مسن", "fr": "Personne âgée", "en": "Elderly person",
                         "zgh": "ⴰⵎⵖⴰⵔ"},
    "priority_disabled": {"ar": "شخص في وضعية إعاقة", "fr": "Personne handicapée",
                          "en": "Person with a disability"},
    "priority_pregnant": {"ar": "امرأة حامل", "fr": "Femme enceinte", "en": "Pregnant woman"},
    "deposit_receipt": {"ar": "وصل إيداع ملف", "fr": "Récépissé de dépôt", "en": "Deposit receipt",
                        "zgh": "ⴰⵡⵚⵍ ⵏ ⵓⵙⵔⵙ"},
    "tracking_number": {"ar": "رقم التتبع", "fr": "Numéro de suivi", "en": "Tracking number",
                        "zgh": "ⴰⵎⴹⴰⵏ ⵏ ⵓⴹⴼⴼⵓⵕ"},
    "deposited_at_line": {"ar": "تاريخ الإيداع: {at}", "fr": "Déposé le {at}", "en": "Deposited: {at}",
                          "zgh": "ⴰⵙⵔⵙ: {at}"},
    "box_line": {"ar": "صندوق الإيداع: {box}", "fr": "Boîte de dépôt : {box}", "en": "Drop box: {box}",
                 "zgh": "ⵜⴰⵙⵏⴷⵓⵇⵜ: {box}"},
    "documents": {"ar": "الوثائق المصرح بها", "fr": "Documents déclarés", "en": "Documents declared",
                  "zgh": "ⵉⵙⴷⵍⵉⵙⵏ ⵉⵜⵜⵓⵙⵔⵙⵏ"},
    # deposited anyway after the kiosk's warning: the receipt says it, and what to bring
    "incomplete": {"ar": "ملف غير مكتمل", "fr": "Dossier incomplet", "en": "Incomplete dossier",
                   "zgh": "ⴰⴼⴰⵢⵍⵓ ⵓⵔ ⵉⴽⵎⵉⵍ"},
    "missing_documents": {
        "ar": "الوثائق الناقصة، أحضرها إلى الوكالة:",
        "fr": "Documents manquants, à apporter à l'agence :",
        "en": "Missing documents, to bring to the branch:",
        "zgh": "ⵉⵙⴷⵍⵉⵙⵏ ⵉⵅⵚⵚⴰⵏ, ⴰⵡⵉ ⵜⵏ ⵖⵔ ⵜⵙⵏⵉⵍⵜ:",
    },
    "next_steps": {"ar": "الخطوات التالية", "fr": "Prochaines étapes", "en": "Next steps",
                   "zgh": "ⵜⵉⵙⵓⵔⵉⴼⵉⵏ ⵉⴹⴼⴰⵕⵏ"},
    "scan_dossier": {
        "ar": "امسح الرمز لمتابعة ملفك",
        "fr": "Scannez pour suivre votre dossier",
        "en": "Scan to follow your dossier",
        "zgh": "ⵙⴽⴰⵏⵉ ⴰⴷ ⵜⴹⴼⵕⴷ ⴰⴼⴰⵢⵍⵓ ⵏⵏⴽ",
    },
    "copy": {"ar": "نسخة", "fr": "COPIE", "en": "COPY", "zgh": "ⵜⴰⵏⵖⵍⵜ"},
    "keep_receipt": {
        "ar": "احتفظ بهذا الوصل",
        "fr": "Conservez ce récépissé",
        "en": "Keep this receipt",
        "zgh": "ⵃⴹⵓ ⴰⵡⵚⵍ ⴰ",
    },
}

# Tamazight (zgh, Tifinagh) above is a first draft awaiting a native speaker's review
# (README, "Tamazight"); a key without zgh falls back like any other language.

FSI, PDI = "\u2068", "\u2069"  # Unicode first-strong isolate and its end


def isolate(value: object) -> str:
    """``value`` as a bidi isolate, for values placed in right-to-left sentences.

    Without it, "2026-11-23" after Arabic letters becomes three Arabic numbers
    separated by neutrals and prints as "23-11-2026" (Unicode bidi rules W2/W4).
    """
    return f"{FSI}{value}{PDI}"


def label(key: str, lang: str, **values: object) -> str:
    """The label ``key`` in ``lang`` (falling back to French, English, Arabic), formatted."""
    texts = LABELS[key]
    for candidate in (lang, *FALLBACK_LANGUAGES):
        if candidate in texts:
            if is_rtl_language(candidate):
                values = {name: isolate(value) for name, value in values.items()}
            return texts[candidate].format(**values)
    raise KeyError(key)


def minutes(n: int, lang: str) -> str:
    """ "15 minutes", "1 minute", "15 دقيقة", "5 دقائق", "دقيقتان" ."""
    if lang == "ar":
        if n == 1:
            return label("minute", lang)
        if n == 2:
            return label("minutes_two", lang)
        if 3 <= n % 100 <= 10:
            return f"{n} {label('minutes_few', lang)}"
        return f"{n} {label('minutes', lang)}"
    return f"{n} {label('minute' if n == 1 else 'minutes', lang)}"


def is_rtl_language(lang: str) -> bool:
    return lang.split("-")[0].lower() in RTL_LANGUAGES


def pick(texts: dict[str, str], lang: str) -> str | None:
    """The text for ``lang`` from a data dict (branch or service name), or None."""
    return texts.get(lang) or None
