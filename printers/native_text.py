"""The printer's own font: what it can print, how wide it is, and how it looks in previews.

Native text costs one byte per character, against ~100 bytes per character for the
same text as raster, so every line the code page can print stays native. The model
is ESC/POS font A: 12 x 24 dot cells, multiplied by GS ! (1..8 each way).
"""

from __future__ import annotations

import functools
import textwrap
import unicodedata

from PIL import Image, ImageDraw

from .blocks import TextBlock
from .fonts import MONO, MONO_BOLD, load_font

CELL_W = 12
CELL_H = 24
LINE_GAP = 6  # dots between native lines in previews (printer default spacing is a little more)


def is_native(text: str, codepage: str) -> bool:
    """True when ``text`` can be printed with the printer font in ``codepage``.

    Any right-to-left character sends the line to raster, even if the code page
    has it: code pages do not join or reorder Arabic.
    """
    if not text or not text.isprintable():
        return False
    if any(unicodedata.bidirectional(ch) in ("R", "AL", "AN") for ch in text):
        return False
    try:
        text.encode(codepage.lower())
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def columns(width_dots: int, width_mult: int = 1) -> int:
    return width_dots // (CELL_W * width_mult)


def wrap(text: str, cols: int) -> list[str]:
    """Word wrap to ``cols`` characters; a word longer than a line is split, never cut."""
    return textwrap.wrap(text, cols, break_long_words=True, break_on_hyphens=False) or [""]


def fit_multiplier(text: str, width_dots: int, max_mult: int) -> int:
    """The largest character multiplier (1..max_mult) at which ``text`` fits on one line."""
    fit = width_dots // (CELL_W * max(len(text), 1))
    return max(1, min(max_mult, fit, 8))


def block_height(block: TextBlock) -> int:
    return CELL_H * block.height_mult + LINE_GAP


@functools.lru_cache(maxsize=256)
def _glyph(ch: str, bold: bool, scale: int) -> Image.Image:
    """One character cell at ``scale`` x font A size, grey (L), white background."""
    font = load_font(MONO_BOLD if bold else MONO, 20 * scale)
    cell = Image.new("L", (CELL_W * scale, CELL_H * scale), 255)
    ImageDraw.Draw(cell).text((CELL_W * scale / 2, 0), ch, font=font, fill=0, anchor="ma")
    return cell


def draw_line(block: TextBlock, width_dots: int) -> Image.Image:
    """What a native line looks like on paper (approximation of font A), mode "1".

    Used for previews only; the printer draws its own font. Characters sit in
    fixed cells like on the printer, so widths and alignment match the paper.
    """
    w, h = block.width_mult, block.height_mult
    scale = min(w, h)
    text_w = len(block.text) * CELL_W * w
    line = Image.new("L", (max(text_w, 1), CELL_H * h), 255)
    for i, ch in enumerate(block.text):
        if ch == " ":
            continue
        cell = _glyph(ch, block.bold, scale)
        if cell.size != (CELL_W * w, CELL_H * h):
            cell = cell.resize((CELL_W * w, CELL_H * h), Image.Resampling.LANCZOS)
        line.paste(cell, (i * CELL_W * w, 0))
    out = Image.new("L", (width_dots, block_height(block)), 255)
    x = {"left": 0, "center": (width_dots - text_w) // 2, "right": width_dots - text_w}[block.align]
    out.paste(line, (max(x, 0), 0))
    return out.point(lambda v: 0 if v < 128 else 255, mode="1")
