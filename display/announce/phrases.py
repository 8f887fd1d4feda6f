"""What is said when a ticket is called, per language.

The text handed to espeak-ng is SSML (``espeak-ng -m``) so that the ticket letters are
spoken as letter names ("A" as the letter, not the English article "a") through
``<say-as interpret-as="characters">``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from printers.catalogs import N_, text

# What is said, in the product's one set of catalogs (queue_server/translations, like the
# pages and the receipts); {letters}, {number}, {counter} are filled in. The languages
# espeak-ng voices here (Tamazight has no voice yet: its visitors hear the branch's other
# languages).
PHRASE = N_("ticket {letters} {number}, counter {counter}")
VOICED = ("ar", "fr", "en")
PHRASE_TEMPLATES: dict[str, str] = {
    lang: phrase for lang in VOICED if (phrase := text(PHRASE, lang)) is not None}

# In Arabic speech in Morocco and Algeria, Latin letters are named the French way
# ("bé", "cé"): the letters of an Arabic phrase are spoken with this voice.
LETTER_VOICE: dict[str, str] = {"ar": "fr"}

_CODE_RE = re.compile(r"^\s*(?:([A-Za-z]+)[\s\-_]*)?(\d+)\s*$")


def parse_code(code: str) -> tuple[str, int]:
    """Split a ticket code into (letters, number): "A-042" -> ("A", 42), "17" -> ("", 17).

    Raises ValueError for anything else.
    """
    match = _CODE_RE.match(code or "")
    if not match:
        raise ValueError(f"not a ticket code: {code!r}")
    return (match.group(1) or "").upper(), int(match.group(2))


def supported_languages() -> tuple[str, ...]:
    return tuple(PHRASE_TEMPLATES)


def phrase_text(code: str, counter_number: int | str, lang: str) -> str:
    """Plain text of the announcement, e.g. "ticket A 42, counter 3" (for logs and captions).

    Raises KeyError for a language without a template, ValueError for a bad code.
    """
    letters, number = parse_code(code)
    text = PHRASE_TEMPLATES[lang].format(letters=letters, number=number, counter=counter_number)
    return _squeeze(text)


def phrase_ssml(
    code: str, counter_number: int | str, lang: str, letter_voice_ok: bool = True
) -> str:
    """The SSML given to espeak-ng for one language.

    ``letter_voice_ok=False`` drops the voice switch for the letters (when the voice of
    LETTER_VOICE[lang] is not installed); espeak-ng then names them its own way.
    """
    letters, number = parse_code(code)
    spoken_letters = ""
    if letters:
        spoken_letters = f'<say-as interpret-as="characters">{escape(letters)}</say-as>'
        voice = LETTER_VOICE.get(lang)
        if voice and letter_voice_ok:
            spoken_letters = f'<voice name="{voice}">{spoken_letters}</voice>'
    template = escape(PHRASE_TEMPLATES[lang])
    body = template.format(
        letters=spoken_letters, number=number, counter=escape(str(counter_number))
    )
    return f"<speak>{_squeeze(body)}</speak>"


@dataclass(frozen=True)
class Piece:
    """One piece of an announcement: words spoken in ``lang``'s voice (``ssml``), or a
    pause of ``pause_s`` seconds (``ssml`` empty) where the phrase has a comma."""
    lang: str
    ssml: str = ""
    pause_s: float = 0.0


COMMA_PAUSE_S = 0.25
_SLOT_RE = re.compile(r"(\{letters\}|\{number\}|\{counter\})")
_PUNCTUATION_RE = re.compile(r"[,،;؛:.]")


def phrase_pieces(
    code: str, counter_number: int | str, lang: str, letter_voice_ok: bool = True
) -> list[Piece]:
    """The announcement as pieces that are spoken once and reused by every call that
    has them: the phrase's words ("ticket", ", counter"), the letters, the number, the
    counter. "A-042" at counter 3 in French: "ticket" | "A" | "42" | pause | "guichet" | "3".

    Raises KeyError for a language without a template, ValueError for a bad code.
    """
    letters, number = parse_code(code)
    pieces: list[Piece] = []
    for chunk in _SLOT_RE.split(PHRASE_TEMPLATES[lang]):
        if chunk == "{letters}":
            if letters:
                voice = LETTER_VOICE.get(lang) if letter_voice_ok else None
                pieces.append(Piece(voice or lang, "<speak><say-as interpret-as=\"characters\">"
                                    f"{escape(letters)}</say-as></speak>"))
        elif chunk == "{number}":
            pieces.append(Piece(lang, f"<speak>{number}</speak>"))
        elif chunk == "{counter}":
            pieces.append(Piece(lang, f"<speak>{escape(_squeeze(str(counter_number)))}</speak>"))
        else:
            for i, words in enumerate(_PUNCTUATION_RE.split(chunk)):
                if i:  # a comma (or any stop) between words: a pause
                    pieces.append(Piece(lang, pause_s=COMMA_PAUSE_S))
                if words := _squeeze(words):
                    pieces.append(Piece(lang, f"<speak>{escape(words)}</speak>"))
    return [p for p in pieces if p.pause_s or p.ssml != "<speak></speak>"]


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
