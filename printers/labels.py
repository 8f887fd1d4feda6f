"""Every fixed string printed on a receipt, in Arabic, French and English.

One place on purpose: when the product moves strings to gettext catalogs, this
dict is what moves. ``{n}`` is a number, formatted with Western digits as used
in Morocco and Algeria.
"""

from __future__ import annotations

FALLBACK_LANGUAGES = ("fr", "en", "ar")
RTL_LANGUAGES = frozenset({"ar", "ary", "arq", "fa", "he", "ur", "ckb"})

LABELS: dict[str, dict[str, str]] = {
    "your_number": {"ar": "رقمك", "fr": "Votre numéro", "en": "Your number"},
    "people_ahead_line": {
        "ar": "عدد الأشخاص قبلك: {n}",
        "fr": "Personnes avant vous : {n}",
        "en": "People ahead of you: {n}",
    },
    "you_are_next": {"ar": "أنت التالي", "fr": "Vous êtes le prochain", "en": "You are next"},
    "estimated_wait_line": {
        "ar": "مدة الانتظار المتوقعة: {minutes}",
        "fr": "Attente estimée : {minutes}",
        "en": "Estimated wait: {minutes}",
    },
    "minutes": {"ar": "دقيقة", "fr": "minutes", "en": "minutes"},
    "minute": {"ar": "دقيقة واحدة", "fr": "minute", "en": "minute"},
    "minutes_few": {"ar": "دقائق", "fr": "minutes", "en": "minutes"},  # Arabic 3..10
    "minutes_two": {"ar": "دقيقتان", "fr": "minutes", "en": "minutes"},
    "wait_for_call": {
        "ar": "يرجى الانتظار حتى يُنادى على رقمك",
        "fr": "Attendez l'appel de votre numéro",
        "en": "Please wait for your number to be called",
    },
    "scan_ticket": {
        "ar": "امسح الرمز لمتابعة دورك",
        "fr": "Scannez pour suivre votre tour",
        "en": "Scan to follow your turn",
    },
    "deposit_receipt": {"ar": "وصل إيداع ملف", "fr": "Récépissé de dépôt", "en": "Deposit receipt"},
    "tracking_number": {"ar": "رقم التتبع", "fr": "Numéro de suivi", "en": "Tracking number"},
    "deposited_at_line": {"ar": "تاريخ الإيداع: {at}", "fr": "Déposé le {at}", "en": "Deposited: {at}"},
    "box_line": {"ar": "صندوق الإيداع: {box}", "fr": "Boîte de dépôt : {box}", "en": "Drop box: {box}"},
    "documents": {"ar": "الوثائق المصرح بها", "fr": "Documents déclarés", "en": "Documents declared"},
    "next_steps": {"ar": "الخطوات التالية", "fr": "Prochaines étapes", "en": "Next steps"},
    "scan_dossier": {
        "ar": "امسح الرمز لمتابعة ملفك",
        "fr": "Scannez pour suivre votre dossier",
        "en": "Scan to follow your dossier",
    },
    "copy": {"ar": "نسخة", "fr": "COPIE", "en": "COPY"},
    "keep_receipt": {
        "ar": "احتفظ بهذا الوصل",
        "fr": "Conservez ce récépissé",
        "en": "Keep this receipt",
    },
}


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
