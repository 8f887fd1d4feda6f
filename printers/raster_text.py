"""Text the printer font cannot print (Arabic, mixed scripts, symbols) rendered as a 1-bit strip.

With Pillow's RAQM layout the LOGICAL text is given to Pillow, which shapes
(joins) and orders it. Only without RAQM is the text reshaped (arabic-reshaper)
and reordered (python-bidi) by hand, and then drawn with the BASIC layout: doing
both would print Arabic reversed.

Text wraps at word boundaries in logical order, so in a right-to-left paragraph
the first words are on the first line, at its right. A single word wider than
the paper first shrinks the font (down to ``min_size``), then breaks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from .errors import TextShapingUnavailable
from .fonts import BOLD, REGULAR, TIFINAGH, load_font, raqm_available
from .labels import is_rtl_language

_ISOLATES = dict.fromkeys(range(0x2066, 0x206A))  # LRI, RLI, FSI, PDI
THRESHOLD = 150  # grey level under which a pixel prints; a little bold for thermal heads


@dataclass(frozen=True)
class RasterStyle:
    size: int = 26
    bold: bool = False
    align: str = "center"  # "center", "start" or "end" (start is the right edge in RTL)
    min_size: int = 0  # shrink floor for over-long words, 0 means 70 % of size
    line_gap: int = 4
    margin: int = 8


def direction_of(text: str, lang: str | None = None) -> str:
    """ "rtl" or "ltr": the language decides when given, else the first strong character."""
    if lang is not None:
        return "rtl" if is_rtl_language(lang) else "ltr"
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def is_tifinagh(ch: str) -> bool:
    return "\u2d30" <= ch <= "\u2d7f"


def has_tifinagh(text: str) -> bool:
    return any(is_tifinagh(ch) for ch in text)


def tifinagh_runs(text: str) -> list[tuple[bool, str]]:
    """Split a line into runs of Tifinagh and of the rest (digits, Latin, punctuation);
    spaces stay with the run they are in."""
    runs: list[tuple[bool, str]] = []
    for ch in text:
        tif = is_tifinagh(ch) if not ch.isspace() else (runs[-1][0] if runs else False)
        if runs and runs[-1][0] == tif:
            runs[-1] = (tif, runs[-1][1] + ch)
        else:
            runs.append((tif, ch))
    return runs


class _Shaper:
    """Measures and draws one line in one font and paragraph direction. A line with
    Tifinagh (left to right) is drawn run by run: Tifinagh in Noto Sans Tifinagh, the
    rest (digits, Latin, punctuation) in the main font."""

    def __init__(self, font: ImageFont.FreeTypeFont, direction: str, raqm: bool,
                 tifinagh: ImageFont.FreeTypeFont | None = None, bold: bool = False) -> None:
        self.font = font
        self.direction = direction
        self.raqm = raqm
        self.tifinagh = tifinagh
        self.bold = bold
        if not raqm:
            self._reshape, self._get_display = _fallback_shaping()

    def _runs(self, text: str):
        return [(self.tifinagh if tif else self.font, run) for tif, run in tifinagh_runs(text)]

    def _prepare(self, text: str) -> tuple[str, str | None]:
        if self.raqm:
            return text, self.direction  # logical text: RAQM shapes and orders it
        base = "R" if self.direction == "rtl" else "L"
        visual = self._get_display(self._reshape(text), base_dir=base)
        return visual.translate(_ISOLATES), None  # older python-bidi keeps them: never draw them

    def length(self, text: str) -> float:
        if self.tifinagh is not None:
            return sum(font.getlength(run) for font, run in self._runs(text))
        shaped, direction = self._prepare(text)
        return self.font.getlength(shaped, direction=direction)

    def ink_box(self, text: str) -> tuple[float, float]:
        if self.tifinagh is not None:
            return 0.0, self.length(text)
        shaped, direction = self._prepare(text)
        x0, _, x1, _ = self.font.getbbox(shaped, direction=direction, anchor="ls")
        return x0, x1

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str) -> None:
        if self.tifinagh is not None:
            x, y = xy
            for font, run in self._runs(text):
                # Noto Sans Tifinagh has no bold face: a one-dot stroke makes it bold
                stroke = 1 if (self.bold and font is self.tifinagh) else 0
                draw.text((x, y), run, font=font, fill=0, anchor="ls", stroke_width=stroke,
                          stroke_fill=0)
                x += font.getlength(run)
            return
        shaped, direction = self._prepare(text)
        draw.text(xy, shaped, font=self.font, fill=0, anchor="ls", direction=direction)


def _fallback_shaping():
    try:
        from arabic_reshaper import reshape
    except ImportError as exc:
        raise TextShapingUnavailable(
            "Pillow has no RAQM layout here (install the system libraries libraqm0 and libfribidi0), "
            "and the fallback packages arabic-reshaper and python-bidi are not installed: "
            "Arabic cannot be printed joined and right to left."
        ) from exc
    try:
        from bidi import get_display  # python-bidi >= 0.5: knows bidi isolates
    except ImportError:
        try:
            from bidi.algorithm import get_display as legacy
        except ImportError as exc:
            raise TextShapingUnavailable(
                "Pillow has no RAQM layout here and python-bidi is not installed: install libraqm0 "
                "and libfribidi0, or the python-bidi package."
            ) from exc

        def get_display(text: str, base_dir: str) -> str:  # old versions reject isolates
            return legacy(text.translate(_ISOLATES), base_dir=base_dir)

    return reshape, get_display


def _wrap(text: str, avail: float, shaper: _Shaper) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if shaper.length(candidate) <= avail:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            if shaper.length(word) <= avail:
                current = word
                continue
            for piece in _break_word(word, avail, shaper):  # still too wide at min size
                if current:
                    lines.append(current)
                current = piece
        lines.append(current)
    return lines


def _break_word(word: str, avail: float, shaper: _Shaper) -> list[str]:
    pieces, piece = [], ""
    for ch in word:
        if piece and shaper.length(piece + ch) > avail:
            pieces.append(piece)
            piece = ""
        piece += ch
    return pieces + [piece]


def _choose_size(text: str, style: RasterStyle, avail: float, direction: str, raqm: bool) -> _Shaper:
    floor = style.min_size or max(8, int(style.size * 0.7))
    words = text.split() or [text]
    size = style.size
    tif = has_tifinagh(text) and direction == "ltr"
    while True:
        shaper = _Shaper(load_font(BOLD if style.bold else REGULAR, size, raqm), direction, raqm,
                         load_font(TIFINAGH, size, raqm) if tif else None, style.bold)
        if size <= floor or all(shaper.length(w) <= avail for w in words):
            return shaper
        size -= 1


@dataclass(frozen=True)
class Wrapped:
    """A paragraph split into lines (logical order) at the font size that fits."""

    lines: list[str]
    size: int
    direction: str
    shaper: _Shaper


def wrap_text(
    text: str, width: int, style: RasterStyle = RasterStyle(), *, lang: str | None = None, raqm: bool | None = None
) -> Wrapped:
    use_raqm = raqm_available() if raqm is None else raqm
    direction = direction_of(text, lang)
    avail = width - 2 * style.margin
    shaper = _choose_size(text, style, avail, direction, use_raqm)
    return Wrapped(_wrap(text, avail, shaper), shaper.font.size, direction, shaper)


def render_text(
    text: str,
    width: int,
    style: RasterStyle = RasterStyle(),
    *,
    lang: str | None = None,
    raqm: bool | None = None,
) -> Image.Image:
    """A 1-bit image ``width`` dots wide with ``text`` wrapped, shaped and aligned."""
    wrapped = wrap_text(text, width, style, lang=lang, raqm=raqm)
    shaper, lines = wrapped.shaper, wrapped.lines
    ascent, descent = shaper.font.getmetrics()
    pitch = ascent + descent + style.line_gap
    image = Image.new("L", (width, pitch * len(lines) - style.line_gap), 255)
    draw = ImageDraw.Draw(image)
    align = style.align
    if align in ("start", "end"):
        at_right = (align == "start") == (wrapped.direction == "rtl")
        align = "right" if at_right else "left"
    for i, line in enumerate(lines):
        if not line:
            continue
        x0, x1 = shaper.ink_box(line)
        ink = x1 - x0
        left = {"left": style.margin, "center": (width - ink) / 2, "right": width - style.margin - ink}[align]
        shaper.draw(draw, (round(left - x0), i * pitch + ascent), line)
    return image.point(lambda v: 0 if v < THRESHOLD else 255, mode="1")
